"""The live CD (docs/image-spec.md, "Cloud image formats"): build/cloud/wisp.iso, written by
`image-builder convert --format iso` from build/wisp.img.

- its layout, read back with xorriso, not with the builder's code: /wisp/root.img is ROOT-A's
  erofs and verity tree (build/wisp.root's bytes) in one extent; the El Torito catalog has a
  BIOS and a UEFI entry; grub.cfg's kernel line makes a linear device over sr0 at that
  file's sector and slot A's verity table (its root hash) on top of it, root=/dev/dm-1,
  wisp.live=1;
- the same image and epoch convert to the same bytes (a second conversion);
- booted as the first CD, no disk, under SeaBIOS and under OVMF, with a NoCloud seed on a
  second CD: the console comes up provisioned (the seed's hostname); the root is dm-1
  (wisp-root) over dm-0 (wisp-live) over sr0, the CD holding the ISO; /var is a tmpfs and
  the console said "live medium" once, not that STATE failed; nothing counts the boot
  (no boot-good unit, update-watch ended on the command line without reading grubenv);
- the spec's images on the live CD (booted under SeaBIOS): ROOT carries the default image's
  archive (/usr/share/wisp/images, verified with ROOT), the image-import unit imports it into
  the store on an ext4 in RAM (/var/lib/wisp, a loop device over a file of the tmpfs /var: a
  tmpfs cannot be idmapped), and the `demo` container runs from wisp/demo:1 in its own user
  namespace: its start line and a tick in its log, up in `wispctl ps`;
- a copy with one byte flipped inside the ROOT file: dm-verity finds the block corrupted and
  restarts the machine before init runs.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from test_boot import firmware_was, read_verity  # noqa: E402
from wispvm import (BANNER, BOOT_TIMEOUT, VM, BootError, check, nocloud_seed,  # noqa: E402
                    run_test, units, wait_sh)

B = os.environ.get("B", "build")
IMAGE = os.path.join(B, "wisp.img")
ISO = os.path.join(B, "cloud", "wisp.iso")
IB = os.path.join(B, "host", "image-builder")
BLOCK = 2048  # an ISO 9660 block
HOSTNAME = "live-cd"
LIVE_SAID = "init: live medium: /var is a tmpfs"


def need(path, what):
    if not os.path.exists(path):
        raise BootError("%s is missing (%s): `make all` builds it" % (path, what))


def xorriso(iso, *args):
    try:
        r = subprocess.run(["xorriso", "-no_rc", "-indev", iso] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except FileNotFoundError:
        raise BootError("xorriso is not installed (rootfs/toolchain/packages.list: make deps)")
    if r.returncode != 0:
        raise BootError("xorriso -indev %s %s: %s" % (iso, " ".join(args), r.stdout[-400:]))
    return r.stdout


def extent(iso, path):
    """PATH's (first block, bytes) in ISO, as xorriso reports them; one extent."""
    out = xorriso(iso, "-find", path, "-exec", "report_lba", "--")
    found = re.findall(r"File data lba:\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,", out)
    check(len(found) == 1 and found[0][0] == "0", "%s is one extent of the ISO: %r"
          % (path, found))
    return int(found[0][1]), int(found[0][3])


def read_at(path, offset, size):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(size)


def layout():
    """The ROOT file's first block, checked as the module docstring says."""
    need(ISO, "the live CD")
    lba, size = extent(ISO, "/wisp/root.img")
    with open(os.path.join(B, "wisp.root"), "rb") as f:
        root = f.read()
    check(size == len(root) and read_at(ISO, lba * BLOCK, size) == root,
          "/wisp/root.img (block %d, %d bytes) holds build/wisp.root: ROOT-A's erofs and "
          "verity tree" % (lba, size))
    out = xorriso(ISO, "-report_el_torito", "plain")
    plats = re.findall(r"El Torito boot img :\s+\d+\s+(\S+)\s+y\s", out)
    check(sorted(plats) == ["BIOS", "UEFI"], "El Torito: a bootable BIOS and a UEFI entry: %r"
          % plats)
    cfg_lba, cfg_size = extent(ISO, "/boot/grub/grub.cfg")
    cfg = read_at(ISO, cfg_lba * BLOCK, cfg_size).decode()
    v = read_verity(IMAGE)
    table = ("wisp-live,,0,ro,0 %d linear 11:0 %010d;wisp-root,,1,ro,0 %d verity 1 253:0 253:0 "
             "4096 4096 %s %s sha256 %s %s 1 restart_on_corruption" % (
                 size // 512, lba * 4, int(v["data_blocks"]) * 8, v["data_blocks"],
                 v["hash_start_block"], v["root_hash"], v["salt"]))
    if "set wisp_dm='%s'\n" % table not in cfg:
        print("  grub.cfg:\n%s  wanted wisp_dm: %s" % (cfg, table), flush=True)
    check("set wisp_dm='%s'\n" % table in cfg, "grub.cfg: linear over sr0 at the ROOT file's "
          "sector %d, slot A's verity table on it (root hash %s)" % (lba * 4, v["root_hash"]))
    check(re.search(r"(?m)^set wisp_args='wisp\.live=1 wisp\.tries= wisp\.rollback= "
                    r"dm-mod\.waitfor=/dev/sr0 root=/dev/dm-1 ro rootfstype=erofs ", cfg),
          "grub.cfg: wisp.live=1, no trial, waits for sr0, root=/dev/dm-1")
    return lba, size, table


