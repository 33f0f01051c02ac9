"""OCI image layouts written byte for byte from their inputs (docs/images.md).

The build's demo image (image-builder/busybox_image.py) and the crafted
layouts of the image tests (tests/containerd-lite/images.py) are made here.
Nothing of the machine or the moment enters an archive: tar members are
owned by 0:0 with mtime 0 and the modes given, gzip streams carry no name
nor time, and JSON is compact with keys in a fixed order, so the same inputs give the
same digests on every build (umoci, by contrast, records when it ran).
"""

import hashlib
import io
import json
import os
import tarfile

MANIFEST_MT = "application/vnd.oci.image.manifest.v1+json"
CONFIG_MT = "application/vnd.oci.image.config.v1+json"
LAYER_MT = "application/vnd.oci.image.layer.v1.tar"


def dumps(obj):
    """Compact JSON, as docker and umoci write it."""
    return json.dumps(obj, separators=(",", ":")).encode()


def blob(lay, data):
    """Stores DATA in layout LAY's blobs; returns its digest and size."""
    d = hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.join(lay, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(lay, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + d, "size": len(data)}


def config_blob(config, diff_ids=()):
    """An amd64 image configuration with CONFIG (Cmd, Env, ...) and the
    uncompressed layers' DIFF_IDS (digests)."""
    return dumps({"architecture": "amd64", "os": "linux", "config": config or {},
                  "rootfs": {"type": "layers", "diff_ids": list(diff_ids)}})


def layout(lay, layers, mt=LAYER_MT, platforms=None, config=None, diff_ids=()):
    """An OCI layout of the given layer blobs (media type MT); platforms: a
    list of (arch, variant) for an index with one manifest each. Returns
    the layers' descriptors."""
    os.makedirs(lay)
    with open(os.path.join(lay, "oci-layout"), "wb") as f:
        f.write(dumps({"imageLayoutVersion": "1.0.0"}))
    cfg = dict(blob(lay, config_blob(config, diff_ids)), mediaType=CONFIG_MT)
    ls = [dict(blob(lay, data), mediaType=mt) for data in layers]
    man = dumps({"schemaVersion": 2, "mediaType": MANIFEST_MT, "config": cfg, "layers": ls})
    ms = []
    for arch, variant in platforms or [(None, None)]:
        d = dict(blob(lay, man), mediaType=MANIFEST_MT)
        if arch:
            d["platform"] = {"os": "linux", "architecture": arch}
            if variant:
                d["platform"]["variant"] = variant
        ms.append(d)
    with open(os.path.join(lay, "index.json"), "wb") as f:
        f.write(dumps({"schemaVersion": 2, "manifests": ms}))
    return ls


def tar_of(entries):
    """A tar, members in the order given (the tests craft hostile orders):
    entries are (name, type, data-or-linkname[, mode]); mode 0755 unless
    given; owner 0:0, mtime 0."""
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, kind, arg, *mode in entries:
            ti = tarfile.TarInfo(name)
            ti.type = kind
            ti.mode = mode[0] if mode else 0o755
            if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                ti.linkname = arg
                t.addfile(ti)
            elif kind == tarfile.CHRTYPE:
                ti.devmajor, ti.devminor = 1, 3
                t.addfile(ti)
            else:
                data = arg or b""
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
    return bio.getvalue()


def layout_tar(lay, path):
    """Layout LAY as an OCI layout tar at PATH: its files in name order,
    directories 0755, files 0644, written to PATH.tmp and renamed (a build
    stopped half-way leaves no archive that make would take as done)."""
    entries = []
    for dirpath, dirs, files in os.walk(lay):
        dirs.sort()
        rel = os.path.relpath(dirpath, lay)
        if rel != ".":
            entries.append((rel + "/", tarfile.DIRTYPE, None, 0o755))
        for name in sorted(files):
            with open(os.path.join(dirpath, name), "rb") as f:
                entries.append((os.path.normpath(os.path.join(rel, name)), tarfile.REGTYPE,
                                f.read(), 0o644))
    with open(path + ".tmp", "wb") as f:
        f.write(tar_of(entries))
    os.replace(path + ".tmp", path)
    return path
