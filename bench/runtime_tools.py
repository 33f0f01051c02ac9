#!/usr/bin/env python3
"""OCI runtime-tools validation: containerd-lite against crun, one run.

    python3 bench/runtime_tools.py SUITE [RUNTIME...]

SUITE is a directory of runtime-tools' validation suite already built:
`runtimetest` (static), `rootfs-amd64.tar.gz` and `validation/NAME/NAME.t`
for every test. Debian packages runtime-tools' library only (its
golang-github-opencontainers-runtime-tools-dev has no validation/), so
the suite comes from upstream's tree and is not part of the project or
of `make test`; bench/RESULTS.md says which commit and how it was built.
RUNTIME defaults to B/host/containerd-lite and /usr/bin/crun.

Each executable runs once per runtime (RUNTIME=... NAME.t, cwd SUITE, as
runtime-tools' `make localvalidation`), as root, in a private mount
namespace with cgroup2 on /sys/fs/cgroup (hostroot.py). An executable
passes when it exits 0 and prints no `not ok` line: the TAP lines alone
mislead, as process_capabilities_fail prints the container's 307 `ok`
lines when the runtime wrongly accepted CAP_TEST and fails by its exit
status. Prints a line per executable and the totals; exits 1 when
containerd-lite (the first runtime) fails an executable the second passes.
"""
import os
import subprocess
import sys

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "system"))
from hostroot import main_as_root  # noqa: E402

B = os.environ.get("B", "build")
ARGS = [a for a in sys.argv[1:]]
SUITE = os.path.abspath(ARGS[0]) if ARGS else ""
RUNTIMES = [os.path.abspath(r) for r in ARGS[1:]] or [
    os.path.abspath(os.path.join(B, "host", "containerd-lite")), "/usr/bin/crun"]


def executables():
    root = os.path.join(SUITE, "validation")
    return sorted(n for n in os.listdir(root) if os.path.exists(os.path.join(root, n, n + ".t")))


def run_one(runtime, name):
    """(passed, ok lines, not ok lines, last stderr line)"""
    try:
        r = subprocess.run([os.path.join("validation", name, name + ".t")], cwd=SUITE,
                           env=dict(os.environ, RUNTIME=runtime), capture_output=True,
                           text=True, timeout=300)
        rc, out, err = r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired:
        rc, out, err = -1, "", "timed out after 300 s"
    lines = out.splitlines()
    ok = sum(1 for ln in lines if ln.startswith("ok"))
    bad = sum(1 for ln in lines if ln.startswith("not ok"))
    tail = (err.strip().splitlines() or [""])[-1]
    return rc == 0 and bad == 0, ok, bad, tail


def inner():
    if subprocess.run(["stat", "-f", "-c", "%T", "/sys/fs/cgroup"], capture_output=True,
                      text=True).stdout.strip() != "cgroup2fs":
        if subprocess.run(["mount", "-t", "cgroup2", "none", "/sys/fs/cgroup"]).returncode:
            print("FAIL runtime-tools: cannot mount cgroup2", flush=True)
            return 1
    names = executables()
    res = {rt: {} for rt in RUNTIMES}
    for n in names:
        cells = []
        for rt in RUNTIMES:
            res[rt][n] = run_one(rt, n)
            p, ok, bad, _ = res[rt][n]
            cells.append("%-4s %4d/%-3d" % ("pass" if p else "FAIL", ok, bad))
        print("%-32s %s" % (n, "   ".join(cells)), flush=True)
    for rt in RUNTIMES:
        v = res[rt].values()
        print("%s: %d of %d executables pass; TAP lines %d ok, %d not ok" % (
            os.path.basename(rt), sum(1 for x in v if x[0]), len(names), sum(x[1] for x in v),
            sum(x[2] for x in v)))
    if len(RUNTIMES) < 2:
        return 0
    ours, peer = res[RUNTIMES[0]], res[RUNTIMES[1]]
    worse = [n for n in names if peer[n][0] and not ours[n][0]]
    for n in worse:
        print("FAIL runtime-tools: %s passes under %s, not under %s: %s" % (
            n, os.path.basename(RUNTIMES[1]), os.path.basename(RUNTIMES[0]), ours[n][3]))
    print("runtime-tools: %d executable(s) fail only under %s" % (len(worse), os.path.basename(RUNTIMES[0])))
    return 1 if worse else 0


if __name__ == "__main__":
    if not SUITE or not os.path.isdir(os.path.join(SUITE, "validation")):
        print("FAIL runtime-tools: usage: runtime_tools.py SUITE [RUNTIME...] "
              "(SUITE: a built runtime-tools tree with validation/)", flush=True)
        sys.exit(1)
    sys.exit(main_as_root("runtime-tools", inner, needs=RUNTIMES + [os.path.join(SUITE, "runtimetest")]))
