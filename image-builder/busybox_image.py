#!/usr/bin/env python3
"""A one-layer OCI image of the build's busybox, the same bytes from the
same inputs (image-builder/oci_layout.py). The build makes the default
image's demo container from it (image-builder/image-builder.mk); the
system tests make their small busybox images with it.

  busybox_image.py -o OUT.tar [--layout DIR] [--busybox PATH] [--applet NAME]...
                   [--dir PATH[:MODE]]... [--file PATH=SRC]... [--text PATH=TEXT]...
                   [--cmd ARG]... [--env KEY=VALUE]...

The layer holds /bin/busybox, a symlink /bin/NAME -> busybox per applet,
the directories (mode 0755 unless given, octal), files copied from SRC
(0755 if SRC is executable, else 0644) and files of the text given, each
PATH relative to the image's root; parents are added as 0755
directories. --cmd and --env make the configuration's Cmd and Env. OUT is
an OCI layout tar with a gzip layer; --layout keeps the layout directory
too (it must not exist). Bad input: one line naming the option, exit 1.
"""

import argparse
import gzip
import hashlib
import os
import shutil
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oci_layout import LAYER_MT, layout, layout_tar, tar_of  # noqa: E402


class Bad(Exception):
    """Bad input: its text is the one line printed."""


def inside(opt, value, path):
    """PATH relative to the image's root; Bad if it is empty or climbs out."""
    path = path.strip("/")
    if not path or ".." in path.split("/"):
        raise Bad("%s %s: the path must name something inside the image" % (opt, value))
    return path


def split(opt, value, sep):
    """VALUE as (PATH, REST) split at SEP, PATH inside the image."""
    path, found, rest = value.partition(sep)
    if not found:
        raise Bad("%s %s: expected PATH%sVALUE" % (opt, value, sep))
    return inside(opt, value, path), rest


def members(args):
    """The layer's members by path: (type, data-or-link, mode)."""
    m = {}
    with open(args.busybox, "rb") as f:
        m["bin/busybox"] = (tarfile.REGTYPE, f.read(), 0o755)
    for a in args.applet:
        if not a or "/" in a:
            raise Bad("--applet %r: expected an applet name" % a)
        m["bin/" + a] = (tarfile.SYMTYPE, "busybox", 0o777)
    for d in args.dir:
        path, mode = d.partition(":")[::2]
        try:
            mode = int(mode or "755", 8)
        except ValueError:
            raise Bad("--dir %s: mode %r is not octal" % (d, mode))
        m[inside("--dir", d, path)] = (tarfile.DIRTYPE, None, mode)
    for spec in args.file:
        path, src = split("--file", spec, "=")
        try:
            with open(src, "rb") as f:
                data = f.read()
        except OSError as e:
            raise Bad("--file %s: %s: %s" % (spec, src, e.strerror))
        m[path] = (tarfile.REGTYPE, data, 0o755 if os.access(src, os.X_OK) else 0o644)
    for spec in args.text:
        path, text = split("--text", spec, "=")
        m[path] = (tarfile.REGTYPE, text.encode(), 0o644)
    for path in list(m):
        parent = os.path.dirname(path)
        while parent and parent not in m:
            m[parent] = (tarfile.DIRTYPE, None, 0o755)
            parent = os.path.dirname(parent)
    return m


def build(args):
    m = members(args)
    # name order, a directory before what it holds ("bin/" sorts before "bin/x")
    layer = tar_of([(p + "/" if m[p][0] == tarfile.DIRTYPE else p,) + m[p]
                    for p in sorted(m, key=lambda p: p.split("/"))])
    config = {"Env": args.env or ["PATH=/bin"]}
    if args.cmd:
        config["Cmd"] = args.cmd
    lay = args.layout or tempfile.mkdtemp(prefix="layout.", dir=os.path.dirname(args.o) or ".")
    if not args.layout:
        os.rmdir(lay)
    try:
        layout(lay, [gzip.compress(layer, compresslevel=9, mtime=0)],
               mt=LAYER_MT + "+gzip", config=config,
               diff_ids=["sha256:" + hashlib.sha256(layer).hexdigest()])
        layout_tar(lay, args.o)
    finally:
        if not args.layout:
            shutil.rmtree(lay, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(prog="busybox_image.py", description=__doc__.split("\n\n")[0])
    p.add_argument("-o", required=True, metavar="OUT.tar")
    p.add_argument("--layout", metavar="DIR")
    p.add_argument("--busybox", default=os.path.join(os.environ.get("B", "build"),
                                                     "busybox", "busybox"))
    for opt in ("applet", "dir", "file", "text", "cmd", "env"):
        p.add_argument("--" + opt, action="append", default=[])
    args = p.parse_args()
    try:
        if args.layout and os.path.lexists(args.layout):
            raise Bad("--layout %s: already exists" % args.layout)
        build(args)
    except Bad as e:
        sys.exit("busybox_image.py: %s" % e)
    except OSError as e:
        sys.exit("busybox_image.py: %s: %s" % (e.filename, e.strerror))


if __name__ == "__main__":
    main()
