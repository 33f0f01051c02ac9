"""Backbone boot test: one image, booted with SeaBIOS or OVMF.

Checks, through the serial console: the banner; a declared program ran;
/ is read-only (EROFS); /var is writable and survives a reboot that left it
clean, also with a bind of a directory of /var outside it (a mount of STATE
that outlives init's unmount of /var); poweroff ends QEMU with status 0 within a bounded time.

The case slot-b boots slot B of a copy of the image through GRUB (slot_b).
"""

import os
import re
import secrets
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from slots import SlotImage, grubenv, partitions  # noqa: E402
from wispvm import (  # noqa: E402
    BANNER, BOOT_TIMEOUT, VM, BootError, check, make_overlay, nocloud_seed, run_test, wait_sh)

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


def read_verity(image):
    """build/wisp.verity, next to the image: the tree's parameters image-builder printed."""
    with open(re.sub(r"\.img$", "", image) + ".verity") as f:
        return dict(line.strip().split("=", 1) for line in f if "=" in line)


def verified_root(vm, partuuid, partn, verity):
    """/ is the dm-verity device the kernel made of the slot's partition (dm-mod.create on its
    command line, with the build's root hash and salt): dm-0, named wisp-root, over partition
    PARTN alone, the erofs mounted read-only from it."""
    _, out = vm.sh("cat /proc/cmdline")
    table = ("dm-mod.create=wisp-root,,,ro,0 %d verity 1 PARTUUID=%s PARTUUID=%s 4096 4096 %s %s "
             "sha256 %s %s 1 restart_on_corruption" % (
                 int(verity["data_blocks"]) * 8, partuuid, partuuid, verity["data_blocks"],
                 verity["hash_start_block"], verity["root_hash"], verity["salt"]))
    check(table in out and "dm-mod.waitfor=PARTUUID=%s root=/dev/dm-0 " % partuuid in out,
          "the command line makes the verity root of PARTUUID %s with the build's root hash %s: %r"
          % (partuuid, verity["root_hash"], out.strip()))
    _, out = vm.sh("awk '$5 == \"/\" { print $3 }' /proc/self/mountinfo; cat /sys/block/dm-0/dm/name; "
                   "ls /sys/block/dm-0/slaves; cat /sys/block/dm-0/dev")
    words = out.split()
    check(len(words) == 4 and words[0] == words[3] and words[1] == "wisp-root",
          "/ is mounted from dm-0 (wisp-root): %r" % words)
    _, out = vm.sh("cat /sys/class/block/%s/partition" % words[2])
    check(out.strip() == partn, "dm-0 sits on partition %s alone (%s): %r" % (partn, words[2], out))
    # init raised ROOT's read-ahead (mounts.c): a binary's first fault reads all of it
    _, out = vm.sh("cat /sys/block/dm-0/queue/read_ahead_kb")
    check(out.strip() == "2048", "ROOT's read-ahead is 2048 KiB: %r" % out.strip())


def first_boot(vm, image, version, token, firmware):
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
    verified_root(vm, partitions(image)["ROOT-A"].partuuid, "3", read_verity(image))
    rc, out = vm.sh("find / -xdev \\( -perm -4000 -o -perm -2000 \\) -print | wc -l")
    check(rc == 0 and out.strip() == "0", "no setuid or setgid file in ROOT (found %s)" % out.strip())
    rc, out = vm.sh("grep ' /var ' /proc/mounts")
    check(" ext4 rw" in out, "/var is ext4 mounted rw: %r" % out.strip())
    # GRUB's wisp.tries= tells the early update-watch that this is no trial: no ESP mount
    wait_sh(vm, "cat /var/log/wisp/update-watch.log",
            lambda rc, o: "not a trial boot (GRUB's wisp.tries=): nothing to watch" in o,
            "update-watch: a plain boot, told by the kernel command line")
    # init ran at nice 10 from the early units' start to its last boot step; it is back at 0,
    # and the shell (field 19 of stat: the nice value), an early unit spawned while init
    # was at 10, was at 0 from its start (spawn_req.nice)
    rc, out = vm.sh("cut -d' ' -f19 /proc/1/stat /proc/$$/stat | tr '\\n' ' '")
    check(rc == 0 and out.split() == ["0", "0"], "init and the console at nice 0: %r" % out)
    # init read the early units image-builder compiled: no line about that file
    rc, out = vm.sh("dmesg | grep -c early.compiled")
    check(out.strip() == "0", "no message about /etc/wisp/early.compiled: %r" % out.strip())
    firmware_was(vm, firmware)
    rc, _ = vm.sh("echo %s > /var/persist && sync" % token)
    check(rc == 0, "wrote a file in /var")


