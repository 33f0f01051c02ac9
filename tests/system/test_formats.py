"""Cloud image formats (docs/image-spec.md, "Cloud image formats"): build/cloud/, written
by `image-builder convert` from build/wisp.img, checked against each format's own
specification and booted.

- wisp.vhd: a fixed VHD (Microsoft's Virtual Hard Disk Image Format Specification,
  the format Azure imports): the raw disk, then a 512-byte footer whose cookie,
  version, disk type (2, fixed), sizes (the raw disk's, a whole number of MiB, as
  Azure requires), checksum (one's complement of the sum of its other bytes),
  timestamp (SOURCE_DATE_EPOCH, in seconds since 2000) and UUID (the GPT disk GUID)
  are read here, not by QEMU;
- wisp.vmdk: a streamOptimized VMDK (VMware's Virtual Disk Format 1.1: the sparse
  header's magic "KDMV" and compressed-grains flag, the descriptor's createType and
  its CID, here the GPT disk GUID's first four bytes);
- wisp.qcow2: qcow2 version 3 (QEMU's docs/interop/qcow2.txt: magic "QFI\\xfb");
- wisp-gce.tar.gz: Google's import format: a gzip'd tar (no name, no date in the gzip
  header) holding only disk.raw, its size a whole number of GiB.
Each holds the raw disk's bytes (qemu-img compare); the same image and epoch convert to
the same bytes (a second conversion in another directory). Each boots to the
provisioned console with its verified root: qcow2 and VMDK through SeaBIOS, VHD
(Azure's generation 2) and GCE's disk.raw through OVMF; on GCE's 1 GiB disk STATE
grows to the disk's end.
"""

import gzip
import os
import struct
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from slots import partitions  # noqa: E402
from test_boot import firmware_was, read_verity, verified_root  # noqa: E402
from wispvm import VM, BootError, check, run_test  # noqa: E402

B = os.environ.get("B", "build")
IMAGE = os.path.join(B, "wisp.img")
CLOUD = os.path.join(B, "cloud")
IB = os.path.join(B, "host", "image-builder")
VHD_EPOCH = 946684800  # 2000-01-01T00:00:00Z
MIB, GIB = 1 << 20, 1 << 30


def epoch():
    v = os.environ.get("SOURCE_DATE_EPOCH")
    if not v or not v.isdigit():
        raise BootError("SOURCE_DATE_EPOCH is not set (make sets it): %r" % v)
    return int(v)


def disk_guid(image):
    """The primary GPT header's disk GUID (LBA 1, bytes 56-71), as stored."""
    with open(image, "rb") as f:
        f.seek(512)
        hdr = f.read(92)
    check(hdr[:8] == b"EFI PART", "%s is a GPT disk" % image)
    return hdr[56:72]


