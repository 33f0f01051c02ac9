"""How long an update takes to apply, under TCG (issue 14), and what it weighs.

Boots the build's image (Wisp v1) with the bundle of Wisp 0.2.0 (tests/update/update.mk)
on a second disk and streams it N times into `wispctl update apply -` (each run writes
slot B again: it is the inactive slot every time), timing each from the host (the
console's round trip included, a few ms). Prints the bundle's size, its parts' sizes,
the ratio against Flatcar's full update payloads and the median apply time.

Flatcar's sizes are not measured here (the machine has no network): they are what
Flatcar's own update_engine printed for real updates, quoted in public issue threads
(FLATCAR below: version, bytes, the log line's field, where it was printed).

usage: python3 bench/update_apply.py [BUILD_DIR] [N]   (make update-bundle-v2 first)
"""

import os
import re
import shutil
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "system"))
from wispvm import VM  # noqa: E402


FLATCAR = (
    ("2512.2.0", 482494365, "InstallPlan payload size", "github.com/flatcar/Flatcar/issues/130"),
    ("3760.1.1", 383439327, "InstallPlan payload size", "github.com/flatcar/nebraska/issues/711"),
    ("3815.2.3", 458187266, "update_engine_client NEW_SIZE", "github.com/flatcar/Flatcar/issues/1461"),
)


def against_flatcar(size):
    for version, flatcar, field, where in FLATCAR:
        print("flatcar %s payload_bytes %d (%s, %s)  wisp_bundle/flatcar %.4f  flatcar/wisp %.0fx"
              % (version, flatcar, field, where, size / flatcar, flatcar / size))


def main():
    b = sys.argv[1] if len(sys.argv) > 1 else "build"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    bundle = os.path.join(b, "v2", "wisp-update.bundle")
    size = os.path.getsize(bundle)
    disk = os.path.join(b, "bench", "v2.bundle.disk")
    os.makedirs(os.path.dirname(disk), exist_ok=True)
    shutil.copyfile(bundle, disk)
    with open(disk, "ab") as f:
        f.write(b"\0" * (-size % 512))
    parts = {k: os.path.getsize(os.path.join(b, "v2", "wisp." + k)) for k in ("kernel", "root")}
    times = []
    with VM(os.path.join(b, "wisp.img"), name="bench-apply", logdir=os.path.join(b, "bench"),
            extra=["-drive", "file=%s,format=raw,if=virtio,readonly=on" % disk]) as vm:
        vm.boot(shell_timeout=120)
        for _ in range(n):
            t0 = time.monotonic()
            rc, out = vm.sh("head -c %d /dev/vdb | wispctl update apply - >/dev/null 2>&1" % size,
                            timeout=600)
            times.append(time.monotonic() - t0)
            if rc != 0:
                raise SystemExit("apply failed: %r" % out)
        _, out = vm.sh("wispctl update status")
        if not re.search(r"slot B: 0\.2\.0", out):
            raise SystemExit("status after apply: %r" % out)
    print("bundle_bytes %d  kernel_bytes %d  root_bytes %d (erofs and verity tree)"
          % (size, parts["kernel"], parts["root"]))
    against_flatcar(size)
    print("apply_s median %.2f  min %.2f  max %.2f  (n=%d, TCG, virtio-blk, from a second disk)"
          % (statistics.median(times), min(times), max(times), n))


if __name__ == "__main__":
    main()
