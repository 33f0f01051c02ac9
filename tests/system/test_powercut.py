"""Power cuts during an update (docs/update.md): QEMU killed (SIGKILL: whatever the guest
had not flushed is lost, as in a power cut) at a random moment while `wispctl update
apply` writes the 0.2.0 bundle, and at a random moment of a trial boot of slot B (while
mark-good runs, or around it), N times each (WISP_POWERCUT_N, 20 by default). Every next
boot must come up on a good slot: to the console shell, with / a verified root, and
`wispctl update status` answering, on the slot grubenv names. Two cases are not random:
the cut right after apply reports the update (the next boot is the update's), and a trial
slot whose kernel is gone (GRUB falls back to the previous slot and the trial ends).

The random moments are printed (seeded from WISP_POWERCUT_SEED, or the time) so that a
failure can be replayed.
"""

import os
import random
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from test_update import disk_of  # noqa: E402
from wispvm import (  # noqa: E402
    BANNER, BOOT_TIMEOUT, VM, check, make_overlay as overlay, run_test)

N = int(os.environ.get("WISP_POWERCUT_N", "20"))


def comes_up(image, disk, name):
    """The next boot after a cut: up to the shell, on a verified root, status answering.
    Returns the version the banner named and the status text."""
    with VM(image, firmware="bios", name=name, overlay=disk) as vm:
        m = vm.expect(BANNER, BOOT_TIMEOUT)
        vm.boot(banner=False, shell_timeout=120)
        _, root = vm.sh("cat /sys/block/dm-0/dm/name; awk '$5 == \"/\" { print $3 }' "
                        "/proc/self/mountinfo; cat /sys/block/dm-0/dev")
        rc, out = vm.sh("wispctl update status", timeout=60)
        words = root.split()
        check(rc == 0 and len(words) == 3 and words[0] == "wisp-root" and words[1] == words[2],
              "%s: up on Wisp %s, / the verified root, status: %r"
              % (name, m.group(1), out.replace("\n", "; ")))
        vm.send("poweroff\n")
        vm.wait_exit(60)
    return m.group(1), out


def bundle_drive(bundle, work):
    """The bundle as a read-only second disk (/dev/vdb): its size, QEMU's arguments."""
    path = os.path.join(work, "bundle.disk")
    return disk_of(bundle, path), ["-drive", "file=%s,format=raw,if=virtio,readonly=on" % path]


def cut_apply(image, bundle, work, rng):
    size, extra = bundle_drive(bundle, work)
    for i in range(N):
        disk = overlay(image, os.path.join(work, "apply.qcow2"))
        delay = rng.uniform(0.0, 4.0)
        with VM(image, firmware="bios", name="cut-apply-%d" % i, overlay=disk, extra=extra) as vm:
            vm.boot(shell_timeout=120)
            vm.send("head -c %d /dev/vdb | wispctl update apply -\n" % size)
            time.sleep(delay)  # the moment of the cut: chosen, not waited for
        version, out = comes_up(image, disk, "after-cut-apply-%d" % i)
        b = re.search(r"slot B: (\S+)", out)
        print("  ok: cut %.2f s into apply: the next boot came up on Wisp %s (slot B: %s)"
              % (delay, version, b.group(1) if b else "?"), flush=True)


def cut_after_report(image, bundle, work):
    """The cut right after apply says the update is in slot B: what it reported is
    on disk (every file synced under its final name, docs/update.md), so the next
    boot is the new version's, not the fallback's."""
    size, extra = bundle_drive(bundle, work)
    disk = overlay(image, os.path.join(work, "report.qcow2"))
    with VM(image, firmware="bios", name="cut-after-report", overlay=disk, extra=extra) as vm:
        vm.boot(shell_timeout=120)
        vm.send("head -c %d /dev/vdb | wispctl update apply -\n" % size)
        vm.expect(r"Wisp 0\.2\.0 is in slot B: the next boot tries it", 300)
    version, out = comes_up(image, disk, "after-cut-after-report")
    check(version == "0.2.0" and "slot B: 0.2.0" in out,
          "cut right after apply's report: the next boot is Wisp %s (slot B's trial), "
          "status: %r" % (version, out.replace("\n", "; ")))


