"""An update end to end (docs/update.md): the build's image (Wisp WISP_VERSION) and the
bundle of Wisp 0.2.0 (tests/update/update.mk: the same image with init and the updater
built as 0.2.0, signed with the test key that the image trusts).

One disk (a qcow2 overlay of the image) through every boot:
1. v1: the bundle arrives on a second disk and streams into `wispctl update apply -`;
   `update status` names slot B, 0.2.0, as next; the running slot is not touched.
2. reboot: GRUB boots slot B on trial, the banner says 0.2.0, the command line names
   ROOT-B and the bundle's root hash, / is the verity device over partition 4; the
   trial ends (provision's boot-good unit runs mark-good): status says B is good, A
   previous. The v1 bundle is refused as a downgrade, a bundle with one byte changed as
   untrusted, and nothing is written for either.
3. `update rollback`, reboot: slot A, v1 again.
"""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from slots import partitions  # noqa: E402
from test_boot import read_verity, verified_root  # noqa: E402
from wispvm import BANNER, BOOT_TIMEOUT, VM, check, run_test  # noqa: E402

V2 = "0.2.0"


def disk_of(path, dst):
    """PATH padded with zeros to whole sectors (a raw disk for QEMU); its length."""
    size = os.path.getsize(path)
    shutil.copyfile(path, dst)
    with open(dst, "ab") as f:
        f.write(b"\0" * (-size % 512))
    return size


def drive(path, index):
    return ["-drive", "file=%s,format=raw,if=virtio,readonly=on,index=%d" % (path, index)]


def status(vm):
    rc, out = vm.sh("wispctl update status", timeout=60)
    check(rc == 0, "wispctl update status: %r" % out)
    return out


def apply_v2(vm, size, slot_a):
    rc, before = vm.sh("sha256sum /dev/%s" % slot_a, timeout=120)
    rc, out = vm.sh("head -c %d /dev/vdb | wispctl update apply -" % size, timeout=600)
    check(rc == 0 and "update: writing Wisp %s to slot B" % V2 in out,
          "apply streamed the bundle into slot B: %r" % out)
    _, after = vm.sh("sha256sum /dev/%s" % slot_a, timeout=120)
    check(before.split()[0] == after.split()[0], "the running slot's partition is unchanged")
    out = status(vm)
    check(re.search(r"slot B: %s\s+next" % re.escape(V2), out)
          and re.search(r"slot A: \S+\s+booted\s+previous", out)
          and "trial: slot B, 3 tries left" in out, "status after apply: %r" % out)


def refused(vm, cmd, why, name):
    rc, out = vm.sh(cmd, timeout=300)
    check(rc == 1 and why in out, "%s refused: %r" % (name, out.strip()))


def on_v2(vm, img, v1_size, bad_size):
    vm.expect(r"Booting `Wisp \(slot B\)'", BOOT_TIMEOUT)
    vm.expect(r"Wisp %s, slot B" % re.escape(V2), 30)
    m = vm.expect(BANNER, BOOT_TIMEOUT)
    check(m.group(1) == V2, "the banner shows Wisp %s (%s)" % (V2, m.group(1)))
    vm.boot(banner=False, shell_timeout=120)
    verified_root(vm, partitions(img)["ROOT-B"].partuuid, "4", read_verity("build/v2/wisp.img"))
    rc, out = vm.sh("for i in $(seq 300); do wispctl status boot-good | grep -q 'state: *done' "
                    "&& break; sleep 1; done; wispctl status boot-good; "
                    "cat /var/log/wisp/boot-good.log", timeout=330)
    check("wisp-update: slot B is good" in out, "boot-good marked slot B good: %r" % out)
    out = status(vm)
    check(re.search(r"slot B: %s\s+booted\s+next" % re.escape(V2), out)
          and re.search(r"slot A: \S+\s+previous", out) and "trial: none (slot B is good)" in out,
          "status: B booted and good, A previous: %r" % out)
    refused(vm, "head -c %d /dev/vdc | wispctl update apply - 2>&1" % v1_size,
            "is not newer than the running %s" % V2, "the v1 bundle (a downgrade)")
    refused(vm, "head -c %d /dev/vdd | wispctl update apply - 2>&1" % bad_size,
            "signature", "a bundle with a changed manifest byte")
    out = status(vm)
    check("trial: none (slot B is good)" in out, "nothing changed by the refusals: %r" % out)


def main(image="build/wisp.img", bundle="build/v2/wisp-update.bundle"):
    work = os.path.join(os.environ.get("B", "build"), "tests", "update")
    os.makedirs(work, exist_ok=True)
    disk = os.path.join(work, "disk.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b",
                    os.path.abspath(image), disk], check=True)
    size = disk_of(bundle, os.path.join(work, "v2.bundle"))
    v1_size = disk_of("build/wisp-update.bundle", os.path.join(work, "v1.bundle"))
    bad_size = disk_of(bundle, os.path.join(work, "bad.bundle"))
    with open(os.path.join(work, "bad.bundle"), "r+b") as f:
        head = f.read(256)
        i = head.index(b"variant: ") + len(b"variant: ")
        f.seek(i)
        f.write(bytes([head[i] ^ 0x20]))  # "wisp" -> "Wisp": signed bytes changed
    extra = (drive(os.path.join(work, "v2.bundle"), 1) + drive(os.path.join(work, "v1.bundle"), 2)
             + drive(os.path.join(work, "bad.bundle"), 3))
    with VM(image, firmware="bios", name="update", overlay=disk, extra=extra) as vm:
        vm.boot(shell_timeout=120)
        apply_v2(vm, size, "vda3")
        vm.send("reboot\n")
        on_v2(vm, image, v1_size, bad_size)
        rc, out = vm.sh("wispctl update rollback", timeout=60)
        check(rc == 0 and "the next boot is slot A" in out, "rollback: %r" % out)
        vm.send("reboot\n")
        vm.expect(r"Booting `Wisp \(slot A\)'", BOOT_TIMEOUT)
        m = vm.expect(BANNER, BOOT_TIMEOUT)
        check(m.group(1) == os.environ.get("WISP_VERSION", ""),
              "after the rollback the banner shows Wisp %s again" % m.group(1))
        vm.boot(banner=False, shell_timeout=120)
        out = status(vm)
        check(re.search(r"slot A: \S+\s+booted\s+next", out)
              and re.search(r"slot B: %s\s+previous" % re.escape(V2), out),
              "status after the rollback: %r" % out)


if __name__ == "__main__":
    sys.exit(run_test("update", lambda: main(*sys.argv[1:3])))