def second_boot(vm, token):
    # A mount of STATE that outlives init's unmount of /var (root's bind outside /var here; a
    # mount namespace torn down late would do the same) must not leave ext4 unclean.
    rc, _ = vm.sh("mkdir -p /tmp/held && mount --bind /var/tmp /tmp/held")
    check(rc == 0, "bound /var/tmp on /tmp/held")
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
        first_boot(vm, image, version, token, firmware)
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


def booted_slot_b(vm, firmware, img):
    """GRUB chose slot B, the kernel came from /B/vmlinuz and made its verified root of
    ROOT-B, and the system came up to its provisioned state."""
    vm.expect(r"Booting `Wisp \(slot B\)'", BOOT_TIMEOUT)
    vm.boot(shell_timeout=60)
    _, out = vm.sh("cat /proc/cmdline")
    check(out.startswith("BOOT_IMAGE=/B/vmlinuz ") and " wisp.slot=B " in out,
          "GRUB started /B/vmlinuz with slot B's arguments: %r" % out.strip())
    verified_root(vm, img.parts["ROOT-B"].partuuid, "4", read_verity(img.image))
    firmware_was(vm, firmware)


def slot_b(image="build/wisp.img"):
    """Slot B of a copy of IMAGE written as an update would (docs/update.md), in steps, each
    booted under UEFI: wisp_slot=B alone makes GRUB find no /B/slot.cfg and boot nothing;
    with /B/vmlinuz and /B/slot.cfg the kernel makes its verity root of the still empty
    ROOT-B and finds it corrupted (so it is B that is booted, and verified); with ROOT-B
    written too slot B boots, under UEFI and BIOS."""
    img = SlotImage(image, os.path.join(os.environ.get("B", "build"), "tests", "slot-b.img"))
    root_b = img.parts["ROOT-B"].partuuid
    img.set_slot("B")
    with VM(img.path, firmware="uefi", name="slot-b-nokernel") as vm:
        m = console_shows(vm, r"Booting `Wisp \(slot (\S+)\)'", BOOT_TIMEOUT)
        check(m.group(1) == "B", "GRUB chose the entry of grubenv's wisp_slot=B (%s)" % m.group(0))
        console_shows(vm, r"wisp: slot B holds no system \(no /B/slot.cfg\)", 30)
        check("Linux version" not in vm.buf, "wisp_slot=B without /B: GRUB boots no kernel")
    img.copy_kernel("A", "B")
    img.copy_slot_cfg("A", "B")
    with VM(img.path, firmware="uefi", name="slot-b-noroot") as vm:
        m = console_shows(vm, r"Command line: (.*)\n", BOOT_TIMEOUT)
        check(m.group(1).startswith('BOOT_IMAGE=/B/vmlinuz "dm-mod.create=wisp-root,,,ro,0 ')
              and "verity 1 PARTUUID=%s PARTUUID=%s " % (root_b, root_b) in m.group(1),
              "GRUB started /B/vmlinuz with ROOT-B's verity root: %r" % m.group(1))
        m = console_shows(vm, r"device-mapper: verity: \d+:(\d+): (?:meta)?data block \d+ is "
                          r"corrupted|"
                          + BANNER.pattern, 120)
        check(m.group(1) == "4", "with ROOT-B still zero, the verity root on partition 4 (ROOT-B) "
              "is corrupted: %r" % m.group(0))
    img.copy_root("ROOT-A", "ROOT-B")
    for firmware in ("uefi", "bios"):
        with VM(img.path, firmware=firmware, name="slot-b-" + firmware) as vm:
            booted_slot_b(vm, firmware, img)
    counting(img)