def fallback(image, trial, work):
    """Slot B on trial without a kernel GRUB can load (a cut write, a damaged ESP):
    GRUB falls back to slot A (its `fallback`, an entry number), the boot comes up
    there, the trial ends as a rollback said on the console and in status, and the
    next boot goes to slot A without trying B."""
    disk = overlay(trial, os.path.join(work, "fallback.qcow2"))
    with VM(image, firmware="bios", name="fallback-damage", overlay=disk,
            kernel="build/wisp.kernel", cmdline=open("build/wisp.cmdline").read().strip()) as vm:
        vm.boot(shell_timeout=120)
        rc, out = vm.sh("mkdir -p /run/esp && mount -t vfat /dev/vda2 /run/esp && "
                        "rm /run/esp/B/vmlinuz && umount /run/esp && wispctl update status",
                        timeout=120)
        check(rc == 0 and "trial: slot B" in out,
              "slot B on trial, its kernel gone from the ESP: %r" % out)
        vm.send("poweroff\n")
        vm.wait_exit(60)
    with VM(image, firmware="bios", name="fallback", overlay=disk) as vm:
        vm.expect(r"Booting `Wisp \(slot B\)'", BOOT_TIMEOUT)
        vm.expect(r"Falling back to `Wisp \(slot A\)'", BOOT_TIMEOUT)
        m = vm.expect(BANNER, BOOT_TIMEOUT)
        vm.expect(r"slot B's trial ended: GRUB booted slot A instead; slot B was rolled back",
                  120)
        vm.boot(banner=False, shell_timeout=120)
        rc, out = vm.sh("wispctl update status", timeout=60)
        check(m.group(1) == "0.1.0" and rc == 0 and "slot A: 0.1.0       booted  next" in out
              and "trial: none (slot A is good)" in out
              and "last result: slot B was rolled back (Wisp 0.2.0): GRUB booted slot A "
              "instead" in out,
              "slot B's kernel unreadable: GRUB fell back to Wisp %s, the trial ended: %r"
              % (m.group(1), out.replace("\n", "; ")))
        vm.send("reboot\n")
        g = vm.expect(r"Booting `Wisp \(slot (.)\)'", BOOT_TIMEOUT)
        vm.expect(BANNER, BOOT_TIMEOUT)
        vm.expect(r"slot B \(Wisp 0\.2\.0\) was rolled back: GRUB booted slot A instead", 120)
        check(g.group(1) == "A", "the next boot goes to slot %s (A: no try of B)" % g.group(1))


def trial_image(image, bundle, work):
    """IMAGE with the bundle applied and slot B on trial (not booted yet), as a qcow2."""
    size, extra = bundle_drive(bundle, work)
    disk = overlay(image, os.path.join(work, "trial.qcow2"))
    with VM(image, firmware="bios", name="cut-trial-setup", overlay=disk, extra=extra) as vm:
        vm.boot(shell_timeout=120)
        rc, out = vm.sh("head -c %d /dev/vdb | wispctl update apply -" % size, timeout=300)
        check(rc == 0, "the trial's setup: apply: %r" % out)
        vm.send("poweroff\n")
        vm.wait_exit(60)
    return disk


def cut_trial(image, trial, work, rng):
    for i in range(N):
        disk = overlay(trial, os.path.join(work, "cut.qcow2"))
        delay = rng.uniform(0.0, 8.0)
        with VM(image, firmware="bios", name="cut-trial-%d" % i, overlay=disk) as vm:
            vm.expect(r"Booting `Wisp \(slot B\)'", BOOT_TIMEOUT)
            vm.expect(BANNER, BOOT_TIMEOUT)
            time.sleep(delay)  # from init's start: provisioning, boot-good, mark-good
        version, out = comes_up(image, disk, "after-cut-trial-%d" % i)
        print("  ok: cut %.2f s after the trial's banner: the next boot came up on Wisp %s (%s)"
              % (delay, version, out.strip().splitlines()[-1]), flush=True)


def main(image="build/wisp.img", bundle="build/v2/wisp-update.bundle"):
    seed = int(os.environ.get("WISP_POWERCUT_SEED", str(int(time.time()))))
    rng = random.Random(seed)
    print("  seed %d (WISP_POWERCUT_SEED), %d cuts each" % (seed, N), flush=True)
    work = os.path.join(os.environ.get("B", "build"), "tests", "powercut")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    cut_after_report(image, bundle, work)
    cut_apply(image, bundle, work, rng)
    trial = trial_image(image, bundle, work)
    fallback(image, trial, work)
    cut_trial(image, trial, work, rng)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(run_test("powercut", main))
