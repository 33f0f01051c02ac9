#!/usr/bin/env python3
"""Image store numbers (issue 6), as root, against umoci. Prints, does not judge.

  python3 bench/images.py [RUNS]     (make bench-images; RUNS default 7)

1. Import + unpack of the Debian minbase image (make debian-image):
   `containerd-lite image import` of its OCI tar into a fresh store, then
   `image unpack` to a directory, against `umoci unpack` of the same image
   from its OCI layout directory. RUNS interleaved runs of each, medians of
   wall time and of CPU time (user + system of the command and its
   children). `sync` before every run, outside the timing, so that one
   run's writeback does not land in the next. Also printed: import of the
   layout directory (no tar to extract first) + unpack, with its ratio to
   umoci, and the import alone.
2. Disk: two images sharing the Debian layer (each the base plus one small
   layer of its own) imported into one store, `du` of the store (a file
   with several links counted once), against the sum of `du` of the two
   trees unpacked separately by umoci.

Work happens in $B/bench/images (the build's filesystem) unless
WISP_BENCH_DIR names another directory; WISP_BENCH_TMPFS=1 mounts a tmpfs
there for the run (the code's cost without the disk's: on the shared build
machine's ext4, creating an empty file takes about 1 ms, and containerd-lite
creates every file twice, in the store's layer and in the unpacked tree,
where umoci unpack creates it once). CL_BIN chooses the binary (default:
the static musl one of the image). With WISP_BENCH_CL_OTHER=PATH a second
containerd-lite binary (a build before a change) is timed too, its import
(OCI tar) + unpack and import --no-unpack + unpack interleaved with the
rest as "(other)", and the ratios of this build's to it printed.
"""
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import time

B = os.environ.get("B", "build")
CL = os.path.abspath(os.environ.get("CL_BIN") or os.path.join(B, "containerd-lite", "containerd-lite"))
OTHER = os.environ.get("WISP_BENCH_CL_OTHER")
OTHER = os.path.abspath(OTHER) if OTHER else None
DEBIAN = os.path.abspath(os.path.join(B, "images", "debian-minbase"))
TAG = "bookworm"


def must(*args):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("images.py: %s failed: %s%s" % (" ".join(map(str, args)), r.stdout, r.stderr))
    return r


def timed(*cmds):
    """Runs the commands one after the other; (wall, cpu) seconds."""
    os.sync()
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    for cmd in cmds:
        must(*cmd)
    t1 = time.monotonic()
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return t1 - t0, (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)


def clean(*paths):
    for p in paths:
        shutil.rmtree(p, ignore_errors=True)


def du_k(*paths):
    """Blocks used, KiB, one du over all paths: hardlinks counted once."""
    return int(must("du", "-sck", *paths).stdout.splitlines()[-1].split()[0])