def down(vm):
    """Powered off from the shell: QEMU flushes the overlay's metadata as it exits (a killed
    QEMU may lose what GRUB wrote)."""
    vm.send("poweroff\n")
    check(vm.wait_exit(POWEROFF_TIMEOUT) == 0, "%s powered off" % vm.name)


def boot_good(vm):
    """The output of this boot's boot-good unit (update mark-good), once it has run."""
    _, out = vm.sh("for i in $(seq 300); do wispctl status boot-good | grep -q 'state: *done' "
                   "&& break; sleep 1; done; cat /var/log/wisp/boot-good.log", timeout=330)
    return out


def overlay_of(img):
    """A qcow2 overlay of IMG's copy that several boots share, and a function that reads
    its grubenv (the overlay converted to raw)."""
    disk, raw = img.path + ".qcow2", img.path + ".now"
    make_overlay(img.path, disk)

    def env():
        subprocess.run(["qemu-img", "convert", "-O", "raw", disk, raw], check=True)
        e = grubenv(raw)
        os.unlink(raw)
        return e
    return disk, env


def counting(img):
    """GRUB's boot counting (docs/update.md) on slot B of a copy: wisp_tries=2 boots B on
    trial, taking a try before the kernel; the boot comes up, provision's boot-good unit
    marks it good, the count is gone and wisp_good names B."""
    img.set_env(wisp_slot="B", wisp_prev="A", wisp_tries="2")
    disk, env = overlay_of(img)
    with VM(img.path, firmware="bios", name="count", overlay=disk) as vm:
        vm.expect(r"Booting `Wisp \(slot B\)'", BOOT_TIMEOUT)
        vm.boot(shell_timeout=60)
        out = boot_good(vm)
        check("wisp-update: slot B is good: its trial ends with 1 tries left" in out,
              "the trial boot took a try and was marked good: %r" % out)
        down(vm)
    e = env()
    check(e.get("wisp_slot") == "B" and e.get("wisp_prev") == "A" and e.get("wisp_tries") == ""
          and e.get("wisp_good") == "B",
          "grubenv after a good trial boot: slot B counted good from now on: %r" % e)


def file_block(root, path):
    """The first 4 KiB block of PATH's data in the erofs ROOT (build/wisp.root), as
    erofs-utils' dump.erofs lays it out (a peer: image-builder is not asked). The first
    extent is one physical cluster of whole blocks (16 KiB at most, image-builder's
    -C16384); a read of any byte of the file's start decompresses all of it."""
    out = subprocess.run(["dump.erofs", "-e", "--path=" + path, root], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    m = re.search(r"(?m)^ +0: +\d+\.\. +\d+ \| +\d+ : +(\d+)\.\. +\d+ \| +(\d+)$", out)
    check(m and int(m.group(1)) % 4096 == 0 and int(m.group(2)) % 4096 == 0,
          "dump.erofs: the first extent of %s: %r" % (path, out[-400:]))
    return int(m.group(1)) // 4096


def corrupted_file(img, path, block):
    """ROOT-A with one byte flipped in BLOCK, a block of PATH's data only, which no boot
    reads (the time zone rules: read for cloud-config's timezone). With the slot's table
    without restart_on_corruption (dm-verity's default: an I/O error), the host boots and
    reading PATH fails with EIO, the kernel naming that block; with restart_on_corruption
    (the slot as built) the read restarts the machine, and the next boot comes up, since no
    boot reads PATH."""
    table = img.read("::/A/slot.cfg")
    check(" 1 restart_on_corruption'" in table, "slot A's table: %r" % table)
    with open(img.path, "r+b") as f:
        f.seek(img.parts["ROOT-A"].offset + block * 4096 + 2048)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0x01]))
    img.write("::/A/slot.cfg", table.replace(" 1 restart_on_corruption'", " 0'"))
    disk, _ = overlay_of(img)
    with VM(img.path, firmware="bios", name="verity-eio", overlay=disk) as vm:
        vm.boot()
        _, out = vm.sh("cat %s 2>&1 >/dev/null; cat %s 2>/dev/null | wc -c" % (path, path))
        check("I/O error" in out and re.search(r"(?m)^0$", out),
              "reading %s fails with an I/O error, not one byte of it: %r" % (path, out))
        _, out = vm.sh("dmesg | grep 'verity.*corrupted'")
        check(re.search(r"data block %d is corrupted" % block, out),
              "the kernel names ROOT-A's block %d, %s's: %r" % (block, path, out))
        down(vm)
    img.write("::/A/slot.cfg", table)
    disk, _ = overlay_of(img)
    with VM(img.path, firmware="bios", name="verity-restart", overlay=disk) as vm:
        vm.boot()
        vm.send("cat %s >/dev/null\n" % path)
        # init keeps the console's log level above KERN_ERR: dm-verity's "block N is
        # corrupted" is in the EIO boot's dmesg above, the restart is KERN_EMERG
        vm.expect(r"reboot: Restarting system with command 'dm-verity device corrupted'", 60)
        vm.expect(r"Booting `Wisp \(slot A\)'", BOOT_TIMEOUT)
        vm.boot(shell_timeout=60)
        print("  ok: reading it restarted the machine; the next boot, which does not read it, "
              "came up", flush=True)
        down(vm)


