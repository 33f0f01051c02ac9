"""Kernel time to init under TCG, from the kernel's own printk timestamps.

Boots build/wisp.kernel directly (-kernel, cmdline from build/wisp.cmdline)
and, for comparison in the same run, the whole disk image through SeaBIOS
and GRUB. Prints the median of N boots for each.
"""

import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "system"))
from wispvm import VM, BANNER  # noqa: E402

RUN_INIT = re.compile(r"\[\s*([0-9]+\.[0-9]+)\] Run /sbin/init as init process")


def one(b, direct, i):
    kw = {}
    if direct:
        with open(os.path.join(b, "wisp.cmdline")) as f:
            kw = dict(kernel=os.path.join(b, "wisp.kernel"), cmdline=f.read().strip())
    vm = VM(os.path.join(b, "wisp.img"), name="bench-%s-%d" % ("direct" if direct else "bios", i),
            logdir=os.path.join(b, "bench"), **kw)
    try:
        t0 = time.monotonic()
        m_init = vm.expect(RUN_INIT, 180)
        m_ban = vm.expect(BANNER, 60)
        wall = time.monotonic() - t0
        return float(m_init.group(1)), float(m_ban.group(2)), wall
    finally:
        vm.close()


def main():
    b = sys.argv[1]
    n = int(sys.argv[2])
    for direct in (True, False):
        runs = [one(b, direct, i) for i in range(n)]
        label = "direct_kernel" if direct else "bios_grub"
        print("%s kernel_to_init_s median %.3f  init_banner_uptime_s median %.3f  "
              "qemu_start_to_banner_wall_s median %.2f  (n=%d)" % (
                  label, statistics.median(r[0] for r in runs),
                  statistics.median(r[1] for r in runs),
                  statistics.median(r[2] for r in runs), n))


if __name__ == "__main__":
    main()
