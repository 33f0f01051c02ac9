"""Backbone boot test: one image, booted with SeaBIOS or OVMF.

Checks, through the serial console: the banner; a declared program ran;
/ is read-only (EROFS); /var is writable and survives a reboot that left it
clean; poweroff ends QEMU with status 0 within a bounded time.
"""

import os
import re
import secrets
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from wispvm import BANNER, BOOT_TIMEOUT, VM, check, run_test  # noqa: E402

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


if __name__ == "__main__":
    sys.exit(run_test("boot-" + sys.argv[1], lambda: main(*sys.argv[1:3])))