def reproducible(tmp):
    again = os.path.join(tmp, "wisp.iso")
    subprocess.run([IB, "convert", "--format", "iso", IMAGE, again], check=True)
    with open(again, "rb") as a, open(ISO, "rb") as b:
        check(a.read() == b.read(), "wisp.iso: a second conversion gives the same bytes")
    check(os.listdir(tmp) == ["wisp.iso"], "the conversion left nothing beside its output: %r"
          % os.listdir(tmp))
    os.unlink(again)


def cds(iso, seed=None):
    """ISO as the first CD drive (sr0, booted), SEED as the second."""
    args = ["-drive", "file=%s,format=raw,if=none,id=live,media=cdrom,readonly=on" % iso,
            "-device", "ide-cd,drive=live,bus=ide.0,unit=0,bootindex=0"]
    if seed:
        args += ["-drive", "file=%s,format=raw,if=none,id=seed,media=cdrom,readonly=on" % seed,
                 "-device", "ide-cd,drive=seed,bus=ide.0,unit=1"]
    return args


def verified_chain(vm, size, table):
    _, out = vm.sh("cat /proc/cmdline")
    check('"dm-mod.create=%s"' % table in out and " root=/dev/dm-1 " in out,
          "the kernel was given grub.cfg's two devices, verity over linear over sr0, and "
          "root=/dev/dm-1: %r" % out.strip())
    _, out = vm.sh("awk '$5 == \"/\" { print $3 }' /proc/self/mountinfo; "
                   "cd /sys/block; cat dm-1/dev dm-1/dm/name; ls dm-1/slaves; "
                   "cat dm-0/dm/name; ls dm-0/slaves; cat dm-0/size sr0/size")
    w = out.split()
    check(len(w) == 8 and w[0] == w[1] == "253:1" and w[2:6] == ["wisp-root", "dm-0",
                                                                "wisp-live", "sr0"],
          "/ is dm-1 (wisp-root) over dm-0 (wisp-live) over sr0: %r" % w)
    check(w[6] == str(size // 512) and int(w[7]) * 512 == os.path.getsize(ISO),
          "dm-0 is the ROOT file's %s sectors of sr0, the live CD (%s sectors): %r"
          % (size // 512, w[7], w))


def live(vm):
    """/var a tmpfs, said once and plainly; no STATE looked for, no boot counting."""
    _, out = vm.sh("awk '$2 == \"/var\" { print $3 }' /proc/mounts")
    check(out.split() == ["tmpfs"], "/var is a tmpfs: %r" % out)
    said = vm.buf.count(LIVE_SAID)
    check(said == 1, "the console said %r once (%d times)" % (LIVE_SAID, said))
    for bad in ("no partition named STATE", "nothing written there survives"):
        check(bad not in vm.buf, "the console did not say %r" % bad)
    u = units(vm)
    check("boot-good" not in u and "update-watch" in u,
          "no boot-good unit among the units: %r" % sorted(u))
    _, out = vm.sh("cat /var/log/wisp/update-watch.log")
    check("not a trial boot (GRUB's wisp.tries=)" in out,
          "update-watch ended on the command line, grubenv unread: %r" % out.strip())


def images(vm):
    """The spec's images, carried in ROOT, imported on the live boot; demo runs from one."""
    try:
        wait_sh(vm, "wispctl ps", lambda rc, o: rc == 0 and re.search(
            r"(?m)^demo\s+container\s+(running|healthy)\s.*\s1048576-1114111$", o),
            "wispctl ps: the demo container runs, in its own user namespace", 240)
    except BootError:
        _, out = vm.sh("wispctl logs demo | tail -n 4")
        print("  wispctl logs demo, its last lines:\n%s" % out.rstrip(), flush=True)
        raise
    wait_sh(vm, "wispctl logs demo", lambda rc, o: rc == 0 and re.search(
        r"(?m)demo: started in a container from image wisp/demo:1, pid 1 ", o) and re.search(
        r"(?m)demo: tick \d+, ", o), "wispctl logs demo: its start line and its ticks", 120)
    _, out = vm.sh("wispctl logs image-import")
    check(re.search(r"(?m)000-demo\.tar: imported wisp/demo:1 sha256:[0-9a-f]{64}$", out),
          "image-import imported ROOT's archive as wisp/demo:1: %r" % out.strip()[-300:])
    _, out = vm.sh("ls -1 /usr/share/wisp/images; awk '$2 == \"/var/lib/wisp\" { print $1, $3 }' "
                   "/proc/mounts")
    check(re.search(r"(?m)^000-demo\.tar$", out) and re.search(r"(?m)^/dev/loop\d+ ext4$", out),
          "ROOT carries the demo archive; /var/lib/wisp is an ext4 on a loop device: %r" % out)
    _, out = vm.sh("echo store=$(stat -c %s /var/lib/wisp.ext4) var=$(stat -f -c '%b*%S' /var)")
    m = re.search(r"store=(\d+) var=(\d+)\*(\d+)", out)
    check(m and int(m.group(2)) * int(m.group(3)) // 2 < int(m.group(1))
          <= int(m.group(2)) * int(m.group(3)) * 3 // 4,
          "the store's file is three quarters of /var's tmpfs at most, the rest for /var's "
          "logs: %r" % out.strip())
    shown = re.search(r"resize2fs \d+\.\d+\S* \(", vm.buf)  # before the cat below
    _, out = vm.sh("cat /run/wisp/storage.log")
    check(re.search(r"The filesystem on /var/lib/wisp\.ext4 is now \d+", out) and not shown,
          "resize2fs's output in /run/wisp/storage.log, not on the console: %r" % out[-200:])


def boots(firmware, seed, size, table):
    with VM(None, firmware=firmware, name="iso-" + firmware, disk_bus=None,
            extra=cds(ISO, seed)) as vm:
        vm.expect(r"Booting `Wisp \S+ \(live\)'", BOOT_TIMEOUT)
        vm.boot()
        print("  iso-%s: at the provisioned console" % firmware, flush=True)
        firmware_was(vm, firmware)
        _, out = vm.sh("hostname")
        check(out.strip() == HOSTNAME, "provisioned from the seed CD: hostname %r" % out.strip())
        verified_chain(vm, size, table)
        live(vm)
        if firmware == "bios":
            images(vm)


def corrupted(tmp, lba):
    """One byte of the ROOT file's block 0 flipped (before erofs' superblock, which
    only verity reads whole): the kernel's first read of the root fails verification."""
    bad = os.path.join(tmp, "corrupt.iso")
    shutil.copyfile(ISO, bad)
    with open(bad, "r+b") as f:
        f.seek(lba * BLOCK + 512)
        byte = f.read(1)
        f.seek(lba * BLOCK + 512)
        f.write(bytes([byte[0] ^ 0x01]))
    with VM(None, firmware="bios", name="iso-corrupt", disk_bus=None, extra=cds(bad)) as vm:
        verity_restarts(vm, "253:0", "the ROOT file (on dm-0)")


def verity_restarts(vm, dev, what):
    """The boot of a medium with block 0 of its ROOT file flipped: dm-verity on DEV
    finds it corrupted and restarts the machine before init runs."""
    m = vm.expect(r"device-mapper: verity: (\d+:\d+): data block (\d+) is corrupted|"
                  + BANNER.pattern, BOOT_TIMEOUT)
    check(m.group(1) == dev and m.group(2) == "0",
          "dm-verity found block 0 of %s corrupted: %r" % (what, m.group(0)))
    vm.expect(r"reboot: Restarting system with command 'dm-verity device corrupted'", 30)
    check(not BANNER.search(vm.buf), "the machine restarted (restart_on_corruption) and "
          "init never ran from the corrupted root")


def body():
    need(IMAGE, "the disk image")
    lba, size, table = layout()
    os.makedirs(os.path.join(B, "tests"), exist_ok=True)
    with tempfile.TemporaryDirectory(dir=os.path.join(B, "tests")) as tmp:
        reproducible(tmp)
        seed = nocloud_seed(tmp, "#cloud-config\nhostname: %s\n" % HOSTNAME, "iso-1")
        for firmware in ("bios", "uefi"):
            boots(firmware, seed, size, table)
        corrupted(tmp, lba)


if __name__ == "__main__":
    sys.exit(run_test("iso", body))