def same_data(fmt, path, what):
    r = subprocess.run(["qemu-img", "compare", "-f", "raw", "-F", fmt, IMAGE, path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    check(r.returncode == 0, "%s holds the raw disk's bytes: %s" % (what, r.stdout.strip()))


def vhd(path, size, guid):
    check(os.path.getsize(path) == size + 512, "VHD: the raw disk and a 512-byte footer")
    with open(path, "rb") as f:
        f.seek(size)
        footer = f.read(512)
    (cookie, features, version, offset, stamp, _app, _cver, _host, orig, cur, _geo, dtype,
     csum) = struct.unpack(">8sIIQI4sI4sQQIII", footer[:68])
    check((cookie, features & 2, version, offset, dtype) ==
          (b"conectix", 2, 0x10000, 0xFFFFFFFFFFFFFFFF, 2),
          "VHD footer: cookie conectix, reserved feature bit, version 1.0, no dynamic header, "
          "disk type 2 (fixed): %r" % ((cookie, features, version, offset, dtype),))
    check(orig == cur == size and size % MIB == 0,
          "VHD footer: original and current size %d, %d = the raw disk (%d), whole MiB"
          % (orig, cur, size))
    want = ~(sum(footer[:64]) + sum(footer[68:])) & 0xFFFFFFFF
    check(csum == want, "VHD footer checksum %08x (computed %08x)" % (csum, want))
    check(stamp == epoch() - VHD_EPOCH, "VHD timestamp is SOURCE_DATE_EPOCH: %d s after 2000"
          % stamp)
    check(footer[68:84] == guid, "VHD UUID is the GPT disk GUID: %s" % footer[68:84].hex())
    same_data("vpc", path, "the VHD")


def vmdk(path, guid):
    with open(path, "rb") as f:
        hdr = f.read(512)
        magic, version, flags = struct.unpack("<4sII", hdr[:12])
        desc_off, desc_len = struct.unpack("<QQ", hdr[28:44])
        f.seek(desc_off * 512)
        desc = f.read(desc_len * 512).split(b"\0")[0].decode()
    check(magic == b"KDMV" and version == 3 and flags & (1 << 16) and flags & (1 << 17),
          "VMDK sparse header: KDMV, version 3, compressed grains with markers: %r"
          % ((magic, version, hex(flags)),))
    lines = dict(line.split("=", 1) for line in desc.splitlines() if "=" in line)
    check(lines.get("createType") == '"streamOptimized"', "VMDK descriptor: streamOptimized")
    check(lines.get("CID") == guid[:4].hex(), "VMDK CID is the disk GUID's first four bytes: %s"
          % lines.get("CID"))
    same_data("vmdk", path, "the VMDK")


def qcow2(path):
    with open(path, "rb") as f:
        magic, version = struct.unpack(">4sI", f.read(8))
    check(magic == b"QFI\xfb" and version == 3, "qcow2: magic and version 3: %r"
          % ((magic, version),))
    same_data("qcow2", path, "the qcow2")


def gce(path, tmp):
    with open(path, "rb") as f:
        head = f.read(10)
    check(head[:2] == b"\x1f\x8b" and head[3] & 0x08 == 0 and head[4:8] == b"\0\0\0\0",
          "GCE: a gzip stream with no file name and no date in its header: %r" % head)
    with gzip.open(path) as g, tarfile.open(fileobj=g, mode="r|") as t:
        members = [(m.name, m.size) for m in t]
    check(len(members) == 1 and members[0][0] == "disk.raw" and members[0][1] % GIB == 0,
          "GCE: the tar holds disk.raw alone, a whole number of GiB: %r" % members)
    subprocess.run(["tar", "-xSzf", path, "-C", tmp], check=True)
    raw = os.path.join(tmp, "disk.raw")
    same_data("raw", raw, "GCE's disk.raw")
    return raw


def reproducible(tmp):
    for name, fmt in (("wisp.qcow2", "qcow2"), ("wisp.vhd", "vhd"), ("wisp.vmdk", "vmdk"),
                      ("wisp-gce.tar.gz", "gce")):
        again = os.path.join(tmp, name)
        subprocess.run([IB, "convert", "--format", fmt, IMAGE, again], check=True)
        with open(again, "rb") as a, open(os.path.join(CLOUD, name), "rb") as b:
            check(a.read() == b.read(), "%s: a second conversion gives the same bytes" % name)
        os.unlink(again)


def boots(vm, firmware):
    """VM boots through FIRMWARE to the provisioned console, its root verified."""
    vm.boot()
    print("  %s: at the provisioned console" % vm.name, flush=True)
    firmware_was(vm, firmware)
    verified_root(vm, partitions(IMAGE)["ROOT-A"].partuuid, "3", read_verity(IMAGE))


def body():
    size, guid = os.path.getsize(IMAGE), disk_guid(IMAGE)
    with tempfile.TemporaryDirectory(dir=B) as tmp:
        vhd(os.path.join(CLOUD, "wisp.vhd"), size, guid)
        vmdk(os.path.join(CLOUD, "wisp.vmdk"), guid)
        qcow2(os.path.join(CLOUD, "wisp.qcow2"))
        raw = gce(os.path.join(CLOUD, "wisp-gce.tar.gz"), tmp)
        reproducible(tmp)
        for fmt, firmware in (("qcow2", "bios"), ("vhd", "uefi"), ("vmdk", "bios")):
            with VM(os.path.join(CLOUD, "wisp." + fmt), firmware=firmware,
                    name="format-" + fmt) as vm:
                boots(vm, firmware)
        state = partitions(IMAGE)["STATE"].size
        with VM(raw, firmware="uefi", name="format-gce") as vm:
            boots(vm, "uefi")
            _, out = vm.sh("cat /sys/class/block/vda5/size")
            check(int(out.strip() or 0) * 512 > state + 512 * MIB,
                  "STATE grew into GCE's 1 GiB disk: %s sectors (%d in the image)"
                  % (out.strip(), state // 512))


if __name__ == "__main__":
    sys.exit(run_test("formats", body))
