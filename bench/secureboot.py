"""What Secure Boot and the measured boot cost a boot (docs/image-spec.md, "Secure
Boot"; docs/security.md, "Measured boot"): QEMU's start
to the kernel's first line ("Linux version": firmware and GRUB, which under Secure
Boot checks grub.cfg's, slot.cfg's and the kernel's signatures) and to init's banner,
under TCG, wall clock. Boots interleaved, N of each:
  - uefi: build/wisp.img under OVMF (OVMF_CODE_4M.fd);
  - uefi-secureboot: build/secureboot/wisp.img (the same spec, signed) under OVMF's
    Secure Boot (q35 with SMM, Debian's snakeoil key enrolled);
  - uefi-signed: the signed image under the plain OVMF, to tell the firmware's share
    (SMM, its own check of GRUB) from GRUB's checks;
  - uefi-tpm: build/wisp.img under OVMF with a TPM 2.0 (swtpm, TIS): the firmware and
    GRUB measure (GRUB hashes grub.cfg, slot.cfg and the kernel for PCR 9).
Prints the medians and the ratios to uefi:
  python3 bench/secureboot.py [N]
"""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "system"))
from wispvm import BANNER, VM  # noqa: E402

B = os.environ.get("B", "build")
CASES = (("uefi", os.path.join(B, "wisp.img"), "uefi", None),
         ("uefi-secureboot", os.path.join(B, "secureboot", "wisp.img"), "uefi-secureboot", None),
         ("uefi-signed", os.path.join(B, "secureboot", "wisp.img"), "uefi", None),
         ("uefi-tpm", os.path.join(B, "wisp.img"), "uefi", "tis"))


def one(name, image, firmware, tpm, i):
    with VM(image, firmware=firmware, name="bench-sb-%s-%d" % (name, i),
            logdir=os.path.join(B, "bench"), tpm=tpm) as vm:
        vm.expect(r"Linux version", 300)
        kernel = time.monotonic() - vm.started
        vm.expect(BANNER, 300)
        return kernel, time.monotonic() - vm.started


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    got = {name: ([], []) for name, _, _, _ in CASES}
    for i in range(n):
        for name, image, firmware, tpm in CASES:
            k, b = one(name, image, firmware, tpm, i)
            got[name][0].append(k)
            got[name][1].append(b)
    base = [statistics.median(v) for v in got["uefi"]]
    for name, _, _, _ in CASES:
        k, b = (statistics.median(v) for v in got[name])
        print("%-16s to the kernel %.2f s (x%.2f), to init's banner %.2f s (x%.2f)  "
              "(n=%d; kernel: %s)" % (name, k, k / base[0], b, b / base[1], n,
                                      " ".join("%.2f" % x for x in got[name][0])))


if __name__ == "__main__":
    main()
