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

`update apply URL`: the URL (http:// or https://, the scheme in any case) goes to
the updater in WISP_UPDATE_URL, not in its argv (every user's /proc/PID/cmdline):
wispctl runs in a private mount namespace (unshare -rm) over a tmpfs on
/usr/libexec whose wisp/update script prints its argv and that variable.

Prints ok/FAIL per check; exits 1 on any failure.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

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


UPDATER_PROBE = """#!/bin/sh
printf 'argv:%s\\n' "$*"
printf 'env:%s\\n' "$WISP_UPDATE_URL"
"""


def url_handed(exe):
    """The update URL through the environment, never the updater's argv."""
    w = tempfile.mkdtemp(prefix="wispctl-cli-")
    try:
        probe = os.path.join(w, "update")
        with open(probe, "w") as f:
            f.write(UPDATER_PROBE)
        os.chmod(probe, 0o755)
        for url in ("https://u:pw@host/b.bundle?sig=s", "HTTPS://u:pw@host/b.bundle?sig=s",
                    "Http://host/b.bundle"):
            r = subprocess.run(
                ["unshare", "-rm", "sh", "-c", 'mount -t tmpfs none /usr/libexec && '
                 'mkdir /usr/libexec/wisp && cp "$1" /usr/libexec/wisp/update && '
                 'exec "$2" update apply "$3"', "sh", probe, os.path.abspath(exe), url],
                capture_output=True, text=True, timeout=10)
            check("update apply %s: the URL in WISP_UPDATE_URL, not in the updater's argv"
                  % url.split(":")[0],
                  r.returncode == 0 and r.stdout == "argv:apply\nenv:%s\n" % url,
                  (r.returncode, r.stdout, r.stderr))
    finally:
        shutil.rmtree(w)


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
    url_handed(exe)
    print("wispctl cli: %s" % ("all ok" if failures == 0 else "%d FAILED" % failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
