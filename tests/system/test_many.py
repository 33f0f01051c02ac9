"""Many units: 300 services declared in /etc/wisp/image.yaml, in one TCG boot.

init holds about five fds for each unit (its log pipe's two ends and its log
file, its cgroup directory, its pidfd while it runs). With the kernel's 1024
for PID 1 they ran out at ~200 units: the units after failed to start, and the
control socket accepted no client (`wispctl: no answer from init`). init raises
its own limit (init/pid1/main.c) and gives every program it starts the kernel's
default back (init/lib/spawn.c), after its setup, whose fds are numbered above
1024 when init holds that many.

Checks: every service runs, each one's log has its line, wispctl answers; init
holds more than 1024 fds (so the test reaches the old limit), and a unit's own
limit is the kernel's default, 1024 (soft) and 4096 (hard).
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from wispvm import (  # noqa: E402
    DIAGNOSE, VM, build_test_image, check, run_test, units, wait_units)

N = 300
SERVICES = "".join(
    "  - name: s%d\n    command: [sh, -c, 'echo hello from s%d; exec sleep 100000']\n" % (i, i)
    for i in range(N))


def main():
    image = build_test_image("many", services_yaml=SERVICES)
    with VM(image, name="many", diagnose=DIAGNOSE) as vm:
        vm.boot()
        names = ["s%d" % i for i in range(N)]
        u = wait_units(vm, "the %d services running" % N,
                       lambda u: all(u.get(n, {}).get("state") == "running" for n in names), 300)
        rc, out = vm.sh("grep -l 'hello from' /var/log/wisp/s*.log | wc -l")
        check(out.strip() == str(N), "each service's log has its line: %s of %d" % (out.strip(), N))
        rc, out = vm.sh("ls /proc/1/fd | wc -l")
        check(rc == 0 and int(out.split()[-1]) > 1024,
              "init holds more than the kernel's 1024 fds: %s" % out.strip())
        rc, out = vm.sh("grep 'open files' /proc/1/limits /proc/%d/limits" % u["s0"]["pid"])
        lims = re.findall(r"Max open files\s+(\d+)\s+(\d+)", out)
        check(lims == [("65536", "65536"), ("1024", "4096")],
              "init's fd limit 65536, a unit's the kernel's default 1024/4096: %s" % lims)
        u = units(vm)
        check(sum(1 for n in names if u.get(n, {}).get("state") == "running") == N,
              "wispctl still answers, every service running")


if __name__ == "__main__":
    sys.exit(run_test("many", main))
