"""Secure Boot (docs/image-spec.md, "Secure Boot"): build/secureboot/wisp.img is the
default spec with `secure_boot:` (Debian's snakeoil test key as the db key, the OpenPGP
test key of tests/keys for GRUB), booted by OVMF with Secure Boot on (SMM, the snakeoil
key enrolled in PK, KEK and db).

- The signed image boots to the provisioned console with its verified root; the UEFI
  SecureBoot variable (UEFI 2.x, 3.3 "Globally Defined Variables") reads 1; GRUB's EFI
  image carries an Authenticode signature sbverify accepts; a second build of the spec
  is the same bytes.
- The kernel locks itself down (integrity) when booted so: root's write of a PCI
  device's configuration space (its interrupt line's byte, written back as it is) is
  refused; booted through SeaBIOS, the same write is taken.
- grubenv is not signed (GRUB writes it): values planted there (kernel arguments in
  wisp_tries, wisp_watch, wisp_prev, wisp_slot) do not reach the kernel's command line.
- What the chain refuses, each on a copy of the image: the unsigned GRUB of
  build/wisp.img (the firmware: Access Denied); a grub.cfg changed by a line (GRUB:
  it loads no menu and its command line asks for a user nobody is); a slot.cfg with
  an argument added (no kernel loaded); a kernel with one bit flipped (bad
  signature). None of them reaches the kernel.
- An update under Secure Boot: a format 1 bundle (no signatures) is refused before
  anything is written; the 0.2.0 bundle made for this spec (format 2: the signatures of
  its kernel and of the slot.cfg the updater writes) goes into slot B, whose trial boot
  GRUB accepts under Secure Boot: Wisp 0.2.0 runs from ROOT-B, verified. The same
  bundle signed for GRUB by another OpenPGP key is written, but its trial boot's
  slot.cfg does not load and GRUB falls back to slot A, which ends the trial.
- The same image boots through SeaBIOS (no signatures there: the BIOS path is as
  before).
"""

import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from slots import SlotImage, partitions  # noqa: E402
from test_boot import firmware_was, read_verity, verified_root  # noqa: E402
from test_update import disk_of, drive  # noqa: E402
from wispvm import BANNER, BOOT_TIMEOUT, VM, BootError, check, run_test  # noqa: E402

B = os.environ.get("B", "build")
SB = os.path.join(B, "secureboot")
IMAGE = os.path.join(SB, "wisp.img")
UNSIGNED = os.path.join(B, "wisp.img")
WORK = os.path.join(B, "tests", "secureboot")
IB = os.path.join(B, "host", "image-builder")
EFI_GLOBAL = "8be4df61-93ca-11d2-aa0d-00e098032b8c"
PLANTED = "init=/bin/sh"
V2 = "0.2.0"
V2_SIGNED = os.path.join(SB, "wisp-update-%s.bundle" % V2)  # tests/system/secureboot.mk
V2_UNSIGNED = os.path.join(B, "v2", "wisp-update.bundle")  # tests/update/update.mk
V2_OTHER_KEY = os.path.join(SB, "wisp-update-%s-other-key.bundle" % V2)
GRUB_TIMEOUT = 120
# The host bridge's interrupt line byte (0x3c) written back as it is: harmless, and
# refused by a kernel locked down (LOCKDOWN_PCI_ACCESS)
PCI_WRITE = ("c=/sys/bus/pci/devices/0000:00:00.0/config; dd if=$c of=/tmp/b bs=1 skip=60 "
             "count=1 2>/dev/null && dd if=/tmp/b of=$c bs=1 seek=60 count=1 conv=notrunc 2>&1")