def small_layer(path, name):
    """A small layer of its own: /etc/NAME (64 KiB) and /opt/NAME/run.sh."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        for n, data in (("etc/" + name, (name + "\n").encode() * (65536 // (len(name) + 1))),
                        ("opt/" + name + "/run.sh", b"#!/bin/sh\necho " + name.encode() + b"\n")):
            for d in ("etc/", "opt/", "opt/" + name + "/"):
                if n.startswith(d) and d not in t.getnames():
                    ti = tarfile.TarInfo(d)
                    ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                    t.addfile(ti)
            ti = tarfile.TarInfo(n)
            ti.size, ti.mode = len(data), 0o755
            t.addfile(ti, io.BytesIO(data))


def layers_of(lay, tag):
    idx = json.load(open(os.path.join(lay, "index.json")))
    m = [d for d in idx["manifests"]
         if d.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag][0]
    return json.load(open(os.path.join(lay, "blobs/sha256", m["digest"][7:])))["layers"]


def speed(w, runs):
    lay, otar = DEBIAN + ".oci", DEBIAN + ".oci.tar"
    store, out, ref = (os.path.join(w, n) for n in ("store", "out", "ref"))
    layer = layers_of(lay, TAG)
    entries = sum(1 for _ in tarfile.open(os.path.join(lay, "blobs/sha256",
                                                       layer[0]["digest"][7:])))
    print("== import + unpack: Debian bookworm minbase, %d layer(s), %.1f MB compressed "
          "(OCI tar %.1f MB), %d entries; %d interleaved runs, medians"
          % (len(layer), sum(l["size"] for l in layer) / 1e6, os.path.getsize(otar) / 1e6,
             entries, runs))
    print("   %s" % CL)
    if OTHER:
        print("   other: %s" % OTHER)

    def tar_unpack(cl, *flags):
        return lambda: timed(
            (cl, "image", "--store", store, "import", *flags, "--name", "debian", otar),
            (cl, "image", "--store", store, "unpack", "debian", out))
    cases = {
        "containerd-lite import (OCI tar) + unpack": tar_unpack(CL),
        "umoci unpack (OCI layout dir)": lambda: timed(
            ("umoci", "unpack", "--image", lay + ":" + TAG, ref)),
        # what a tree (not a container) needs: the blobs verified and stored,
        # the tree made from them; the store's layers wait for a container
        "containerd-lite import --no-unpack (OCI tar) + unpack": tar_unpack(CL, "--no-unpack"),
        # the layout directory umoci reads, imported the same way as the tar
        "containerd-lite import (OCI layout dir) + unpack": lambda: timed(
            (CL, "image", "--store", store, "import", "--tag", TAG, "--name", "debian", lay),
            (CL, "image", "--store", store, "unpack", "debian", out)),
        "containerd-lite import (OCI tar) alone": lambda: timed(
            (CL, "image", "--store", store, "import", "--name", "debian", otar)),
    }
    if OTHER:
        cases["(other) import (OCI tar) + unpack"] = tar_unpack(OTHER)
        cases["(other) import --no-unpack (OCI tar) + unpack"] = tar_unpack(OTHER, "--no-unpack")
    res = {k: [] for k in cases}
    for _ in range(runs):
        for k, f in cases.items():
            clean(store, out, ref)
            res[k].append(f())
    clean(store, out, ref)
    med = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
           for k, v in res.items()}
    for k, (wall, cpu) in med.items():
        walls = " ".join("%.2f" % x[0] for x in res[k])
        print("%-54s wall %6.2f s  cpu %6.2f s   (walls: %s)" % (k, wall, cpu, walls))
    a = med["containerd-lite import (OCI tar) + unpack"]
    u = med["umoci unpack (OCI layout dir)"]
    d = med["containerd-lite import --no-unpack (OCI tar) + unpack"]
    print("ratio containerd-lite import --no-unpack + unpack / umoci: wall %.2f  cpu %.2f  "
          "(goal <= 1.0)" % (d[0] / u[0], d[1] / u[1]))
    print("ratio containerd-lite import (store layers too) + unpack / umoci: wall %.2f  cpu %.2f"
          % (a[0] / u[0], a[1] / u[1]))
    ld = med["containerd-lite import (OCI layout dir) + unpack"]
    print("ratio containerd-lite import (OCI layout dir) + unpack / umoci: wall %.2f  cpu %.2f"
          % (ld[0] / u[0], ld[1] / u[1]))
    for k in ("import (OCI tar) + unpack", "import --no-unpack (OCI tar) + unpack") if OTHER else ():
        t, o = med["containerd-lite " + k], med["(other) " + k]
        print("ratio this build / other, %s: wall %.2f  cpu %.2f" % (k, t[0] / o[0], t[1] / o[1]))


def disk(w):
    lay = os.path.join(w, "oci")
    shutil.copytree(DEBIAN + ".oci", lay, symlinks=True)
    for name in ("a", "b"):
        p = os.path.join(w, "layer-%s.tar" % name)
        small_layer(p, "wisp-" + name)
        must("umoci", "raw", "add-layer", "--image", lay + ":" + TAG, "--tag", name, p)
    store = os.path.join(w, "store")
    for name in ("a", "b"):
        must(CL, "image", "--store", store, "import", "--tag", name, "--name", name, lay)
        if name == "a":
            one = du_k(store)
    both = du_k(store)
    trees = []
    for name in ("a", "b"):
        t = os.path.join(w, "unpacked-" + name)
        must("umoci", "unpack", "--image", lay + ":" + name, t)
        trees.append(os.path.join(t, "rootfs"))
    sep = [du_k(t) for t in trees]
    blobs, layers = du_k(os.path.join(store, "blobs")), du_k(os.path.join(store, "layers"))
    nl = len(os.listdir(os.path.join(store, "layers")))
    print("== disk: two images sharing the Debian layer (base + 64 KiB layer of their own each)")
    print("store after image a           %8d KiB" % one)
    print("store after a and b           %8d KiB  (blobs %d KiB, %d unpacked layers %d KiB)"
          % (both, blobs, nl, layers))
    print("a and b unpacked separately   %8d KiB  (%d + %d, umoci unpack)" % (sum(sep), *sep))
    print("ratio store / separate trees: %.2f   second image's cost in the store: %d KiB"
          % (both / sum(sep), both - one))


def main():
    sys.stdout.reconfigure(line_buffering=True)
    if os.geteuid() != 0:
        sys.exit("images.py: run as root (image ownership)")
    for p in (DEBIAN + ".oci", DEBIAN + ".oci.tar", CL):
        if not os.path.exists(p):
            sys.exit("images.py: %s missing: make debian-image %s" % (p, CL))
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    w = os.path.abspath(os.environ.get("WISP_BENCH_DIR") or os.path.join(B, "bench", "images"))
    clean(w)
    os.makedirs(w)
    tmpfs = os.environ.get("WISP_BENCH_TMPFS") == "1"
    if tmpfs:
        must("mount", "-t", "tmpfs", "-o", "size=4g,mode=0755", "wisp-bench-images", w)
    fs = must("findmnt", "-n", "-o", "FSTYPE", "--target", w).stdout.strip()
    print("== work directory %s (%s)" % (w, fs))
    try:
        speed(w, runs)
        disk(w)
    finally:
        if tmpfs:
            must("umount", w)
        clean(w)


main()
