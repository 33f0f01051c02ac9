#!/usr/bin/env python3
"""wispctl's --help and --version (docs/wispctl.md), checked by `make
wispctl-test` on the build host: the static musl binary runs anywhere, and
neither option may need init or its socket.

--help: exit 0, nothing on stderr, and on stdout "usage: " followed by the
usage block of docs/wispctl.md (its first ``` block) line for line, so that
the page and the program cannot drift apart. --version: exit 0,
"wispctl VERSION" with the build's WISP_VERSION.

Options anywhere (the parser's cases are in tests/unit/test_wispctl_args.c;
here the binary): --help and --version after a command; options after the
command and the unit name are taken, so the request gets as far as
connecting to init (exit 1; on the build host there is no init), where the
old parser refused them (exit 2); an unknown option is one line naming the
command, exit 2.

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


def run(exe, *args):
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=10)


def anywhere(exe, usage, version):
    for args in (["ps", "--help"], ["logs", "web", "-h"], ["logs", "--bogus", "--help"]):
        r = run(exe, *args)
        check("%s: the usage, exit 0" % " ".join(args),
              r.returncode == 0 and r.stderr == "" and r.stdout == "usage: " + usage,
              (r.returncode, r.stderr))
    r = run(exe, "status", "web", "--version")
    check("status web --version: wispctl " + version,
          r.returncode == 0 and r.stdout == "wispctl %s\n" % version, (r.returncode, r.stdout))
    for args in (["ps", "--json"], ["logs", "-n", "100", "web"], ["logs", "web", "-n", "100", "-f"],
                 ["status", "web", "--format", "json"]):
        r = run(exe, *args)
        check("%s: taken, only init missing (exit 1)" % " ".join(args),
              r.returncode == 1 and r.stderr.startswith("wispctl: connect to init"),
              (r.returncode, r.stderr))
    r = run(exe, "ps", "--bogus")
    check("ps --bogus: one line naming the command and the option, exit 2",
          r.returncode == 2 and r.stdout == "" and r.stderr ==
          'wispctl: ps: unknown option "--bogus" (wispctl --help for usage)\n',
          (r.returncode, r.stderr))
    r = run(exe, "logs", "--", "-n")
    check("logs -- -n: -n is the operand", r.returncode == 2 and '"-n" is not a unit name' in r.stderr,
          (r.returncode, r.stderr))


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
    anywhere(exe, usage or "", version)
    print("wispctl cli: %s" % ("all ok" if failures == 0 else "%d FAILED" % failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
