"""What containerd-lite's host tests share (run.py, images.py, net.py,
hostaccess.py, ctr.py, cri.py; pull.py and seccomp_moby.py through them):
the build's paths, the check that prints ok or FAIL, counts failures
and goes on to the next (tests/system/wispvm.py's check ends a boot's test
at its first failure instead; tests/system/hostroot.py gives the tests that
need root their private mount namespace)."""

import os
import shutil
import subprocess
import time

B = os.environ.get("B", "build")
CL = os.path.abspath(os.environ.get("CL_BIN") or os.path.join(B, "host", "containerd-lite"))
BUSYBOX = os.path.abspath(os.path.join(B, "busybox", "busybox"))


class Checks:
    """check = Checks("net: "); check(name, cond, detail="") prints `ok   net: NAME`
    or `FAIL net: NAME: DETAIL` and returns cond; check.failures counts the FAILs."""

    def __init__(self, prefix=""):
        self.prefix = prefix
        self.failures = 0

    def __call__(self, name, cond, detail=""):
        if not cond:
            self.failures += 1
        print(("ok   " if cond else "FAIL ") + self.prefix + name
              + ("" if cond or not detail else ": " + str(detail)), flush=True)
        return cond

    def status(self, what):
        """Prints WHAT's tally; the exit status: 1 if any check failed."""
        print("%s: %s" % (what, "%d failed" % self.failures if self.failures else "all passed"),
              flush=True)
        return 1 if self.failures else 0


def poll(pred, seconds=30):
    """PRED's first true value within a generous deadline, else its last (false)
    one: the tests wait for a state this way, never by sleeping a guessed time."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    return pred()


def remove_work(top, cgroup="/sys/fs/cgroup/containerd-lite"):
    """A test's end: its directory, and the runtime's default cgroups' parent
    (empty by now; cgroup2 is the host's hierarchy)."""
    shutil.rmtree(top, ignore_errors=True)
    try:
        os.rmdir(cgroup)
    except OSError:
        pass


def on_tty(args, **kw):
    """(ARGS' exit status, its standard output when that is a terminal, a pty): what
    root's terminal gets. kw: subprocess.run's (stderr=...)."""
    master, slave = os.openpty()
    try:
        r = subprocess.run(list(args), stdout=slave, timeout=60, **kw)
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the pty's other end is closed
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
    return r.returncode, out
