#!/usr/bin/env python3
"""containerd drives containerd-lite unchanged (issue 16 point 6), as root.

Debian's containerd 1.6 runs in a private mount namespace (hostroot.py)
with cgroup2 on /sys/fs/cgroup, a tmpfs on /run/containerd (where its runc
v2 shim keeps the runtime's state: `--root /run/containerd/runc/NS`) and
everything else in a temporary directory. `ctr --runc-binary CL_BIN` makes
the shim call containerd-lite wherever it would call runc: create (with
the shim's console socket for a terminal), start, state, exec, ps, pause,
resume, kill, delete. The image is the Debian minbase OCI archive
(tests/images.mk), imported by ctr.

`--cpu-shares 0`: ctr asks for 1024 shares by default, and the build
hosts' cgroup v2 has no cpu controller (hybrid cgroups); runc and crun
refuse that spec on these hosts too. Inside a Wisp guest it has one.

Prints ok/FAIL per check; exits 1 on any failure.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "system"))
from hostroot import main_as_root  # noqa: E402

from harness import B, CL, Checks  # noqa: E402
ARCHIVE = os.path.abspath(os.path.join(B, "images", "debian-minbase.oci.tar"))
IMAGE = "wisp.test/debian:minbase"
NS = "wisp-ctr-test"
check = Checks("ctr: ")


class Ctr:
    def __init__(self, sock, ns=NS):
        self.sock = sock
        self.base = ["ctr", "--address", sock, "--namespace", ns]

    def __call__(self, *args, timeout=60):
        return subprocess.run(self.base + list(args), capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    def run(self, *args):
        """ctr run with containerd-lite as the shim's runtime."""
        return self("run", "--cpu-shares", "0", "--runc-binary", CL, *args)

    def status(self, cid):
        for line in self("task", "ls").stdout.splitlines()[1:]:
            f = line.split()
            if f and f[0] == cid:
                return f[2], int(f[1])
        return None, 0

    def wait_status(self, cid, want, seconds=30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            st, _ = self.status(cid)
            if st == want:
                return True
            time.sleep(0.05)
        return False


def host_mounts():
    """What containerd needs of the private mount namespace: cgroup2 on
    /sys/fs/cgroup (the build hosts' is hybrid) and a tmpfs on
    /run/containerd, where its shims keep the runtime's state."""
    if subprocess.run(["stat", "-f", "-c", "%T", "/sys/fs/cgroup"], capture_output=True,
                      text=True).stdout.strip() != "cgroup2fs":
        subprocess.run(["mount", "-t", "cgroup2", "none", "/sys/fs/cgroup"], check=True)
    os.makedirs("/run/containerd", exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run/containerd"], check=True)


def start_containerd(top, cri="", ns=NS):
    """containerd with everything under TOP, answering on TOP/containerd.sock;
    its CRI plugin disabled unless CRI (TOML of its section) is given."""
    sock = os.path.join(top, "containerd.sock")
    with open(os.path.join(top, "config.toml"), "w") as f:
        f.write('version = 2\nroot = "%s/root"\nstate = "%s/state"\n%s'
                '[grpc]\n  address = "%s"\n%s' % (
                    top, top, "" if cri else 'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n',
                    sock, cri))
    log = open(os.path.join(top, "containerd.log"), "w")
    proc = subprocess.Popen(["containerd", "--config", os.path.join(top, "config.toml")],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    ctr = Ctr(sock, ns)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        if ctr("version").returncode == 0:
            return proc, ctr
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("containerd did not answer within 30 s (see %s/containerd.log)" % top)


def test_run(ctr):
    r = ctr.run("--rm", IMAGE, "run1", "sh", "-c", "echo out; echo err >&2; exit 7")
    check("run: the task's exit status is ctr's", r.returncode == 7, (r.returncode, r.stderr))
    check("run: stdout and stderr through the shim's fifos",
          r.stdout == "out\n" and "err\n" in r.stderr, (r.stdout, r.stderr))
    r = ctr.run("--rm", IMAGE, "run2", "sh", "-c", "id -u; cat /proc/1/cmdline | tr '\\0' ' '")
    check("run: as root, pid 1 of its own pid namespace", r.stdout.startswith("0\nsh -c id -u; "),
          (r.returncode, r.stdout, r.stderr))


def test_detached(ctr):
    r = ctr.run("-d", IMAGE, "det", "sleep", "1000")
    check("detached: run -d", r.returncode == 0, r.stderr)
    st, pid = ctr.status("det")
    check("detached: task ls says RUNNING with a pid", st == "RUNNING" and pid > 1, (st, pid))
    with open("/proc/%d/cmdline" % pid) as f:
        check("detached: that pid is the container's sleep", f.read() == "sleep\0" "1000\0")
    r = ctr("task", "exec", "--exec-id", "e1", "det", "sh", "-c",
            "cat /proc/1/cmdline | tr '\\0' ' '; exit 3")
    check("exec: in the container's pid namespace, its status returned",
          r.returncode == 3 and r.stdout == "sleep 1000 ", (r.returncode, r.stdout, r.stderr))
    r = ctr("task", "ps", "det")
    check("ps: lists the task's pid", str(pid) in r.stdout.split(), r.stdout)
    r = ctr("task", "pause", "det")
    check("pause: PAUSED", r.returncode == 0 and ctr.wait_status("det", "PAUSED"), r.stderr)
    with open("/proc/%d/cgroup" % pid) as f:
        cg = f.read().strip().split("::")[-1]
    with open("/sys/fs/cgroup%s/cgroup.events" % cg) as f:
        events = f.read()
    check("pause: its cgroup (containerd's %s/ID) is frozen" % NS,
          cg == "/%s/det" % NS and "frozen 1" in events, (cg, events))
    r = ctr("task", "resume", "det")
    check("resume: RUNNING", r.returncode == 0 and ctr.wait_status("det", "RUNNING"), r.stderr)
    r = ctr("task", "kill", "--signal", "SIGKILL", "det")
    check("kill: STOPPED", r.returncode == 0 and ctr.wait_status("det", "STOPPED"), r.stderr)
    r = ctr("task", "delete", "det")
    check("delete: the exit status is 137 (SIGKILL)", r.returncode == 0 and "137" in r.stderr,
          (r.returncode, r.stderr))
    r = ctr("container", "delete", "det")
    check("container delete", r.returncode == 0, r.stderr)


def test_tty(ctr):
    """-t: the shim hands containerd-lite a console socket; ctr wants a terminal itself,
    which `script` gives it."""
    cmd = " ".join(ctr.base + ["run", "-t", "--rm", "--cpu-shares", "0", "--runc-binary", CL,
                               IMAGE, "tty1", "sh", "-c", "'tty; echo tty-ok; exit 5'"])
    r = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    check("tty: a terminal inside, the output through it, the status back",
          "/dev/pts/0\n" in r.stdout and "tty-ok\n" in r.stdout and r.returncode == 5,
          (r.returncode, r.stdout[-200:]))


def test_clean(ctr, top):
    r = ctr("container", "ls", "-q")
    check("nothing left in containerd", r.stdout.strip() == "", r.stdout)
    r = subprocess.run([CL, "--root", "/run/containerd/runc/" + NS, "list", "-q"],
                       capture_output=True, text=True)
    check("nothing left in containerd-lite's state", r.returncode == 0 and r.stdout.strip() == "",
          (r.returncode, r.stdout, r.stderr))
    left = os.listdir("/sys/fs/cgroup/" + NS) if os.path.isdir("/sys/fs/cgroup/" + NS) else []
    check("no cgroup left", left == [] or all(not os.path.isdir(os.path.join(
        "/sys/fs/cgroup", NS, d)) for d in left), left)


def stop_containerd(proc):
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def inner():
    host_mounts()
    top = tempfile.mkdtemp(prefix="wisp-ctr-")
    proc = None
    try:
        proc, ctr = start_containerd(top)
        r = ctr("image", "import", "--index-name", IMAGE, ARCHIVE, timeout=300)
        if not check("image import of the Debian minbase OCI archive", r.returncode == 0, r.stderr):
            return 1
        test_run(ctr)
        test_detached(ctr)
        test_tty(ctr)
        test_clean(ctr, top)
    finally:
        if proc:
            stop_containerd(proc)
        if NS and os.path.isdir("/sys/fs/cgroup/" + NS):
            subprocess.run(["rmdir", "/sys/fs/cgroup/" + NS])
        shutil.rmtree(top, ignore_errors=True)
    return check.status("ctr")


if __name__ == "__main__":
    sys.exit(main_as_root("ctr", inner, needs=(CL, ARCHIVE, shutil.which("containerd") or
                                                 "containerd (package containerd)",
                                                 shutil.which("script") or "script"),
                          hint="make deps && make cl-test"))
