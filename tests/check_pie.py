#!/usr/bin/env python3
"""pie-check (docs/hardening.md): Wisp's static programs other than PID 1 are static-pie,
loaded at a random address at every exec; PID 1 is at its fixed one.

    python3 tests/check_pie.py [--manifest FILE] PROGRAM... --fixed PROGRAM

For each PROGRAM: the ELF header says ET_DYN with no PT_INTERP (static-pie: no dynamic
linker to run it), and two execs of it, each stopped by ptrace at its first instruction,
map it at two different addresses (read from /proc/PID/maps: the kernel's placement,
not a claim of the file's). For --fixed: ET_EXEC, the same address both times. On a
build without static-pie every program fails both checks. With --manifest (ROOT's,
rootfs/manifest): every ELF file it puts in the image must be one of the PROGRAMs or
the --fixed one, so that a program added to the image is not left out of the check.
"""

import ctypes
import os
import signal
import struct
import sys

PTRACE_TRACEME = 0
ET_EXEC, ET_DYN = 2, 3
PT_INTERP = 3


def elf_kind(path):
    """(e_type, has PT_INTERP) of a 64-bit little-endian ELF file."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
            sys.exit("pie-check: %s: not a 64-bit little-endian ELF file" % path)
        e_type = struct.unpack_from("<H", head, 16)[0]
        phoff = struct.unpack_from("<Q", head, 32)[0]
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    types = [struct.unpack_from("<I", table, i * phentsize)[0] for i in range(phnum)]
    return e_type, PT_INTERP in types


def load_address(path):
    """Where the kernel maps PATH's first segment: exec it stopped (PTRACE_TRACEME: the
    kernel stops the child with SIGTRAP after its execve), read its maps, kill it."""
    libc = ctypes.CDLL(None, use_errno=True)
    real = os.path.realpath(path)
    pid = os.fork()
    if pid == 0:
        try:
            if libc.ptrace(PTRACE_TRACEME, 0, None, None) == 0:
                os.execv(path, [path, "--help"])
        finally:
            os._exit(127)
    _, status = os.waitpid(pid, 0)
    try:
        if not os.WIFSTOPPED(status):
            sys.exit("pie-check: %s did not stop at its exec (status %#x)" % (path, status))
        with open("/proc/%d/maps" % pid) as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 6 and fields[5] == real:
                    return int(fields[0].split("-")[0], 16)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    sys.exit("pie-check: %s: not in its own maps" % path)


def check(path, pie):
    e_type, interp = elf_kind(path)
    a, b = load_address(path), load_address(path)
    if pie and (e_type != ET_DYN or interp or a == b):
        return "%s: not static-pie (ELF type %d%s; loaded at %#x, then %#x)" % (
            path, e_type, ", with an interpreter" if interp else "", a, b)
    if not pie and (e_type != ET_EXEC or a != b):
        return "%s: expected at a fixed address (ELF type %d; loaded at %#x, then %#x)" % (
            path, e_type, a, b)
    return None


def unchecked(manifest, checked):
    """ELF files the manifest's "file PATH SOURCE MODE" lines put in the image that are
    not among the checked programs (a source that is not built yet is missing: said)."""
    left = []
    with open(manifest) as f:
        for n, line in enumerate(f, 1):
            w = line.split()
            if len(w) < 3 or w[0] != "file":
                continue
            try:
                with open(w[2], "rb") as src:
                    elf = src.read(4) == b"\x7fELF"
            except OSError as e:
                sys.exit("pie-check: %s:%d: %s: %s" % (manifest, n, w[2], e.strerror))
            if elf and os.path.realpath(w[2]) not in checked:
                left.append("%s (%s)" % (w[1], w[2]))
    return left


def main(argv):
    manifest = None
    if argv[:1] == ["--manifest"] and len(argv) > 1:
        manifest, argv = argv[1], argv[2:]
    if "--fixed" not in argv or argv.index("--fixed") != len(argv) - 2 or len(argv) < 3:
        sys.exit("usage: check_pie.py [--manifest FILE] PROGRAM... --fixed PROGRAM")
    if manifest:
        left = unchecked(manifest, {os.path.realpath(p) for p in argv if p != "--fixed"})
        if left:
            sys.exit("pie-check: %s puts programs in the image this check was not given: %s"
                     % (manifest, ", ".join(left)))
    with open("/proc/sys/kernel/randomize_va_space") as f:
        if f.read().strip() == "0":
            sys.exit("pie-check: this host's kernel.randomize_va_space is 0: "
                     "nothing is randomized here, the check cannot tell")
    bad = [e for e in [check(p, True) for p in argv[:-2]] + [check(argv[-1], False)] if e]
    for e in bad:
        print("pie-check: " + e, file=sys.stderr)
    if bad:
        return 1
    print("pie-check: %d programs static-pie, PID 1 at its fixed address" % (len(argv) - 2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