def signed_files():
    """GRUB's EFI image is signed for the db key: sbverify (sbsigntool) checks it."""
    with tempfile.TemporaryDirectory() as tmp:
        efi = os.path.join(tmp, "BOOTX64.EFI")
        esp = "%s@@%d" % (IMAGE, partitions(IMAGE)["ESP"].offset)
        subprocess.run(["mcopy", "-i", esp, "::/EFI/BOOT/BOOTX64.EFI", efi], check=True,
                       env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))
        p = subprocess.run(["sbverify", "--cert", os.path.join(SB, "db.crt"), efi],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        check(p.returncode == 0, "BOOTX64.EFI's signature is the db key's: %s" % p.stdout.strip())


def reproducible():
    with tempfile.TemporaryDirectory(dir=B) as tmp:
        out = os.path.join(tmp, "again.img")
        subprocess.run([IB, "-C", ".", "-o", out, os.path.join(SB, "wisp.yaml")], check=True,
                       stdout=subprocess.DEVNULL)
        same = subprocess.run(["cmp", "-s", out, IMAGE]).returncode == 0
        check(same, "a second build of the signed image is the same bytes")


def signed_boot():
    """The signed image, grubenv carrying kernel arguments in every variable GRUB reads."""
    img = SlotImage(IMAGE, os.path.join(WORK, "signed.img"))
    img.set_env(wisp_slot="A " + PLANTED, wisp_prev="B " + PLANTED,
                wisp_tries="1 " + PLANTED, wisp_watch=PLANTED)
    with VM(img.path, firmware="uefi-secureboot", name="secureboot") as vm:
        vm.expect(r"Kernel is locked down from EFI Secure Boot;", GRUB_TIMEOUT)
        vm.expect(r"secureboot: Secure boot enabled", GRUB_TIMEOUT)
        vm.boot()
        firmware_was(vm, "uefi")
        # efivarfs: 4 bytes of attributes, then the variable's one byte
        _, out = vm.sh("tail -c 1 /sys/firmware/efi/efivars/SecureBoot-%s | od -b" % EFI_GLOBAL)
        check(out.split()[1:2] == ["001"], "the SecureBoot variable is 1: %r" % out.strip())
        verified_root(vm, partitions(IMAGE)["ROOT-A"].partuuid, "3", read_verity(IMAGE))
        _, out = vm.sh("cat /proc/cmdline")
        check(PLANTED not in out and " wisp.tries= wisp.rollback=" in out,
              "nothing planted in grubenv is on the command line: %r" % out.strip())
        rc, out = vm.sh(PCI_WRITE)
        check(rc != 0 and "Operation not permitted" in out,
              "locked down: a write to PCI configuration space is refused: %r" % out.strip())


def update():
    """The signed image updated to 0.2.0 under Secure Boot, through slot B's trial boot."""
    img = SlotImage(IMAGE, os.path.join(WORK, "update.img"))
    unsigned = disk_of(V2_UNSIGNED, os.path.join(WORK, "vdb"))
    signed = disk_of(V2_SIGNED, os.path.join(WORK, "vdc"))
    with VM(img.path, firmware="uefi-secureboot", name="secureboot-update",
            extra=drive(os.path.join(WORK, "vdb"), 1) + drive(os.path.join(WORK, "vdc"), 2)) as vm:
        vm.boot()
        rc, out = vm.sh("head -c %d /dev/vdb | wispctl update apply - 2>&1" % unsigned,
                        timeout=300)
        check(rc != 0 and "this host's boot files are signed (Secure Boot), and the bundle "
              "(format 1) brings no signatures for slot B's kernel and slot.cfg" in out
              and "writing" not in out,
              "a bundle without signatures is refused before anything is written: %r"
              % out.strip())
        rc, out = vm.sh("head -c %d /dev/vdc | wispctl update apply - 2>&1" % signed,
                        timeout=300)
        check(rc == 0 and "Wisp %s is in slot B" % V2 in out,
              "the format 2 bundle went into slot B: %r" % out.strip())
        vm.send("reboot\n")
        vm.expect(r"Booting `Wisp \(slot B\)'", BOOT_TIMEOUT)
        vm.expect(r"secureboot: Secure boot enabled", BOOT_TIMEOUT)
        m = vm.expect(BANNER, BOOT_TIMEOUT)
        check(m.group(1) == V2, "slot B's trial boot under Secure Boot runs Wisp %s (banner: %s)"
              % (V2, m.group(1)))
        vm.boot(banner=False)
        verified_root(vm, partitions(IMAGE)["ROOT-B"].partuuid, "4",
                      read_verity(os.path.join(B, "v2", "wisp.img")))
        _, out = vm.sh("cat /proc/cmdline")
        check(re.search(r"wisp\.tries=[0-9] ", out) is not None,
              "a trial boot, counted: %r" % out.strip())


def other_key():
    """A format 2 bundle whose signatures GRUB's key did not make: a trial that falls back."""
    img = SlotImage(IMAGE, os.path.join(WORK, "other-key.img"))
    size = disk_of(V2_OTHER_KEY, os.path.join(WORK, "vdd"))
    with VM(img.path, firmware="uefi-secureboot", name="secureboot-other-key",
            extra=drive(os.path.join(WORK, "vdd"), 1)) as vm:
        vm.boot()
        rc, out = vm.sh("head -c %d /dev/vdb | wispctl update apply - 2>&1" % size, timeout=300)
        check(rc == 0, "the updater cannot tell GRUB's key: it writes the bundle: %r"
              % out.strip())
        vm.send("reboot\n")
        vm.expect(r"wisp: slot B: /B/slot\.cfg did not load", BOOT_TIMEOUT)
        m = vm.expect(BANNER, BOOT_TIMEOUT)
        check(m.group(1) == os.environ.get("WISP_VERSION", ""),
              "GRUB refused slot B's slot.cfg and fell back to slot A (banner: %s)"
              % m.group(1))
        vm.boot(banner=False)
        _, out = vm.sh("cat /proc/cmdline")
        check("wisp.slot=A" in out, "slot A runs: %r" % out.strip())


def refused(name, image, tamper, refusal):
    """A copy of IMAGE changed by TAMPER(SlotImage) stops at REFUSAL before any kernel."""
    img = SlotImage(image, os.path.join(WORK, name + ".img"))
    tamper(img)
    with VM(img.path, firmware="uefi-secureboot", name="secureboot-" + name) as vm:
        vm.expect(refusal, GRUB_TIMEOUT)
        with vm.lock:
            seen = vm.buf
        check("Linux version" not in seen and "Booting in blind mode" not in seen,
              "%s: refused (%s), no kernel started" % (name, refusal))


def flip_kernel_bit(img):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "vmlinuz")
        img._mcopy("::/A/vmlinuz", path)
        with open(path, "r+b") as f:
            f.seek(os.path.getsize(path) // 2)
            byte = f.read(1)[0]
            f.seek(-1, os.SEEK_CUR)
            f.write(bytes([byte ^ 1]))
        img._mcopy(path, "::/A/vmlinuz")


def body():
    signed_files()
    reproducible()
    signed_boot()
    update()
    other_key()
    refused("unsigned", UNSIGNED, lambda img: None,
            r"failed to load Boot0001 [^\n]*: Access Denied")
    refused("grub-cfg", IMAGE,
            lambda img: img.write("::/grub/grub.cfg", img.read("::/grub/grub.cfg") + "#\n"),
            r"Enter username:")
    refused("slot-cfg", IMAGE,
            lambda img: img.write("::/A/slot.cfg", img.read("::/A/slot.cfg").replace(
                "wisp_args='", "wisp_args='%s " % PLANTED)),
            r"wisp: slot A: /A/slot\.cfg did not load")
    refused("kernel", IMAGE, flip_kernel_bit, r"error: bad signature")
    with VM(IMAGE, firmware="bios", name="secureboot-bios") as vm:
        vm.boot()
        firmware_was(vm, "bios")
        rc, out = vm.sh(PCI_WRITE)
        check(rc == 0, "not locked down without Secure Boot: the same write is taken: %r"
              % out.strip())


if __name__ == "__main__":
    sys.exit(run_test("secureboot", body, errors=(BootError, subprocess.CalledProcessError)))
