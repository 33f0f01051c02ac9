"""provision's whole run at boot (issue 11): the default image (build/wisp.img,
no datasource) of each tree, booted interleaved under TCG; per tree the median
of provision's own time as PID 1 logs it ("init: provision done (N ms)": its
exec to its exit, the firewall, network and final units included) and of
init's start to that line. bench/provision.py stops at the cloud-init step
("no datasource"); this one goes on to provision's end, after which the
units of /run/wisp/units start.

    python3 bench/provision_done.py N TREE [TREE...]     (each built with `make`)
"""

import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "system"))
from wispvm import VM, BANNER  # noqa: E402

DONE = r"\[\s*([0-9.]+)\] init: provision done \((\d+) ms\)"


def main():
    n, trees = int(sys.argv[1]), sys.argv[2:]
    res = {t: [] for t in trees}
    with tempfile.TemporaryDirectory() as logs:
        for i in range(n):
            for t in trees:
                vm = VM(os.path.join(t, "build", "wisp.img"), name="provision-done-%d" % i,
                        logdir=logs, mem=256)
                try:
                    start = float(vm.expect(BANNER, 180).group(2))
                    m = vm.expect(DONE, 120)
                    res[t].append((int(m.group(2)), (float(m.group(1)) - start) * 1000))
                finally:
                    vm.close()
    for t in trees:
        own = [x[0] for x in res[t]]
        print("%s: provision_done_ms median %d (all: %s); init_start_to_done_ms median %.0f"
              % (t, statistics.median(own), " ".join(map(str, own)),
                 statistics.median(x[1] for x in res[t])))
    for t in trees[1:]:
        print("%s: provision_done_ms ratio to %s: %.2f" % (
            t, trees[0], statistics.median(x[0] for x in res[t]) /
            statistics.median(x[0] for x in res[trees[0]])))


if __name__ == "__main__":
    main()
