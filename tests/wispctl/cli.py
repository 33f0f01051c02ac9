#!/usr/bin/env python3
"""wispctl's --help and --version (docs/wispctl.md), checked by `make
wispctl-test` on the build host: the static musl binary runs anywhere, and
neither option may need init or its socket.

--help: exit 0, nothing on stderr, and on stdout "usage: " followed by the
usage block of docs/wispctl.md (its first ``` block) line for line, so that
the page and the program cannot drift apart. --version: exit 0,
"wispctl VERSION" with the build's WISP_VERSION.

Prints ok/FAIL per check; exits 1 on any failure.
"""
import os
import re
import subprocess
import sys

failures = 0


def check(name, cond, detail=""):
    global failures
    if not cond:
        failures += 1
    print(("ok   " if cond else "FAIL ") + name + ("" if cond or not detail else ": " + repr(detail)))


def doc_usage(path):
    with open(path) as f:
        m = re.search(r"^```\n(wispctl .*?)^```$", f.read(), re.S | re.M)
    return m.group(1) if m else None


def main():
    exe, doc, version = sys.argv[1], sys.argv[2], os.environ.get("WISP_VERSION")
    if not version:
        sys.exit("wispctl cli: WISP_VERSION not set (make wispctl-test)")
    usage = doc_usage(doc)
    check("docs/wispctl.md has a usage block", usage is not None)
    r = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=10)
    check("--help: exit 0, nothing on stderr", r.returncode == 0 and r.stderr == "",
          (r.returncode, r.stderr))
    check("--help: the usage of docs/wispctl.md on stdout", r.stdout == "usage: " + (usage or ""),
          r.stdout)
    r = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10)
    check("--version: exit 0, nothing on stderr", r.returncode == 0 and r.stderr == "",
          (r.returncode, r.stderr))
    check("--version: wispctl " + version, r.stdout == "wispctl %s\n" % version, r.stdout)
    print("wispctl cli: %s" % ("all ok" if failures == 0 else "%d FAILED" % failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
