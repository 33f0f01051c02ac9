#!/usr/bin/env python3
"""The verified root against its peer (issue 14): Debian's `veritysetup verify` checks
ROOT-A as it sits in the built disk image against build/wisp.verity, the parameters
image-builder printed and put into slot A's command line; the same with one byte of
ROOT-A changed must fail. ROOT-A must also hold build/wisp.root byte for byte.

usage: verity.py IMAGE   (IMAGE.verity and IMAGE.root beside it)
Prints ok/FAIL per check; exits 1 on any failure."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "system"))
from slots import partitions  # noqa: E402

failures = 0


def check(name, cond, detail=""):
    global failures
    failures += not cond
    print(("ok   " if cond else "FAIL ") + name + ("" if cond or not detail else ": " + detail))


def verify(path, v):
    """veritysetup verify of the data and tree in PATH: its exit status and output."""
    p = subprocess.run(
        ["/usr/sbin/veritysetup", "verify", "--no-superblock", "--hash=" + v["hash"],
         "--data-block-size=" + v["data_block_size"], "--hash-block-size=" + v["hash_block_size"],
         "--data-blocks=" + v["data_blocks"],
         "--hash-offset=%d" % (int(v["hash_start_block"]) * int(v["hash_block_size"])),
         "--salt=" + v["salt"], path, path, v["root_hash"]],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout.strip()


def main(image):
    base = os.path.splitext(image)[0]
    with open(base + ".verity") as f:
        v = dict(line.strip().split("=", 1) for line in f if "=" in line)
    with open(base + ".root", "rb") as f:
        root = f.read()
    part = partitions(image)["ROOT-A"]
    with open(image, "rb") as f:
        f.seek(part.offset)
        slot = f.read(len(root))
    check("ROOT-A holds %s.root (%d bytes)" % (base, len(root)), slot == root)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "root-a")
        with open(path, "wb") as f:
            f.write(slot)
        rc, out = verify(path, v)
        check("veritysetup verify: ROOT-A matches root hash %s" % v["root_hash"], rc == 0, out)
        for off, what in ((0, "data block 0"), (len(root) - 1, "the tree's last block")):
            with open(path, "r+b") as f:
                f.seek(off)
                b = f.read(1)
                f.seek(off)
                f.write(bytes([b[0] ^ 1]))
            rc, out = verify(path, v)
            check("veritysetup verify fails with one byte of %s changed" % what, rc != 0, out)
            with open(path, "r+b") as f:
                f.seek(off)
                f.write(b)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
