"""Backbone boot test: one image, booted with SeaBIOS or OVMF.

Checks, through the serial console: the banner; a declared program ran;
/ is read-only (EROFS); /var is writable and survives a reboot that left it
clean; poweroff ends QEMU with status 0 within a bounded time.

The case slot-b boots slot B of a copy of the image through GRUB (slot_b).
"""

import os
import re
import secrets
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from slots import SlotImage  # noqa: E402
from wispvm import BANNER, BOOT_TIMEOUT, VM, BootError, check, run_test  # noqa: E402

POWEROFF_TIMEOUT = 30


def firmware_was(vm, firmware):
    """The kernel says which firmware started it: /sys/firmware/efi exists
    only on a UEFI boot (and then init mounts efivarfs, read-only)."""
    _, out = vm.sh("test -d /sys/firmware/efi; echo efi=$?; grep efivarfs /proc/mounts")
    if firmware == "uefi":
        check("efi=0" in out and re.search(
              r"(?m)^efivarfs /sys/firmware/efi/efivars efivarfs ro,", out),
              "booted through UEFI: /sys/firmware/efi, efivarfs read-only: %r" % out.strip())
    else:
        check("efi=1" in out and "efivarfs" not in out,
              "booted through BIOS: no /sys/firmware/efi, no efivarfs: %r" % out.strip())


def first_boot(vm, version, token, firmware):
    m = vm.expect(BANNER, BOOT_TIMEOUT)
    check(m.group(1) == version, "banner names Wisp %s (got %s)" % (version, m.group(1)))
    vm.boot(r"init: hello exited with status 0", banner=False, shell_timeout=60)
    rc, out = vm.sh("cat /run/hello/ran")
    check(rc == 0 and out.strip(), "declared program 'hello' left /run/hello/ran")
    rc, out = vm.sh("cat /var/log/wisp/hello.log")
    check(rc == 0 and "hello: Wisp demo service ran on" in out,
          "hello's output is in /var/log/wisp/hello.log: %r" % out.strip())
    rc, out = vm.sh("echo x > /probe 2>&1; echo status=$?")
    check("Read-only file system" in out, "write to / fails with EROFS: %r" % out.strip())
    rc, out = vm.sh("grep ' / ' /proc/mounts")
    check(" erofs ro" in out, "/ is erofs mounted ro: %r" % out.strip())
    rc, out = vm.sh("cat /proc/cmdline")
    check("root=PARTUUID=" in out, "the kernel mounted ROOT by PARTUUID: %r" % out.strip())
    rc, out = vm.sh("find / -xdev \\( -perm -4000 -o -perm -2000 \\) -print | wc -l")
    check(rc == 0 and out.strip() == "0", "no setuid or setgid file in ROOT (found %s)" % out.strip())
    rc, out = vm.sh("grep ' /var ' /proc/mounts")
    check(" ext4 rw" in out, "/var is ext4 mounted rw: %r" % out.strip())
    firmware_was(vm, firmware)
    rc, _ = vm.sh("echo %s > /var/persist && sync" % token)
    check(rc == 0, "wrote a file in /var")


def second_boot(vm, token):
    vm.send("reboot\n")
    vm.expect(r"init: .*reboot", 30)
    vm.expect(BANNER, BOOT_TIMEOUT)
    # e2fsck -p says "clean" only if the last shutdown unmounted /var cleanly.
    m = vm.expect(r"(\S+): (clean|recovering journal)", 120)
    check(m.group(2) == "clean", "STATE was clean after the reboot (%s)" % m.group(0))
    vm.boot(banner=False, shell_timeout=60)
    rc, out = vm.sh("cat /var/persist")
    check(rc == 0 and out.strip() == token, "the file in /var survived the reboot")


def ctrl_alt_del(vm):
    # With RB_DISABLE_CAD the kernel turns ctrl-alt-del into SIGINT to init:
    # the serial console has no keyboard, so send the signal itself.
    vm.send("kill -INT 1\n")
    vm.expect(r"init: SIGINT from pid \d+: shutting down for reboot", 30)
    vm.boot(shell_timeout=60)
    rc, out = vm.sh("cat /proc/1/comm")
    check(rc == 0 and out.strip() == "init", "SIGINT (ctrl-alt-del) rebooted into init")


def poweroff(vm):
    vm.send("poweroff\n")
    t0 = time.monotonic()
    status = vm.wait_exit(POWEROFF_TIMEOUT)
    took = time.monotonic() - t0
    check(status == 0, "poweroff ended QEMU with status 0 (got %d) in %.1f s" % (status, took))


def halt(image, firmware):
    """busybox halt (SIGUSR1): an orderly shutdown that stops the machine without powering off."""
    with VM(image, firmware=firmware, name="halt-" + firmware) as vm:
        vm.expect(BANNER, BOOT_TIMEOUT)
        vm.wait_shell()
        vm.send("halt\n")
        vm.expect(r"init: SIGUSR1 from pid \d+: shutting down for halt", 30)
        vm.expect(r"init: unmounted /var", 30)
        vm.expect(r"init: reached shutdown target: halt", 30)
        vm.expect(r"reboot: System halted", 30)
        check(vm.proc.poll() is None, "halt stopped the machine and left QEMU running (not powered off)")