def verity(image="build/wisp.img"):
    """First corrupted_file(): a flipped byte in one file's data fails its read with EIO
    and restarts the machine under restart_on_corruption. Then one byte of ROOT-A
    changed where erofs never looks (the first 1 KiB, before its
    superblock), slot B a copy of A: without dm-verity the system boots as before; with it
    the kernel's first read of the root finds block 0 corrupted and restarts the machine
    (restart_on_corruption) before init, and since B holds a system every boot of A is
    counted: after three, GRUB takes the host to slot B. Slot A is a good slot
    (wisp_good): no unit's health counts there, but a failure of the system itself
    does."""
    img = SlotImage(image, os.path.join(os.environ.get("B", "build"), "tests", "verity.img"))
    tz = "/usr/share/wisp/tzrules"
    corrupted_file(img, tz, file_block(os.path.splitext(image)[0] + ".root", tz))
    img.copy_root("ROOT-A", "ROOT-B")
    img.copy_kernel("A", "B")
    img.copy_slot_cfg("A", "B")
    img.set_env(wisp_slot="A", wisp_prev="B", wisp_good="A")
    with open(img.path, "r+b") as f:
        f.seek(img.parts["ROOT-A"].offset)
        byte = f.read(1)
        f.seek(img.parts["ROOT-A"].offset)
        f.write(bytes([byte[0] ^ 0x01]))
    disk, env = overlay_of(img)
    with VM(img.path, firmware="bios", name="verity-corrupt", overlay=disk) as vm:
        for n in range(3):
            vm.expect(r"Booting `Wisp \(slot A\)'", BOOT_TIMEOUT)
            m = vm.expect(r"device-mapper: verity: (\d+:\d+): data block (\d+) is corrupted", 120)
            check(m.group(2) == "0", "boot %d: dm-verity found ROOT-A's block 0 corrupted: %r"
                  % (n + 1, m.group(0)))
            vm.expect(r"reboot: Restarting system with command 'dm-verity device corrupted'", 30)
        check(not re.search(BANNER, vm.buf), "init never ran from the corrupted root")
        vm.expect(r"wisp: slot A used its tries without a good boot: rolling back to slot B",
                  BOOT_TIMEOUT)
        vm.expect(r"Booting `Wisp \(slot B\)'", 30)
        vm.boot(shell_timeout=60)
        _, out = vm.sh("cat /proc/cmdline")
        check(" wisp.slot=B " in out, "the host runs slot B: %r" % out.strip())
        down(vm)
    e = env()
    check(e.get("wisp_slot") == "B" and e.get("wisp_rollback") == "A",
          "grubenv after the rollback: %r" % e)


def rolled_back(vm, why):
    """After slot B's failed trial: GRUB rolls back to slot A, which boots without the
    trial's watchdog, and its console and `update status` say why (the pattern why)."""
    vm.expect(r"wisp: slot B used its tries without a good boot: rolling back to slot A",
              BOOT_TIMEOUT)
    vm.expect(r"Booting `Wisp \(slot A\)'", 30)
    vm.boot(shell_timeout=60)
    _, out = vm.sh("cat /proc/cmdline")
    check(" wisp.slot=A " in out and "softdog" not in out,
          "slot A again, a good boot without the trial's watchdog: %r" % out.strip())
    vm.seen_since_banner(re.compile(r"wisp-update: slot B \(Wisp [0-9.]+\) was rolled back: "
                                    + why), 60)
    _, out = vm.sh("wispctl update status", timeout=60)
    check(re.search(r"last result: slot B used its tries and was rolled back "
                    r"\(Wisp [0-9.]+\): " + why, out),
          "the console and status say B was rolled back, and why: %r" % out)
    down(vm)


