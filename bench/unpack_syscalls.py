#!/usr/bin/env python3
"""System calls of one extraction of the Debian minbase layer, per entry. Prints, does not judge.

  python3 bench/unpack_syscalls.py CL [CL...]     (as root; strace installed)

For each containerd-lite binary CL: `image import --no-unpack` of the OCI tar
(make debian-image) into a fresh store, then `image unpack` to a directory
under `strace -f -c`: the unpack's system calls, in all and per entry of the
layer (every name of the unpacked tree, the root aside), and the calls of
which any binary made at least 1000. Work happens in $B/bench/syscalls.
"""
import os
import shutil
import subprocess
import sys

B = os.environ.get("B", "build")
IMAGE = os.path.abspath(os.path.join(B, "images", "debian-minbase.oci.tar"))


def must(*args):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("unpack_syscalls.py: %s failed: %s%s" % (" ".join(map(str, args)), r.stdout, r.stderr))
    return r


def counts(path):
    """strace -c's table as {call: count}, its total under "total"."""
    calls = {}
    for line in open(path):
        f = line.split()
        if len(f) >= 5 and f[0].replace(".", "").isdigit() and f[3].isdigit():
            calls[f[-1]] = int(f[3])
    return calls


def one(cl, work):
    store, out, trace = (os.path.join(work, n) for n in ("store", "out", "strace.txt"))
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    must(cl, "image", "--store", store, "import", "--no-unpack", "--name", "debian", IMAGE)
    must("strace", "-f", "-c", "-o", trace, cl, "image", "--store", store, "unpack", "debian", out)
    entries = sum(len(d) + len(f) for _, d, f in os.walk(out))
    calls = counts(trace)
    shutil.rmtree(work)
    return entries, calls


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if not os.path.exists(IMAGE):
        sys.exit("unpack_syscalls.py: %s: missing (make debian-image)" % IMAGE)
    work = os.path.abspath(os.path.join(B, "bench", "syscalls"))
    runs = [(cl,) + one(os.path.abspath(cl), work) for cl in sys.argv[1:]]
    for cl, entries, calls in runs:
        print("%s: %d entries, %d system calls, %.1f per entry"
              % (cl, entries, calls["total"], calls["total"] / entries))
    names = sorted({k for _, _, c in runs for k, v in c.items() if v >= 1000 and k != "total"},
                   key=lambda k: -runs[0][2].get(k, 0))
    for k in names:
        print("%-12s %s" % (k, "  ".join("%8d" % c.get(k, 0) for _, _, c in runs)))


if __name__ == "__main__":
    main()
