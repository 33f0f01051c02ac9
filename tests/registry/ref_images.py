"""The reference images the registry fixture serves by default, as OCI
layouts made byte for byte from their inputs (image-builder/oci_layout.py),
so their digests are the same on every run and every machine.

  wisp/busybox:1         two gzip layers: the build's busybox with a few
                         applets, then /etc/marker (a layer on a layer, as
                         real images are; the demo image has one)
  private/busybox:1      the same image in the token-protected namespace
  wisp/big:1             one uncompressed tar layer holding 50 MiB of
                         pseudo-random bytes from a fixed seed: large and
                         incompressible, for the client's resume test
  wisp/debian-minbase:bookworm
                         `make debian-image` (build/images/debian-minbase.oci)
"""

import gzip
import hashlib
import json
import os
import sys
import tarfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "image-builder"))
from oci_layout import LAYER_MT, layout, tar_of  # noqa: E402

APPLETS = ("sh", "ls", "cat", "echo", "sha256sum")
BIG_SIZE = 50 * 1024 * 1024
BIG_SEED = b"wisp registry fixture: big layer v1"


def build_dir():
    b = os.environ.get("B", "build")
    return b if os.path.isabs(b) else os.path.join(ROOT, b)


def need(path, how):
    """PATH, or a loud failure naming what makes it (no skipping)."""
    if not os.path.exists(path):
        raise FileNotFoundError("%s missing: %s" % (path, how))
    return path


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def diff_id(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def busybox_layout(lay, busybox):
    """Two gzip layers: busybox and its applets, then /etc/marker."""
    with open(busybox, "rb") as f:
        bb = f.read()
    base = tar_of([("bin/", tarfile.DIRTYPE, None), ("bin/busybox", tarfile.REGTYPE, bb)] +
                  [("bin/" + a, tarfile.SYMTYPE, "busybox", 0o777) for a in APPLETS])
    top = tar_of([("etc/", tarfile.DIRTYPE, None),
                  ("etc/marker", tarfile.REGTYPE, b"wisp registry fixture\n", 0o644)])
    layout(lay, [gz(base), gz(top)], mt=LAYER_MT + "+gzip",
           config={"Env": ["PATH=/bin"], "Cmd": ["cat", "/etc/marker"]},
           diff_ids=[diff_id(base), diff_id(top)])
    return lay


def big_bytes(size=BIG_SIZE, seed=BIG_SEED):
    """SIZE pseudo-random bytes, the same for the same SEED (SHAKE-256:
    deterministic everywhere, and as incompressible as random data)."""
    return hashlib.shake_256(seed).digest(size)


def big_layout(lay, size=BIG_SIZE):
    """One uncompressed layer: /big.bin of SIZE random bytes."""
    layer = tar_of([("big.bin", tarfile.REGTYPE, big_bytes(size), 0o644)])
    layout(lay, [layer], mt=LAYER_MT, config={"Cmd": ["/big.bin"]}, diff_ids=[diff_id(layer)])
    return lay


def reference_images(workdir, debian=True, big=True):
    """{REPO:TAG: skopeo source} of the default images, their layouts made
    in WORKDIR/layouts. A missing build input fails, naming its make goal."""
    d = os.path.join(workdir, "layouts")
    os.makedirs(d, exist_ok=True)
    bb = busybox_layout(os.path.join(d, "busybox"),
                        need(os.path.join(build_dir(), "busybox", "busybox"), "make busybox"))
    images = {"wisp/busybox:1": "oci:" + bb, "private/busybox:1": "oci:" + bb}
    if big:
        images["wisp/big:1"] = "oci:" + big_layout(os.path.join(d, "big"))
    if debian:
        deb = need(os.path.join(build_dir(), "images", "debian-minbase.oci"),
                   "make debian-image")
        images["wisp/debian-minbase:bookworm"] = "oci:%s:bookworm" % deb
    return images


def manifest_digest(lay, tag=None):
    """The digest of layout LAY's manifest (the one tagged TAG, else the
    only one): what a registry must answer for it."""
    with open(os.path.join(lay, "index.json"), "rb") as f:
        ms = json.load(f)["manifests"]
    if tag:
        ms = [m for m in ms if m.get("annotations", {}).get("org.opencontainers.image.ref.name")
              == tag]
    if len(ms) != 1:
        raise ValueError("%s: %d manifests for tag %r" % (lay, len(ms), tag))
    return ms[0]["digest"]


def source_digest(source):
    """manifest_digest() of a skopeo "oci:DIR[:TAG]" source."""
    ref = source[len("oci:"):]
    lay, _, tag = ref.partition(":")
    return manifest_digest(lay, tag or None)


def layers(source):
    """The layer descriptors of a skopeo "oci:DIR[:TAG]" source's manifest."""
    lay = source[len("oci:"):].partition(":")[0]
    hexd = source_digest(source).split(":", 1)[1]
    with open(os.path.join(lay, "blobs", "sha256", hexd), "rb") as f:
        return json.load(f)["layers"]