def grubenv_rolled_back(env):
    e = env()
    check(e.get("wisp_slot") == "A" and e.get("wisp_rollback") == "B",
          "grubenv after the rollback: %r" % e)


def hang(image="build/wisp.img", hung="build/hang/wisp.img"):
    """Slot B of a copy holds a build whose init hangs (tests/update/hanging-init), on
    trial with one try: softdog, started with the kernel by the trial's command line
    (grubenv's wisp_watch: a 15 s margin here, 120 s by default), is fed by nobody, resets
    the machine, and the next boot finds no try left and rolls back to slot A."""
    img = SlotImage(image, os.path.join(os.environ.get("B", "build"), "tests", "hang.img"))
    img.install(hung, "B")
    img.set_env(wisp_slot="B", wisp_prev="A", wisp_tries="1",
                wisp_watch="softdog.soft_active_on_boot=1 softdog.soft_margin=15")
    disk, env = overlay_of(img)
    with VM(img.path, firmware="bios", name="hang", overlay=disk) as vm:
        vm.expect(r"Booting `Wisp \(slot B\)'", BOOT_TIMEOUT)
        m = vm.expect(r"Command line: (.*)\n", 60)
        check("softdog.soft_active_on_boot=1 softdog.soft_margin=15" in m.group(1),
              "the trial boot's command line starts softdog: %r" % m.group(1))
        vm.expect(r"wisp test: this init hangs on purpose", BOOT_TIMEOUT)
        vm.expect(r"softdog: Initiating system reboot", 60)
        print("  ok: nothing fed softdog: it reset the machine", flush=True)
        rolled_back(vm, r"none of its boots came up as far as update-watch on STATE")
    grubenv_rolled_back(env)


def b_on_trial(image, path):
    """A copy of IMAGE at PATH whose slot B (a copy of A) is on trial: one try, a 40 s
    deadline (wisp.update_deadline= in grubenv's wisp_watch, beside softdog's 120 s margin)."""
    img = SlotImage(image, path)
    img.copy_root("ROOT-A", "ROOT-B")
    img.copy_kernel("A", "B")
    img.copy_slot_cfg("A", "B")
    img.set_env(wisp_slot="B", wisp_prev="A", wisp_tries="1",
                wisp_watch="softdog.soft_active_on_boot=1 softdog.soft_margin=120 "
                "wisp.update_deadline=40")
    return img


def deadline(image="build/wisp.img"):
    """A trial boot that comes up but never becomes good: user-data declares a critical
    service that keeps failing; slot B (a copy of A) on trial with one try and a 40 s
    deadline (wisp.update_deadline= in grubenv's wisp_watch, beside softdog's 120 s
    margin). update-watch records the boot on STATE, reboots at the deadline naming what
    was not up, GRUB rolls back to slot A, and its console and `update status` say why."""
    work = os.path.join(os.environ.get("B", "build"), "tests", "deadline")
    os.makedirs(work, exist_ok=True)
    img = b_on_trial(image, os.path.join(work, "deadline.img"))
    seed = nocloud_seed(work, "#cloud-config\nwisp:\n  services:\n    - name: broken\n"
                        "      command: [sh, -c, 'exit 3']\n      restart: always\n"
                        "      critical: true\n", "deadline")
    disk, env = overlay_of(img)
    why = (r"1 of its boots came up as far as update-watch; the last: not good within 40 s; "
           r"not up: [^\n]*broken \((backoff|failed|starting|running), health none\)")
    with VM(img.path, firmware="bios", name="deadline", overlay=disk,
            extra=["-cdrom", seed]) as vm:
        vm.expect(r"Booting `Wisp \(slot B\)'", BOOT_TIMEOUT)
        vm.expect(r"wisp-update: slot B on trial: good within 40 s", BOOT_TIMEOUT)
        vm.expect(r"wisp-update: slot B was not good within 40 s: rebooting", 120)
        rolled_back(vm, why)
    grubenv_rolled_back(env)


