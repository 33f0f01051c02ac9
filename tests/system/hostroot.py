"""The main of a script that runs containers on the build host itself
(tests/containerd-lite/run.py and seccomp_moby.py, bench/runtime.py).

It runs as root, or fails (a skip is a failure), with every file it needs;
and inside a private mount namespace of its own (`unshare -m`, private
propagation: the script executes itself again there), so that the cgroup2
it mounts on /sys/fs/cgroup (the build hosts' cgroups are hybrid) and every
mount its containers make leave the host's untouched.
"""

import os
import subprocess
import sys

# Set in the environment of the script executed again inside the namespace
# (and inherited by what it runs, which is inside it too).
INNER = "WISP_PRIVATE_MOUNT_NS"


def main_as_root(name, inner, needs=(), hint=""):
    """Runs inner() as described above and returns its exit status; NAME
    and HINT (how to make the files of NEEDS) go into the failure lines."""
    if os.geteuid() != 0:
        print("FAIL %s: needs root (a skip is a failure)" % name, flush=True)
        return 1
    for f in needs:
        if not os.path.exists(f):
            print("FAIL %s: %s missing (%s)" % (name, f, hint), flush=True)
            return 1
    if os.environ.get(INNER) != "1":
        return subprocess.call(["unshare", "-m", "--propagation", "private", sys.executable,
                                os.path.abspath(sys.argv[0])] + sys.argv[1:],
                               env=dict(os.environ, **{INNER: "1"}))
    return inner()
