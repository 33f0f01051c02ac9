"""Network boot (docs/image-spec.md, "Network boot"): build/cloud/pxe/, written by
`image-builder convert --format pxe` from build/wisp.img.

- its files, read back with Debian's cpio, not with the builder's code: vmlinuz is slot A's
  kernel (build/wisp.kernel); initrd.img is a newc archive of exactly /dev, /init (ROOT's
  /usr/libexec/wisp/initramfs-init, build/init/initramfs-init), /proc, /root.img (ROOT-A's
  erofs and verity tree, build/wisp.root) and /sysroot, owned by root; cmdline gives slot
  A's verity table (its root hash) on loop0 as wisp.initramfs.dm=, wisp.live=1, and no
  root= or dm-mod.create= (the kernel makes no root itself); boot.ipxe boots the three, and
  so does grub.cfg (the same table and arguments) for grubx64.efi, a GRUB EFI image;
- the same image and epoch convert to the same bytes, and nothing is left beside;
- netbooted, no disk: SeaBIOS runs QEMU's iPXE, which fetches boot.ipxe, the kernel and the
  initramfs over TFTP (QEMU's user network); OVMF's PXE fetches grubx64.efi, which reads
  grub.cfg and the two over TFTP, with a TPM (the kernel, through its EFI stub, gets the
  firmware's event log, GRUB's measurement of the initramfs in it); with a NoCloud seed (a
  CD under SeaBIOS, a virtio disk under OVMF) the console comes up provisioned; / is dm-0 (wisp-root) over loop0, whose file is the
  initramfs's /root.img; /var is a tmpfs, said once; no boot-good unit;
- the spec's images on the network boot (under SeaBIOS), as on the live CD (test_iso's
  images()): ROOT, inside the initramfs, carries the demo archive, image-import imports it
  into the ext4 in RAM on /var/lib/wisp (a loop device after loop0), and `demo` runs;
- an initramfs with one byte of root.img flipped: dm-verity finds the block corrupted and
  restarts the machine before init runs;
- a command line without wisp.initramfs.dm=: /init says so in one line and the kernel
  panics (panic= restarts the machine), init never runs; ROOT's copy of it, run on a booted
  host, refuses (not PID 1) and mounts nothing.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from test_boot import read_verity  # noqa: E402
from test_iso import LIVE_SAID, images, need, verity_restarts  # noqa: E402
from test_measured import grub_events, read_tpm, replay  # noqa: E402
from wispvm import (BANNER, BOOT_TIMEOUT, VM, BootError, check, nocloud_seed,  # noqa: E402
                    run_test, units)

B = os.environ.get("B", "build")
IMAGE = os.path.join(B, "wisp.img")
PXE = os.path.join(B, "cloud", "pxe")
IB = os.path.join(B, "host", "image-builder")
FILES = ["boot.ipxe", "cmdline", "grub.cfg", "grubx64.efi", "initrd.img", "vmlinuz"]
HOSTNAME = "net-booted"


def read(path):
    with open(path, "rb") as f:
        return f.read()


def cpio_list(archive):
    """cpio -t -v of ARCHIVE: (mode string, owner, group, name) per entry."""
    try:
        r = subprocess.run(["cpio", "-t", "-v", "--quiet", "-F", archive],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except FileNotFoundError:
        raise BootError("cpio is not installed (rootfs/toolchain/packages.list: make deps)")
    if r.returncode != 0:
        raise BootError("cpio -t %s: %s" % (archive, r.stdout[-400:]))
    rows = [line.split() for line in r.stdout.splitlines()]
    return [(w[0], w[2], w[3], w[-1]) for w in rows]


def cpio_extract(archive, into):
    os.makedirs(into)
    with open(archive, "rb") as f:
        subprocess.run(["cpio", "-i", "-d", "--quiet", "--no-absolute-filenames"], stdin=f,
                       cwd=into, check=True)


def table():
    v = read_verity(IMAGE)
    return ("wisp-root,,,ro,0 %d verity 1 7:0 7:0 4096 4096 %s %s sha256 %s %s 1 "
            "restart_on_corruption" % (int(v["data_blocks"]) * 8, v["data_blocks"],
                                       v["hash_start_block"], v["root_hash"], v["salt"]))


def layout(tmp):
    need(os.path.join(PXE, "boot.ipxe"), "the netboot")
    check(sorted(os.listdir(PXE)) == FILES, "build/cloud/pxe holds %s: %r"
          % (", ".join(FILES), sorted(os.listdir(PXE))))
    check(read(os.path.join(PXE, "vmlinuz")) == read(os.path.join(B, "wisp.kernel")),
          "vmlinuz is slot A's kernel (build/wisp.kernel)")
    rd = os.path.join(PXE, "initrd.img")
    listed = cpio_list(rd)
    check([e[3] for e in listed] == ["dev", "init", "proc", "root.img", "sysroot"] and
          all(e[1:3] == ("root", "root") for e in listed),
          "initrd.img (cpio -t): dev, init, proc, root.img, sysroot, owned by root: %r" % listed)
    check([e[0] for e in listed] == ["drwxr-xr-x", "-rwxr-xr-x", "dr-xr-xr-x", "-r--r--r--",
                                     "drwxr-xr-x"], "their modes: %r" % [e[0] for e in listed])
    out = os.path.join(tmp, "initrd")
    cpio_extract(rd, out)
    check(read(os.path.join(out, "root.img")) == read(os.path.join(B, "wisp.root")),
          "/root.img is ROOT-A's erofs and verity tree (build/wisp.root)")
    check(read(os.path.join(out, "init")) == read(os.path.join(B, "init", "initramfs-init")),
          "/init is init/initramfs (build/init/initramfs-init, ROOT's copy)")
    line = read(os.path.join(PXE, "cmdline")).decode()
    want = '"wisp.initramfs.dm=%s" wisp.live=1 wisp.tries= wisp.rollback= ' % table()
    if not line.startswith(want):
        print("  cmdline: %s  wanted it to start: %s" % (line, want), flush=True)
    check(line.startswith(want) and line.endswith("\n") and line.count("\n") == 1,
          "cmdline: slot A's verity table (its root hash) on loop0 (7:0), wisp.live=1")
    words = line.split()
    check(not any(w.startswith(("root=", "dm-mod.", "wisp.slot=", "rootfstype=")) or w == "ro"
                  for w in words), "cmdline: no root=, dm-mod.*, rootfstype=, ro or wisp.slot=")
    ipxe = read(os.path.join(PXE, "boot.ipxe")).decode()
    check(ipxe.startswith("#!ipxe\n") and "\nkernel vmlinuz %s\ninitrd initrd.img\nboot\n"
          % line.strip() in ipxe, "boot.ipxe: kernel vmlinuz with the command line, initrd, boot")
    cfg = read(os.path.join(PXE, "grub.cfg")).decode()
    args = line.strip()[len('"wisp.initramfs.dm=%s" ' % table()):]
    check("\nset wisp_dm='%s'\nset wisp_args='%s'\n" % (table(), args) in cfg and
          '\tlinuxefi /vmlinuz "wisp.initramfs.dm=$wisp_dm" $wisp_args\n'
          "\tinitrdefi /initrd.img\n" in cfg,
          "grub.cfg: the same table and arguments, the kernel through its EFI stub, initrd")
    check(read(os.path.join(PXE, "grubx64.efi"))[:2] == b"MZ", "grubx64.efi is a PE image")


def reproducible(tmp):
    again = os.path.join(tmp, "again")
    os.mkdir(again)
    out = os.path.join(again, "pxe")
    subprocess.run([IB, "convert", "--format", "pxe", IMAGE, out], check=True)
    check(all(read(os.path.join(out, f)) == read(os.path.join(PXE, f)) for f in FILES) and
          sorted(os.listdir(out)) == FILES, "a second conversion gives the same six files")
    # a third over the second: the directory is replaced whole
    with open(os.path.join(out, "stale"), "w") as f:
        f.write("x")
    subprocess.run([IB, "convert", "--format", "pxe", IMAGE, out], check=True)
    check(sorted(os.listdir(out)) == FILES and os.listdir(again) == ["pxe"],
          "converting over an older netboot replaces it whole; nothing left beside: %r %r"
          % (sorted(os.listdir(out)), os.listdir(again)))
    shutil.rmtree(again)


def netboot(tftp, seed=None, bootfile="boot.ipxe", seed_bus="ide"):
    """QEMU's user network serving TFTP from TFTP; the NIC boots first (SeaBIOS runs its
    iPXE ROM, which fetches boot.ipxe; under OVMF the ROM's EFI iPXE, grubx64.efi), SEED
    as a CD (seed_bus "ide") or a virtio disk ("virtio")."""
    args = ["-netdev", "user,id=pxe,tftp=%s,bootfile=%s" % (os.path.abspath(tftp), bootfile),
            "-device", "virtio-net-pci,netdev=pxe,bootindex=0"]
    if seed and seed_bus == "ide":
        args += ["-drive", "file=%s,format=raw,if=none,id=seed,media=cdrom,readonly=on" % seed,
                 "-device", "ide-cd,drive=seed,bus=ide.0,unit=0"]
    elif seed:
        args += ["-drive", "file=%s,format=raw,if=none,id=seed,readonly=on" % seed,
                 "-device", "virtio-blk-pci,drive=seed"]
    return args


def measured(vm):
    """The firmware's event log reached the kernel (through linuxefi's EFI stub), replays to
    the TPM's PCRs, and holds GRUB's measurements (PCR 9) of the kernel and the initramfs it
    fetched over the network and (PCR 8) of the command line with the root hash."""
    events, pcrs = read_tpm(vm)
    replayed = replay(events)
    check(all(replayed.get(i, bytes(32)) == pcrs[i] for i in range(10)),
          "the event log replays to the TPM's SHA-256 PCRs 0-9")
    digests = [d for d, _ in grub_events(events, 9)]
    for name in ("vmlinuz", "initrd.img"):
        want = hashlib.sha256(read(os.path.join(PXE, name))).digest()
        check(want in digests, "PCR 9: GRUB measured %s (its SHA-256)" % name)
    line = [ev for _, ev in grub_events(events, 8) if ev.startswith("kernel_cmdline: ")]
    check(len(line) == 1 and read_verity(IMAGE)["root_hash"] in line[0],
          "PCR 8: the kernel's command line, with the root hash: %r" % line)


def boots(firmware, seed):
    uefi = firmware == "uefi"
    with VM(None, firmware=firmware, name="pxe-" + firmware, disk_bus=None, mem=768,
            tpm="tis" if uefi else None,
            # the seed as a virtio disk under OVMF: its IDE CD drive is not found by the
            # kernel after a network boot there (closing note of 2026-12-06)
            extra=netboot(PXE, seed, "grubx64.efi" if uefi else "boot.ipxe",
                          "virtio" if uefi else "ide")) as vm:
        # no disk and no -kernel: what boots came over TFTP (iPXE prints on the VGA only)
        if uefi:
            vm.expect(r"Wisp \S+, network boot", BOOT_TIMEOUT)
        vm.boot()
        print("  pxe-%s: at the provisioned console" % firmware, flush=True)
        _, out = vm.sh("hostname")
        check(out.strip() == HOSTNAME, "provisioned from the NoCloud seed: hostname %r" % out.strip())
        _, out = vm.sh("cat /proc/cmdline")
        want = read(os.path.join(PXE, "cmdline")).decode().strip()
        # GRUB puts the kernel's name first, as on a disk's boot
        check(out.strip() == ("BOOT_IMAGE=/vmlinuz " if uefi else "") + want,
              "the kernel was given cmdline's words: %r" % out.strip())
        _, out = vm.sh("awk '$5 == \"/\" { print $3 }' /proc/self/mountinfo; cd /sys/block; "
                       "cat dm-0/dev dm-0/dm/name; ls dm-0/slaves; cat loop0/loop/backing_file "
                       "loop0/ro loop0/size")
        w = out.split()
        size = os.path.getsize(os.path.join(B, "wisp.root"))
        check(w == ["253:0", "253:0", "wisp-root", "loop0", "/root.img", "1", str(size // 512)],
              "/ is dm-0 (wisp-root) over loop0, read-only over the initramfs's /root.img "
              "(%d sectors): %r" % (size // 512, w))
        _, out = vm.sh("awk '$2 == \"/var\" { print $3 }' /proc/mounts")
        check(out.split() == ["tmpfs"], "/var is a tmpfs: %r" % out)
        check(vm.buf.count(LIVE_SAID) == 1, "the console said %r once" % LIVE_SAID)
        check("initramfs: root wisp-root (verity) over loop0, switching to it" in vm.buf,
              "/init said what it made")
        u = units(vm)
        check("boot-good" not in u, "no boot-good unit among the units: %r" % sorted(u))
        if uefi:
            measured(vm)
        else:
            rc, out = vm.sh("/usr/libexec/wisp/initramfs-init; echo rc=$?; grep -c ' /proc ' "
                            "/proc/mounts")
            check("not PID 1" in out and "rc=2" in out and out.split()[-1] == "1",
                  "ROOT's initramfs-init run on the host refuses (not PID 1), mounts nothing: "
                  "%r" % out.strip())
            images(vm)


def copy_pxe(tmp, name):
    out = os.path.join(tmp, name)
    shutil.copytree(PXE, out)
    return out


def corrupted(tmp):
    """One byte of root.img's block 0 flipped inside the initramfs (before erofs'
    superblock, which only verity reads whole)."""
    bad = copy_pxe(tmp, "corrupt")
    rd = read(os.path.join(bad, "initrd.img"))
    root = read(os.path.join(B, "wisp.root"))
    at = rd.find(root[:4096])
    check(at > 0 and rd.count(root[:4096]) == 1, "root.img found once in initrd.img")
    with open(os.path.join(bad, "initrd.img"), "r+b") as f:
        f.seek(at + 512)
        f.write(bytes([rd[at + 512] ^ 0x01]))
    with VM(None, firmware="bios", name="pxe-corrupt", disk_bus=None, mem=768,
            extra=netboot(bad)) as vm:
        verity_restarts(vm, "7:0", "root.img (on loop0)")


def no_table(tmp):
    bad = copy_pxe(tmp, "notable")
    path = os.path.join(bad, "boot.ipxe")
    text = read(path).decode()
    start = text.index('"wisp.initramfs.dm=')
    end = text.index('" ', start) + 2
    with open(path, "w") as f:
        f.write(text[:start] + text[end:])
    with VM(None, firmware="bios", name="pxe-notable", disk_bus=None, mem=768,
            extra=netboot(bad)) as vm:
        vm.expect(r"initramfs: no verified root: no wisp\.initramfs\.dm= on the kernel command "
                  r"line", BOOT_TIMEOUT, panic_ok=True)
        vm.expect(r"Kernel panic - not syncing: Attempted to kill init!", 30, panic_ok=True)
        check(not BANNER.search(vm.buf), "/init said why in one line, the kernel panicked, "
              "init never ran")


def body():
    need(IMAGE, "the disk image")
    os.makedirs(os.path.join(B, "tests"), exist_ok=True)
    with tempfile.TemporaryDirectory(dir=os.path.join(B, "tests")) as tmp:
        layout(tmp)
        reproducible(tmp)
        seed = nocloud_seed(tmp, "#cloud-config\nhostname: %s\n" % HOSTNAME, "pxe-1")
        for firmware in ("bios", "uefi"):
            boots(firmware, seed)
        corrupted(tmp)
        no_table(tmp)


if __name__ == "__main__":
    sys.exit(run_test("pxe", body))