def good_slot(image="build/wisp.img"):
    """A good slot whose critical unit is never healthy again (a hostile image of that
    unit's container can arrange it) stays: slot B (a copy of A) passes its trial (one
    try, 40 s), its critical unit healthy; then the unit fails at every start (a file on
    STATE says so). Each next boot is counted (slot A holds a system), but update-watch
    marks it good once the system is up, the console and `update status` name the
    unit, and GRUB never rolls the host back to slot A (before: three boots rebooted at
    the deadline, then slot A)."""
    work = os.path.join(os.environ.get("B", "build"), "tests", "good-slot")
    os.makedirs(work, exist_ok=True)
    img = b_on_trial(image, os.path.join(work, "good-slot.img"))
    seed = nocloud_seed(work, "#cloud-config\nwisp:\n  services:\n    - name: flaky\n"
                        "      command: [sh, -c, 'test -e /var/lib/flaky-broken && exit 3; "
                        "exec sleep 100000']\n      restart: always\n      critical: true\n",
                        "good-slot")
    disk, env = overlay_of(img)
    with VM(img.path, firmware="bios", name="good-slot", overlay=disk,
            extra=["-cdrom", seed]) as vm:
        vm.expect(r"Booting `Wisp \(slot B\)'", BOOT_TIMEOUT)
        vm.expect(r"wisp-update: slot B on trial: good within 40 s", BOOT_TIMEOUT)
        vm.expect(r"wisp-update: slot B is good: its trial ends with 0 tries left", 60)
        vm.boot(banner=False, shell_timeout=60)
        vm.sh("touch /var/lib/flaky-broken && sync")
        print("  ok: slot B passed its trial; its critical unit fails from now on", flush=True)
        vm.send("reboot\n")
        for n in range(1, 4):
            m = vm.expect(r"Booting `Wisp \(slot ([AB])\)'", BOOT_TIMEOUT)
            check(m.group(1) == "B", "boot %d of the good slot: GRUB booted slot %s"
                  % (n, m.group(1)))
            m = vm.expect(r"wisp-update: slot B (is good \(marked good before\)|was not good "
                          r"within 40 s: rebooting)", 120)
            if "not good" in m.group(1):
                print("  boot %d: update-watch rebooted at the deadline" % n, flush=True)
                continue
            vm.boot(banner=False, shell_timeout=60)
            # at the deadline, in the kernel's log (the console's level is 1 from boot() on)
            wait_sh(vm, "dmesg | grep 'stays good'",
                    lambda rc, o: re.search(r"wisp-update: slot B stays good: not up within 40 s:"
                                            r" [^\n]*flaky \((backoff|failed|starting|running), "
                                            r"health none\)", o),
                    "boot %d: the kernel's log names the unit not up" % n, 90)
            _, out = vm.sh("wispctl update status", timeout=60)
            check("trial: none (slot B is good)" in out
                  and re.search(r"not up within 40 s of this boot: [^\n]*flaky \(", out),
                  "boot %d: status: B good, the unit named: %r" % (n, out))
            print("  ok: boot %d of the good slot: marked good, the unit named" % n, flush=True)
            vm.send("reboot\n")
        m = vm.expect(r"Booting `Wisp \(slot ([AB])\)'", BOOT_TIMEOUT)
        check(m.group(1) == "B" and "rolling back" not in vm.buf,
              "after three boots with the unit failing GRUB booted slot %s" % m.group(1))
        vm.boot(shell_timeout=60)
        wait_sh(vm, "wispctl update status", lambda rc, o: "trial: none (slot B is good)" in o,
                "boot 4: marked good again", 60)
        down(vm)
    e = env()
    check(e.get("wisp_slot") == "B" and e.get("wisp_tries") == ""
          and e.get("wisp_rollback", "") == "" and e.get("wisp_good") == "B",
          "grubenv: slot B good, no rollback: %r" % e)


