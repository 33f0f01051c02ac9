#!/usr/bin/env python3
"""The image store's reserve of free space (make image-test; docs/images.md,
"Free space").

The store shares STATE with PID 1's logs and every container's data: an
image that declares, or unpacks to, more than the file system has left
must be refused before the file system is full, with one line naming it,
and leave nothing behind. The store here is a 96 MiB tmpfs (its default
reserve: a quarter, 24 MiB) in a private mount namespace (hostroot.py);
the images are built beside it, on the disk, so that only the store's
own writes count.

Prints ok/FAIL per check; exits 1 on any failure.
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "image-builder"))
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "system"))
from oci_layout import CONFIG_MT, LAYER_MT, MANIFEST_MT, blob, config_blob, dumps, layout, tar_of  # noqa: E402
from hostroot import main_as_root  # noqa: E402

from harness import CL, Checks  # noqa: E402
check = Checks("reserve: ")
MIB = 1 << 20
TMPFS = 96 * MIB
DEFAULT_RESERVE = 24 * MIB  # max(5 %, 64 MiB), at most a quarter of the file system


def run(*args):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300)


def free(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def snapshot(store):
    return sorted(os.path.relpath(os.path.join(d, n), store)
                  for d, ds, fs in os.walk(store) for n in ds + fs if n != "lock")


class Zeros:
    """A file object of size zero bytes, read without holding them."""

    def __init__(self, size):
        self.left = size

    def read(self, n=-1):
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return bytes(n)


def gzip_bomb(files):
    """A gzip'd tar of files (name, size) of zeros: a few hundred KB that
    unpack to their sum."""
    bio = io.BytesIO()
    with gzip.GzipFile(fileobj=bio, mode="wb", compresslevel=1, mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w|", format=tarfile.GNU_FORMAT) as t:
            for name, size in files:
                ti = tarfile.TarInfo(name)
                ti.size, ti.mode = size, 0o644
                t.addfile(ti, Zeros(size))
    return bio.getvalue()


def zeros_digest(size):
    h = hashlib.sha256()
    for _ in range(size // MIB):
        h.update(bytes(MIB))
    return "sha256:" + h.hexdigest()


def big_blob_layout(lay, size):
    """An OCI layout whose one layer blob is size bytes (zeros, sparse on
    the disk) and says so: a descriptor honest about a blob too big."""
    os.makedirs(os.path.join(lay, "blobs", "sha256"))
    with open(os.path.join(lay, "oci-layout"), "wb") as f:
        f.write(dumps({"imageLayoutVersion": "1.0.0"}))
    digest = zeros_digest(size)
    with open(os.path.join(lay, "blobs", "sha256", digest[7:]), "wb") as f:
        f.truncate(size)
    cfg = dict(blob(lay, config_blob({})), mediaType=CONFIG_MT)
    man = dumps({"schemaVersion": 2, "mediaType": MANIFEST_MT, "config": cfg,
                 "layers": [{"mediaType": LAYER_MT, "digest": digest, "size": size}]})
    with open(os.path.join(lay, "index.json"), "wb") as f:
        f.write(dumps({"schemaVersion": 2,
                       "manifests": [dict(blob(lay, man), mediaType=MANIFEST_MT)]}))
    return digest


def lowest_free(store, cmd):
    """Runs cmd; the least free space on store seen meanwhile (sampled as
    often as Python can: what another writer would have found)."""
    low, done = [free(store)], threading.Event()

    def sample():
        while not done.is_set():
            low[0] = min(low[0], free(store))
    t = threading.Thread(target=sample)
    t.start()
    try:
        r = run(*cmd)
    finally:
        done.set()
        t.join()
    return r, low[0]


def refused(store, name, src, what, want, args=(), reserve=DEFAULT_RESERVE):
    """Importing src fails with one line naming src, what (the layer or
    blob) and the reserve, leaves the store as it was, and never ate into
    the reserve meanwhile."""
    before, floor = snapshot(store), min(reserve, free(store))
    r, low = lowest_free(store, (CL, "image", "--store", store, *args, "import", "--name", name,
                                 src))
    msg = r.stderr.strip()
    line = ("containerd-lite: image import %s: %s: %s would leave less than %d MiB free on %s "
            "(the store's reserve); refused" % (src, what, want, reserve // MIB, store))
    check("%s: refused, one line naming the image, %s and the reserve" % (name, what),
          r.returncode == 1 and msg == line, "exit %d: %s" % (r.returncode, msg))
    check("%s: nothing partial left in the store" % name, snapshot(store) == before,
          sorted(set(snapshot(store)) ^ set(before))[:5])
    # a reserve larger than what is free: nothing less than that, then
    check("%s: the reserve free throughout, and after" % name,
          low >= floor and free(store) >= floor,
          "%d KiB free at the least, %d KiB after" % (low >> 10, free(store) >> 10))


def cases(w, store):
    small = os.path.join(w, "small")
    layout(small, [tar_of([("f", tarfile.REGTYPE, b"small\n")])])
    r = run(CL, "image", "--store", store, "import", "--name", "first", small)
    check("a small image imports", r.returncode == 0, r.stderr.strip())
    # one file of 200 MiB: refused at its header, nothing written
    one = os.path.join(w, "bomb-one")
    ls = layout(one, [gzip_bomb([("big", 200 * MIB)])], mt=LAYER_MT + "+gzip")
    refused(store, "bomb-one", one, "layer " + ls[0]["digest"], "unpacking")
    # 150 files of 1 MiB: none too big alone, the sum is; caught while writing
    many = os.path.join(w, "bomb-many")
    ls = layout(many, [gzip_bomb([("f%03d" % i, MIB) for i in range(150)])],
                mt=LAYER_MT + "+gzip")
    refused(store, "bomb-many", many, "layer " + ls[0]["digest"], "unpacking")
    # a blob whose descriptor says 200 MiB: refused before it is copied
    big = os.path.join(w, "big-blob")
    digest = big_blob_layout(big, 200 * MIB)
    refused(store, "big-blob", big, "blob " + digest, "storing its 200 MiB")
    # the same as an archive: its member is refused as it is extracted
    tar = os.path.join(w, "big-blob.tar")
    r = run("tar", "-C", big, "-cf", tar, ".")
    check("big-blob.tar made", r.returncode == 0, r.stderr)
    refused(store, "big-blob.tar", tar, "archive", "unpacking")
    # --reserve BYTES, more than is free: a small image refused at its
    # first blob (the manifest)
    keep = (free(store) // MIB + 1) * MIB
    man = json.load(open(os.path.join(small, "index.json")))["manifests"][0]
    refused(store, "small-reserved", small, "blob " + man["digest"],
            "storing its %d bytes" % man["size"], args=("--reserve", str(keep)), reserve=keep)
    r = run(CL, "image", "--store", store, "--reserve", "64M", "list")
    check("--reserve 64M: not a number", r.returncode == 1 and
          "--reserve 64M: not a number" in r.stderr, r.stderr.strip())
    r = run(CL, "image", "--store", store, "import", "--name", "after", small)
    check("a small image still imports afterwards", r.returncode == 0, r.stderr.strip())


def inodes(w):
    """A layer of 30 000 empty files (no data block, every one an inode) into a store
    whose file system has 20 000 inodes (a tmpfs with nr_inodes; STATE's ext4 has a fixed
    number too): refused once 4096 would be left (IMG_RESERVE_MIN_INODES), in one line,
    nothing left behind; a small image still imports."""
    store = os.path.join(w, "istore")
    os.makedirs(store)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d,nr_inodes=20000" % TMPFS,
                    "wisp-reserve-inodes", store], check=True)
    try:
        small = os.path.join(w, "small")
        r = run(CL, "image", "--store", store, "import", "--name", "first", small)
        check("inode-bomb: a small image imports first", r.returncode == 0, r.stderr.strip())
        src = os.path.join(w, "inode-bomb")
        ls = layout(src, [gzip_bomb([("e%05d" % i, 0) for i in range(30000)])],
                    mt=LAYER_MT + "+gzip")
        before = snapshot(store)
        r = run(CL, "image", "--store", store, "import", "--name", "inode-bomb", src)
        line = ("containerd-lite: image import %s: layer %s: unpacking would leave less than "
                "4096 inodes free on %s (the store's reserve); refused" % (src, ls[0]["digest"],
                                                                          store))
        check("inode-bomb: refused, one line naming the image, the layer and the inodes kept",
              r.returncode == 1 and r.stderr.strip() == line, r.stderr.strip())
        check("inode-bomb: nothing partial left, the inodes free again",
              snapshot(store) == before and os.statvfs(store).f_favail > 4096,
              (sorted(set(snapshot(store)) ^ set(before))[:5], os.statvfs(store).f_favail))
        r = run(CL, "image", "--store", store, "import", "--name", "after", small)
        check("inode-bomb: a small image still imports afterwards", r.returncode == 0,
              r.stderr.strip())
    finally:
        subprocess.run(["umount", "-l", store])


class Registry(BaseHTTPRequestHandler):
    """A registry of paths -> (media type, size, body or None for zeros),
    over plain HTTP on loopback; what was asked for, in asked."""
    blobs, asked = {}, []

    def do_GET(self):
        self.asked.append(self.path)
        if self.path not in self.blobs:
            self.send_response(404)
            self.end_headers()
            return
        mt, size, body = self.blobs[self.path]
        self.send_response(200)
        self.send_header("Content-Type", mt)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        try:
            for _ in range(size // MIB if body is None else 0):
                self.wfile.write(bytes(MIB))
            self.wfile.write(body or b"")
        except OSError:
            pass  # the client stopped reading: what is tested

    def log_message(self, *args):
        pass


def serve(repo, layers):
    """repo:1 served, its layers [(size of zeros, declared size)]."""
    cfg = config_blob({})
    cd = "sha256:" + hashlib.sha256(cfg).hexdigest()
    Registry.blobs["/v2/%s/blobs/%s" % (repo, cd)] = ("application/octet-stream", len(cfg), cfg)
    descs = []
    for size, declared in layers:
        d = zeros_digest(size)
        Registry.blobs["/v2/%s/blobs/%s" % (repo, d)] = ("application/octet-stream", size, None)
        descs.append({"mediaType": LAYER_MT, "digest": d, "size": declared})
    man = dumps({"schemaVersion": 2, "mediaType": MANIFEST_MT, "layers": descs,
                 "config": {"mediaType": CONFIG_MT, "digest": cd, "size": len(cfg)}})
    Registry.blobs["/v2/%s/manifests/1" % repo] = (MANIFEST_MT, len(man), man)
    return [l["digest"] for l in descs]


def pulls(w, store):
    """image pull: a layer declared 1 TiB is refused before it is asked
    for; so are two of 50 and 51 MiB, each fitting alone, not together (the
    pull's sum, before either is asked for); no partial left either way."""
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    host = "127.0.0.1:%d" % srv.server_address[1]
    regs = os.path.join(w, "registries.json")
    with open(regs, "w") as f:
        json.dump({"registries": {host: {"insecure": True}}}, f)
    try:
        for repo, layers, who, want in (
                ("huge", [(MIB, 1 << 40)], "blob sha256:", "storing its 1048576 MiB"),
                ("two", [(50 * MIB, 50 * MIB), (51 * MIB, 51 * MIB)], "2 blobs together: ",
                 "storing its 101 MiB")):
            ds, n, before = serve("wisp/" + repo, layers), len(Registry.asked), snapshot(store)
            ref = "%s/wisp/%s:1" % (host, repo)
            r = run(CL, "image", "--store", store, "pull", "--registries", regs, ref)
            msg = r.stderr.strip().splitlines()
            ok = (r.returncode == 1 and len(msg) == 1 and
                  msg[0].startswith("containerd-lite: image pull %s: %s" % (ref, who)) and
                  msg[0].endswith(": %s would leave less than 24 MiB free on %s (the store's "
                                  "reserve); refused" % (want, store)))
            check("pull %s: refused in one line naming the blobs and the reserve" % repo, ok,
                  "exit %d: %s" % (r.returncode, r.stderr.strip()[-400:]))
            # tmp/partial itself, empty, is the pull's (gc removes it)
            left = (set(snapshot(store)) ^ set(before)) - {"tmp/partial"}
            check("pull %s: nothing partial left" % repo, not left, sorted(left)[:5])
            check("pull %s: no layer asked for" % repo,
                  not any(d in p for d in ds for p in Registry.asked[n:]), Registry.asked[n:])
    finally:
        srv.shutdown()


def inner():
    w = tempfile.mkdtemp(prefix="wisp-reserve-")
    store = os.path.join(w, "store")
    try:
        os.makedirs(store)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d" % TMPFS, "wisp-reserve", store],
                       check=True)
        cases(w, store)
        pulls(w, store)
        inodes(w)
    finally:
        subprocess.run(["umount", "-l", store])
        shutil.rmtree(w, ignore_errors=True)
    return check.status("image-test reserve")


if __name__ == "__main__":
    sys.exit(main_as_root("image-test reserve", inner, needs=(CL,), hint="make containerd-lite"))
