"""`make run` as the README gives it: tests/system/qemu-run.sh, the script
`make run` executes, boots the default image (build/wisp.img) with its own
QEMU arguments (-smp 2, the monitor multiplexed on stdio, QEMU's user
network, a qcow2 overlay next to the image), driven through its stdio as a
user's terminal would be.

Three runs of the same image, in a directory of their own (the overlay and
the UEFI variables land next to the image, so build/ is left alone):
  1. WISP_PERSIST=1 WISP_FIRMWARE=uefi: the console shell answers, both
     vCPUs are up, the firmware was UEFI (efivarfs, mounted read-only),
     eth0 gets QEMU's user-network address, Ctrl-a c reaches the monitor and
     back; a file in /var and a UEFI variable are written; `poweroff`, and
     QEMU exits 0.
  2. The same again: the file and the variable are still there (the overlay
     and the variable store were kept); `poweroff`, exit 0.
  3. Neither variable set (BIOS, a throw-away overlay): the file is gone and
     there is no UEFI; `poweroff`, exit 0.
"""

import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wispvm import VM, BootError, check, run_test, wait_sh  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGE = os.path.abspath("build/wisp.img")
DIR = os.path.abspath("build/tests/run")
MARK = "/var/wisp-run-test"
# A variable of our own vendor GUID: attributes NV|BS|RT (7, little-endian),
# then the data.
EFIVARS = "/sys/firmware/efi/efivars"
VAR = EFIVARS + "/WispRunTest-d3a7f1b6-5c2e-4f8a-9b61-7769737072ff"


def start(n, **env):
    e = dict(os.environ)
    for k in ("WISP_PERSIST", "WISP_FIRMWARE"):
        e.pop(k, None)
    e.update(env)
    vm = VM(None, name="run-%d" % n, command=["sh", os.path.join(HERE, "qemu-run.sh"),
                                              os.path.join(DIR, "wisp.img")], env=e)
    fw = env.get("WISP_FIRMWARE", "bios")
    vm.expect(r"Booting \S+/wisp\.img under QEMU \(%s, (TCG|KVM)\)" % fw, 30)
    vm.boot()
    return vm


def poweroff(vm):
    vm.send("poweroff\n")
    rc = vm.wait_exit(120)
    check(rc == 0, "%s: poweroff at the prompt, QEMU exits 0 (got %s)" % (vm.name, rc))


def first(vm):
    rc, out = vm.sh("grep -c ^processor /proc/cpuinfo")
    check(rc == 0 and out.strip() == "2", "-smp 2: the guest runs on 2 vCPUs (%r)" % out.strip())
    rc, out = vm.sh("grep ' %s ' /proc/mounts" % EFIVARS)
    check(re.match(r"efivarfs %s efivarfs ro,nosuid,nodev,noexec" % EFIVARS, out),
          "UEFI boot: efivarfs mounted, read-only: %r" % out.strip())
    wait_sh(vm, "ip -4 addr show eth0", lambda rc, o: "inet 10.0.2.15/24" in o,
            "user network: eth0 has 10.0.2.15")
    vm.send("\x01c")
    vm.expect(r"\(qemu\) ", 30)
    vm.send("info cpus\n")
    m = vm.expect(r"CPU #1: thread_id=\d+", 30)
    check(m is not None, "Ctrl-a c: the monitor on stdio answers, CPU #1 listed")
    vm.send("\x01c")
    vm.wait_shell(30)
    rc, out = vm.sh("echo run-1 > %s && sync && cat %s" % (MARK, MARK))
    check(rc == 0 and out.strip() == "run-1", "a file written in /var")
    rc, out = vm.sh("mount -o remount,rw %s && printf '\\007\\000\\000\\000run-1' > %s;"
                    " r=$?; mount -o remount,ro %s; (exit $r)" % (EFIVARS, VAR, EFIVARS))
    check(rc == 0, "a UEFI variable written through efivarfs: %r" % out.strip())


def second(vm):
    rc, out = vm.sh("cat %s" % MARK)
    check(rc == 0 and out.strip() == "run-1", "WISP_PERSIST=1: the file of run 1 is there")
    # value and newline in one write: an init line printed meanwhile (which
    # strip_init_lines drops) then cannot run into the value
    rc, out = vm.sh("printf '%%s\\n' \"$(tail -c +5 %s)\"" % VAR)
    check(rc == 0 and out.strip() == "run-1",
          "WISP_PERSIST=1: the UEFI variable of run 1 is there: %r" % out.strip())


def third(vm):
    rc, out = vm.sh("cat %s" % MARK)
    check(rc != 0 and "run-1" not in out,
          "without WISP_PERSIST: a new overlay, no file of run 1: %r" % out.strip())
    rc, out = vm.sh("ls /sys/firmware/efi")
    check(rc != 0, "without WISP_FIRMWARE: BIOS, no /sys/firmware/efi")


def main():
    if not os.path.exists(IMAGE):
        raise BootError("%s missing (make)" % IMAGE)
    shutil.rmtree(DIR, ignore_errors=True)
    os.makedirs(DIR)
    os.symlink(IMAGE, os.path.join(DIR, "wisp.img"))
    uefi = {"WISP_PERSIST": "1", "WISP_FIRMWARE": "uefi"}
    for n, env, body in ((1, uefi, first), (2, uefi, second), (3, {}, third)):
        with start(n, **env) as vm:
            body(vm)
            poweroff(vm)


if __name__ == "__main__":
    sys.exit(run_test("run", main))
