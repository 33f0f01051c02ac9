"""Write a slot of a copy of a Wisp disk image the way an update would, as
an ordinary user (no loop devices, no mounts): the partitions come from the
GPT as sfdisk reads it, files on the ESP are written with mtools at the
partition's byte offset, and the GRUB environment block is changed with
grub-editenv on a copy taken off the ESP and put back (docs/image-spec.md,
"Boot"). Nothing here is shared with image-builder, so a mistake there is
not repeated here.
"""

import collections
import json
import os
import subprocess
import tempfile

Part = collections.namedtuple("Part", "offset size partuuid")
CHUNK = 1 << 20


def partitions(image):
    """The image's GPT partitions by name: offset and size in bytes, PARTUUID (lower case,
    as the kernel prints it)."""
    out = subprocess.run(["sfdisk", "--json", image], check=True, stdout=subprocess.PIPE,
                         text=True).stdout
    table = json.loads(out)["partitiontable"]
    sector = table.get("sectorsize", 512)
    return {p["name"]: Part(p["start"] * sector, p["size"] * sector, p["uuid"].lower())
            for p in table["partitions"]}


def grubenv(image):
    """The grubenv on IMAGE's ESP (a raw disk image) as grub-editenv lists it."""
    esp = "%s@@%d" % (image, partitions(image)["ESP"].offset)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "grubenv")
        subprocess.run(["mcopy", "-i", esp, "::/grub/grubenv", path], check=True,
                       env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))
        out = subprocess.run(["grub-editenv", path, "list"], check=True,
                             stdout=subprocess.PIPE, text=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def esp_read(image, path):
    """A file (::/PATH) of IMAGE's ESP, as text."""
    esp = "%s@@%d" % (image, partitions(image)["ESP"].offset)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "f")
        subprocess.run(["mcopy", "-i", esp, path, out], check=True,
                       env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))
        with open(out) as f:
            return f.read()


def zero(data):
    return data.count(0) == len(data)


class SlotImage:
    """A sparse copy of IMAGE at PATH, whose slots the methods rewrite."""

    def __init__(self, image, path):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        subprocess.run(["cp", "--sparse=always", image, path], check=True)
        self.path = path
        self.image = image
        self.parts = partitions(path)
        self.esp = "%s@@%d" % (path, self.parts["ESP"].offset)

    def _mcopy(self, src, dst):
        # MTOOLS_SKIP_CHECK: as image-builder, which made this FAT with mkfs.fat.
        subprocess.run(["mcopy", "-o", "-i", self.esp, src, dst], check=True,
                       env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))

    def set_slot(self, slot):
        """wisp_slot=SLOT in the ESP's /grub/grubenv, which grub.cfg reads."""
        self.set_env(wisp_slot=slot)

    def set_env(self, **env):
        """Variables of the ESP's /grub/grubenv, set with grub-editenv (GRUB's own tool)."""
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "grubenv")
            self._mcopy("::/grub/grubenv", path)
            subprocess.run(["grub-editenv", path, "set"] + ["%s=%s" % kv for kv in env.items()],
                           check=True)
            self._mcopy(path, "::/grub/grubenv")

    def env(self):
        """The ESP's grubenv as grub-editenv lists it."""
        return grubenv(self.path)

    def read(self, src):
        """A file of the ESP (::/PATH), as text."""
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "f")
            self._mcopy(src, path)
            with open(path) as f:
                return f.read()

    def write(self, dst, text):
        """A file of the ESP (::/PATH), written with TEXT."""
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "f")
            with open(path, "w") as f:
                f.write(text)
            self._mcopy(path, dst)

    def copy_slot_cfg(self, src, dst):
        """/SRC/slot.cfg as /DST/slot.cfg for the same root in slot DST: its partition's
        PARTUUID and wisp.slot= changed, the root hash kept (the same bytes in both)."""
        text = self.read("::/%s/slot.cfg" % src)
        text = text.replace(self.parts["ROOT-" + src].partuuid, self.parts["ROOT-" + dst].partuuid)
        self.write("::/%s/slot.cfg" % dst, text.replace("wisp.slot=" + src, "wisp.slot=" + dst))

    def copy_kernel(self, src, dst):
        """The ESP's /SRC/vmlinuz to /DST/vmlinuz: the kernel an update brings."""
        with tempfile.TemporaryDirectory() as tmp:
            kernel = os.path.join(tmp, "vmlinuz")
            self._mcopy("::/%s/vmlinuz" % src, kernel)
            self._mcopy(kernel, "::/%s/vmlinuz" % dst)

    def install(self, other, slot):
        """Slot SLOT made of OTHER's slot A (another build of the same spec, its own
        ROOT and root hash): ROOT-A's bytes of OTHER into ROOT-SLOT, its /A/slot.cfg as
        /SLOT/slot.cfg with this image's partition and wisp.slot=SLOT, its kernel."""
        src, dst = partitions(other)["ROOT-A"], self.parts["ROOT-" + slot]
        with open(other, "rb") as f, open(self.path, "r+b") as g:
            for off in range(0, src.size, CHUNK):
                f.seek(src.offset + off)
                data = f.read(min(CHUNK, src.size - off))
                g.seek(dst.offset + off)
                g.write(data)
        text = esp_read(other, "::/A/slot.cfg").replace(src.partuuid, dst.partuuid)
        self.write("::/%s/slot.cfg" % slot, text.replace("wisp.slot=A", "wisp.slot=" + slot))
        self.copy_kernel("A", slot)

    def copy_root(self, src, dst):
        """Partition SRC (ROOT-A: the build's EROFS) byte for byte into DST, of the same
        size. A chunk of zeros is written only where DST has data, so the copy stays
        sparse."""
        a, b = self.parts[src], self.parts[dst]
        if a.size != b.size:
            raise ValueError("%s is %d bytes, %s %d" % (src, a.size, dst, b.size))
        with open(self.path, "r+b") as f:
            for off in range(0, a.size, CHUNK):
                f.seek(a.offset + off)
                data = f.read(min(CHUNK, a.size - off))
                f.seek(b.offset + off)
                if zero(data) and zero(f.read(len(data))):
                    continue
                f.seek(b.offset + off)
                f.write(data)
