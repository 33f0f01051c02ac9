"""What a network boot costs against a disk's (docs/image-spec.md, "Network boot"):
QEMU's start to the kernel's first line ("Linux version": firmware, the boot loader and
the transfer of kernel and initramfs) and to init's banner, under TCG, wall clock, and
on the kernel's clock the step the initramfs adds: from "Run /init" (netboot) or the
mount of the root (disk: "Run /sbin/init") to init's banner. Boots interleaved, N each:
  - disk-bios: build/wisp.img under SeaBIOS (GRUB, the kernel makes the verified root);
  - pxe-bios: build/cloud/pxe under SeaBIOS, no disk: QEMU's iPXE ROM, boot.ipxe, the
    kernel and initrd.img over TFTP (QEMU's user network); /init makes the root;
  - disk-uefi: build/wisp.img under OVMF;
  - pxe-uefi: build/cloud/pxe under OVMF: the ROM's EFI iPXE, grubx64.efi, grub.cfg.
Prints the medians and the ratios to each firmware's disk boot:
  python3 bench/netboot.py [N]
"""

import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "system"))
from wispvm import BANNER, VM  # noqa: E402
from test_pxe import PXE, netboot  # noqa: E402

B = os.environ.get("B", "build")
IMAGE = os.path.join(B, "wisp.img")
CASES = (("disk-bios", "bios", None), ("pxe-bios", "bios", "boot.ipxe"),
         ("disk-uefi", "uefi", None), ("pxe-uefi", "uefi", "grubx64.efi"))
RUN = re.compile(r"\[\s*(\d+\.\d+)\] Run (/init|/sbin/init) as init process")


def one(name, firmware, bootfile, i):
    kw = dict(firmware=firmware, name="bench-net-%s-%d" % (name, i),
              logdir=os.path.join(B, "bench"))
    if bootfile:
        kw.update(disk_bus=None, mem=768, extra=netboot(PXE, None, bootfile))
    with VM(None if bootfile else IMAGE, **kw) as vm:
        vm.expect(r"Linux version", 300)
        kernel = time.monotonic() - vm.started
        run = vm.expect(RUN, 300)
        banner = vm.expect(BANNER, 300)
        step = float(banner.group(2)) - float(run.group(1))
        return kernel, time.monotonic() - vm.started, step * 1000


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    got = {name: ([], [], []) for name, _, _ in CASES}
    for i in range(n):
        for name, firmware, bootfile in CASES:
            for series, v in zip(got[name], one(name, firmware, bootfile, i)):
                series.append(v)
    for name, firmware, _ in CASES:
        base = [statistics.median(v) for v in got["disk-" + firmware]]
        k, b, s = (statistics.median(v) for v in got[name])
        print("%-10s to the kernel %.2f s (x%.2f), to init's banner %.2f s (x%.2f), "
              "Run init -> banner %.0f ms (disk's %.0f)  (n=%d; banner: %s)"
              % (name, k, k / base[0], b, b / base[1], s, base[2], n,
                 " ".join("%.2f" % x for x in got[name][1])))


if __name__ == "__main__":
    main()
