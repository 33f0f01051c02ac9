"""What the verified root costs a boot, under TCG (issue 14).

The same kernel and disk image booted directly (-kernel) N times each way, alternating:
with slot A's command line as image-builder wrote it (build/wisp.cmdline: the kernel
makes the dm-verity device and every block read from ROOT is hashed), and with the
root mounted straight from the partition (root=PARTUUID=<ROOT-A>: erofs ignores the
tree after its data). Prints the medians of the kernel's timestamp at "Run /sbin/init",
init's banner uptime and the time from QEMU's start to the console shell, and the
differences.

usage: python3 bench/verity_cost.py [BUILD_DIR] [N]
"""

import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "system"))
from slots import partitions  # noqa: E402
from wispvm import VM  # noqa: E402

RUN_INIT = re.compile(r"\[\s*([0-9]+\.[0-9]+)\] Run /sbin/init as init process")
BANNER = re.compile(r"Wisp \S+ init: started at uptime ([0-9]+\.[0-9]+) s")


def plain_cmdline(cmdline, partuuid):
    """The verity line without the device mapper: root straight from the partition."""
    tail = cmdline.split(" rootfstype=erofs ", 1)[1]
    return "root=PARTUUID=%s ro rootfstype=erofs rootwait %s" % (partuuid, tail)


def one(b, cmdline, name):
    vm = VM(os.path.join(b, "wisp.img"), name=name, logdir=os.path.join(b, "bench"),
            kernel=os.path.join(b, "wisp.kernel"), cmdline=cmdline)
    try:
        t0 = time.monotonic()
        m_init = vm.expect(RUN_INIT, 180)
        m_ban = vm.expect(BANNER, 60)
        vm.wait_shell(120)
        return float(m_init.group(1)), float(m_ban.group(1)), time.monotonic() - t0
    finally:
        vm.close()


def main():
    b = sys.argv[1] if len(sys.argv) > 1 else "build"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with open(os.path.join(b, "wisp.cmdline")) as f:
        verity = f.read().strip()
    plain = plain_cmdline(verity, partitions(os.path.join(b, "wisp.img"))["ROOT-A"].partuuid)
    runs = {"verity": [], "plain": []}
    for i in range(n):
        runs["verity"].append(one(b, verity, "verity-%d" % i))
        runs["plain"].append(one(b, plain, "plain-%d" % i))
    med = {k: [statistics.median(r[j] for r in v) for j in range(3)] for k, v in runs.items()}
    for k in ("plain", "verity"):
        print("%-6s kernel_to_init_s %.3f  init_banner_uptime_s %.3f  qemu_to_shell_s %.2f  (n=%d)"
              % (k, med[k][0], med[k][1], med[k][2], n))
    print("verity_cost kernel_to_init_s %+.3f  init_banner_uptime_s %+.3f  qemu_to_shell_s %+.2f"
          % tuple(med["verity"][j] - med["plain"][j] for j in range(3)))


if __name__ == "__main__":
    main()