def main(firmware, image="build/wisp.img"):
    version = os.environ.get("WISP_VERSION", "")
    token = secrets.token_hex(8)
    with VM(image, firmware=firmware, name="boot-" + firmware) as vm:
        first_boot(vm, version, token, firmware)
        second_boot(vm, token)
        ctrl_alt_del(vm)
        poweroff(vm)
        halt(image, firmware)


def console_shows(vm, pattern, timeout):
    """The first match of pattern in all of VM's console output, waited for, also
    after a kernel panic (where VM.expect stops)."""
    rx = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while True:
        with vm.lock:
            m = rx.search(vm.buf)
        if m:
            return m
        if time.monotonic() > deadline or vm.proc.poll() is not None:
            raise BootError("%s: no %r on the console (see %s)" % (vm.name, pattern, vm.logpath))
        time.sleep(0.5)


def booted_slot_b(vm, firmware, root_b):
    """GRUB chose slot B, the kernel came from /B/vmlinuz and mounted ROOT-B as /, and
    the system came up to its provisioned state."""
    vm.expect(r"Booting `Wisp \S+ \(slot B\)'", BOOT_TIMEOUT)
    vm.boot(shell_timeout=60)
    _, out = vm.sh("cat /proc/cmdline")
    check(re.match(r"BOOT_IMAGE=/B/vmlinuz root=PARTUUID=%s " % root_b, out.strip()),
          "GRUB started /B/vmlinuz with root=PARTUUID=<ROOT-B> %s: %r" % (root_b, out.strip()))
    _, out = vm.sh("cat /proc/self/mountinfo")
    # Fields: id, parent, major:minor, root, mount point, options, optional fields
    # up to "-", then the type.
    root = [f for f in map(str.split, out.splitlines()) if f[4:5] == ["/"]]
    check(len(root) == 1 and root[0][root[0].index("-") + 1] == "erofs"
          and root[0][5].split(",")[0] == "ro", "one mount on /, EROFS read-only: %r" % root)
    _, out = vm.sh("cat /sys/dev/block/%s/uevent" % root[0][2])
    check("DEVNAME=vda4" in out.split() and "PARTN=4" in out.split(),
          "/ is mounted from partition 4 (ROOT-B), device %s: %r" % (root[0][2], out.split()))
    firmware_was(vm, firmware)


def slot_b(image="build/wisp.img"):
    """Slot B of a copy of IMAGE written as an update would (docs/image-spec.md), in
    steps, each booted under UEFI: wisp_slot=B alone makes GRUB look for a kernel that
    is not there; with /B/vmlinuz the kernel fails to mount the still empty ROOT-B
    (so it is B that is booted); with ROOT-B written too slot B boots, under UEFI
    and BIOS."""
    img = SlotImage(image, os.path.join(os.environ.get("B", "build"), "tests", "slot-b.img"))
    root_b = img.parts["ROOT-B"].partuuid
    img.set_slot("B")
    with VM(img.path, firmware="uefi", name="slot-b-nokernel") as vm:
        m = console_shows(vm, r"Booting `Wisp \S+ \(slot (\S+)\)'", BOOT_TIMEOUT)
        check(m.group(1) == "B", "GRUB chose the entry of grubenv's wisp_slot=B (%s)" % m.group(0))
        console_shows(vm, r"error: file `/B/vmlinuz' not found", 30)
        check("Linux version" not in vm.buf, "wisp_slot=B without /B/vmlinuz: GRUB finds no kernel")
    img.copy_kernel("A", "B")
    with VM(img.path, firmware="uefi", name="slot-b-noroot") as vm:
        m = console_shows(vm, r"Command line: (.*)\n", BOOT_TIMEOUT)
        check(m.group(1).startswith("BOOT_IMAGE=/B/vmlinuz root=PARTUUID=%s " % root_b),
              "GRUB started /B/vmlinuz with root=PARTUUID=<ROOT-B>: %r" % m.group(1))
        # Either the kernel gives up on ROOT-B, or init's banner: a root from elsewhere.
        m = console_shows(vm, r"Kernel panic - not syncing: VFS: Unable to mount root fs on "
                          r"unknown-block\(\d+,(\d+)\)|" + BANNER.pattern, 120)
        check(m.group(1) == "4", "with ROOT-B still zero the kernel finds no root on partition "
              "4 (ROOT-B): %r" % m.group(0))
    img.copy_root("ROOT-A", "ROOT-B")
    for firmware in ("uefi", "bios"):
        with VM(img.path, firmware=firmware, name="slot-b-" + firmware) as vm:
            booted_slot_b(vm, firmware, root_b)


if __name__ == "__main__":
    case = sys.argv[1]
    body = (lambda: slot_b(*sys.argv[2:3])) if case == "slot-b" else (lambda: main(*sys.argv[1:3]))
    sys.exit(run_test("boot-" + case, body))
