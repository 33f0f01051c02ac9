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


def zero(data):
    return data.count(0) == len(data)


class SlotImage:
    """A sparse copy of IMAGE at PATH, whose slots the methods rewrite."""

    def __init__(self, image, path):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        subprocess.run(["cp", "--sparse=always", image, path], check=True)
        self.path = path
        self.parts = partitions(path)
        self.esp = "%s@@%d" % (path, self.parts["ESP"].offset)

    def _mcopy(self, src, dst):
        # MTOOLS_SKIP_CHECK: as image-builder, which made this FAT with mkfs.fat.
        subprocess.run(["mcopy", "-o", "-i", self.esp, src, dst], check=True,
                       env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))

    def set_slot(self, slot):
        """wisp_slot=SLOT in the ESP's /grub/grubenv, which grub.cfg reads."""
        with tempfile.TemporaryDirectory() as tmp:
            env = os.path.join(tmp, "grubenv")
            self._mcopy("::/grub/grubenv", env)
            subprocess.run(["grub-editenv", env, "set", "wisp_slot=" + slot], check=True)
            self._mcopy(env, "::/grub/grubenv")

    def copy_kernel(self, src, dst):
        """The ESP's /SRC/vmlinuz to /DST/vmlinuz: the kernel an update brings."""
        with tempfile.TemporaryDirectory() as tmp:
            kernel = os.path.join(tmp, "vmlinuz")
            self._mcopy("::/%s/vmlinuz" % src, kernel)
            self._mcopy(kernel, "::/%s/vmlinuz" % dst)

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