def root_hash_drivers(vm):
    """The SHA-256 implementations of /proc/crypto that something holds beyond their
    registration (refcnt above 1): after boot, what dm-verity hashes ROOT's blocks with."""
    _, out = vm.sh("awk '/^name/{n=$3} /^driver/{d=$3} /^refcnt/{r=$3} "
                   "/^$/{if (n == \"sha256\") print \"HASH\", d, r}' /proc/crypto")
    rows = re.findall(r"(?m)^HASH (\S+) (\d+)$", out)
    check(rows, "/proc/crypto lists sha256: %r" % out)
    return [d for d, r in rows if int(r) > 1]


def disks(image="build/wisp.img"):
    """The verified root on the other disk controllers and CPUs a cloud gives (virtio-blk
    and TCG's qemu64 are every other test's): AHCI and NVMe, whose disks appear after the
    kernel's own probing, so that dm-mod.waitfor is what lets the kernel make the root
    device; STATE found and mounted on the same disk. The NVMe boot has TCG's "max" CPU
    (AVX2, as a cloud's CPUs have): dm-verity hashes with the kernel's AVX2 (or SHA-NI)
    SHA-256 there, the generic C code only on qemu64, which has neither."""
    verity = read_verity(image)
    partuuid = partitions(image)["ROOT-A"].partuuid
    for bus, part, cpu in (("ahci", "sda3", "qemu64"), ("nvme", "nvme0n1p3", "max")):
        # the last -cpu counts: this one, whatever WISP_CPU says
        with VM(image, firmware="bios", name="disk-" + bus, disk_bus=bus,
                extra=["-cpu", cpu]) as vm:
            vm.expect(r"device-mapper: init: waiting for device PARTUUID=%s" % partuuid,
                      BOOT_TIMEOUT)
            vm.boot(shell_timeout=60)
            verified_root(vm, partuuid, "3", verity)
            _, out = vm.sh("ls /sys/block/dm-0/slaves; grep ' /var ' /proc/mounts")
            check(out.split()[0] == part and " ext4 rw" in out,
                  "%s: / over %s, STATE on /var: %r" % (bus, part, out))
            used = root_hash_drivers(vm)
            want = ["sha256-avx2", "sha256-ni"] if cpu == "max" else ["sha256-generic"]
            check(len(used) == 1 and used[0] in want, "%s, CPU %s: ROOT's blocks are hashed "
                  "with %s: %r" % (bus, cpu, " or ".join(want), used))


def slotb_spec(image="build/slotb/wisp.img"):
    """An image built with update.slot_b (the 0.2.0 bundle, checked at build time as the
    device checks it) and boot.default_slot B: its first boot runs Wisp 0.2.0 from slot B,
    verified, counted (slot A holds a system too) and marked good, as the image's good
    slot (grubenv's wisp_good=B), once the system is up."""
    with VM(image, firmware="bios", name="slotb-spec") as vm:
        vm.expect(r"Booting `Wisp \(slot B\)'", BOOT_TIMEOUT)
        vm.expect(r"Wisp 0\.2\.0, slot B", 30)
        m = vm.expect(BANNER, BOOT_TIMEOUT)
        check(m.group(1) == "0.2.0", "the banner shows Wisp 0.2.0 (%s)" % m.group(1))
        vm.boot(banner=False, shell_timeout=60)
        verified_root(vm, partitions(image)["ROOT-B"].partuuid, "4",
                      read_verity("build/v2/wisp.img"))
        # the image's own default slot is good (wisp_good): marked once the system is up
        wait_sh(vm, "dmesg | grep 'is good'",
                lambda rc, o: "wisp-update: slot B is good (marked good before)" in o,
                "the first boot was marked good, as the image's good slot", 120)
        _, out = vm.sh("wispctl update status")
        check(re.search(r"slot A: \S+\s+previous", out)
              and re.search(r"slot B: 0\.2\.0\s+booted\s+next", out),
              "status: B 0.2.0 booted, A the previous: %r" % out)


if __name__ == "__main__":
    case = sys.argv[1]
    cases = {"slot-b": slot_b, "verity": verity, "hang": hang, "deadline": deadline, "disks": disks,
             "slotb-spec": slotb_spec, "good-slot": good_slot}
    body = (lambda: cases[case](*sys.argv[2:3])) if case in cases else (lambda: main(*sys.argv[1:3]))
    sys.exit(run_test("boot-" + case, body))
