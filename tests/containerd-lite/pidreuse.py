#!/usr/bin/env python3
"""exec, kill, kill --all, delete --force and a create joining a process's namespaces by
/proc/PID/ns paths against a reused pid (make cl-test), as root.

A container's init may exit whenever it likes, and its pid go to another
process, a host one too, between the runtime's check of the pid (the
start time in /proc/PID/stat) and its use: exec (PID 1's health check)
would join that process's namespaces, kill and delete --force would
signal it. Deterministic: strace holds the runtime just after its Nth
read of /proc/PID/stat (delay_exit); meanwhile the test SIGKILLs the
container's init, reaps it, and forks an impostor onto the same pid
(ns_last_pid), in a UTS namespace of its own named "impostor". kill --all
is held after its read of the container's cgroup.procs instead, the pid it
read then the impostor's. Every read
a dry run makes (up to 3) is tried. The runtime must fail with one line
(the container is not running; delete succeeds, nothing to kill) and
leave the impostor alive. exec is tried with and without a mount
namespace (then its root is taken from /proc/PID/root).

The script runs as the init of a pid namespace of its own: the orphaned
container init is its child to reap, and no host process takes the pid.

Prints ok/FAIL per check; exits 1 on any failure.
"""
import copy
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "system"))
from hostroot import main_as_root  # noqa: E402

from harness import BUSYBOX, CL, Checks, remove_work  # noqa: E402
from run import Runtime, make_bundle, make_rootfs, sh, without_mount_ns  # noqa: E402

STRACE = "/usr/bin/strace"
DELAY_US = 2000000
CLONE_NEWUTS = 0x04000000
check = Checks("pid reuse: ")


def holders(path):
    """(pid, fd) of every process of ours with PATH open."""
    found = set()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            for fd in os.listdir(f"/proc/{d}/fd"):
                if os.readlink(f"/proc/{d}/fd/{fd}") == path:
                    found.add((d, fd))
        except OSError:
            pass
    return found


def wait_held(path, proc):
    """True once a process has held PATH open for 150 ms: strace's delay
    (a read without it is over in a millisecond)."""
    first = {}
    while proc.poll() is None:
        now = time.time()
        for h in holders(path):
            if now - first.setdefault(h, now) > 0.15:
                return True
        time.sleep(0.02)
    return False


def past_tick(start):
    """Waits until the clock has left START's tick (/proc/PID/stat's start time, in clock
    ticks since boot): a process started later in that tick has the same start time, and
    the identity (pid, start time) cannot tell it apart. Here ns_last_pid makes the reuse
    at once; without it (and root over the pid namespace) it takes a wrap of every pid in
    one tick (10 ms)."""
    tick = os.sysconf("SC_CLK_TCK")
    while int(time.clock_gettime(time.CLOCK_BOOTTIME) * tick) <= int(start):
        time.sleep(0.001)


def impostor(pid, start):
    """A process on PID (the last one given was PID-1), in a UTS namespace of its own
    named "impostor", started after START's tick (the process it replaces): our child,
    or None."""
    sleep = shutil.which("sleep")
    past_tick(start)
    for _ in range(50):
        with open("/proc/sys/kernel/ns_last_pid", "w") as f:
            f.write(str(pid - 1))
        child = os.fork()
        if child == 0:
            if os.getpid() == pid:
                libc = ctypes.CDLL(None, use_errno=True)
                if libc.unshare(CLONE_NEWUTS) == 0:
                    socket.sethostname("impostor")
                    os.execv(sleep, ["sleep", "60"])
            os._exit(1)
        if child == pid:
            return child
        os.waitpid(child, 0)
    return None


def alive(pid):
    return os.waitpid(pid, os.WNOHANG) == (0, 0)


def reap(pid):
    """Kills PID and waits until it is reaped (its pid free)."""
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except ProcessLookupError:
        pass
    except ChildProcessError:  # not reparented to us: wait for it to go
        while os.path.exists(f"/proc/{pid}"):
            time.sleep(0.01)


def reap_orphans():
    """What the containers left to us, their init's init."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def traced(cl, args, stat, inject):
    cmd = [STRACE, "-f", "-qq", "-o", "/dev/null", "-P", stat, "-e", "trace=read"]
    if inject:
        cmd += ["-e", f"inject=read:delay_exit={DELAY_US}:when={inject}"]
    return cmd + [cl.exe, "--root", cl.root] + args


def start(cl, b, cid):
    r = cl("run", "--detach", "--bundle", b, cid)
    st = cl.wait_status(cid, "running")
    if r.returncode != 0 or not st:
        check(f"{cid}: the container runs", False, r.stderr.strip())
        return 0
    return st["pid"]


def watched(pid, what):
    """The file whose reads are held: the container init's /proc/PID/stat, or the
    cgroup.procs of its cgroup (kill --all reads the members' pids there)."""
    if what == "stat":
        return f"/proc/{pid}/stat"
    with open(f"/proc/{pid}/cgroup") as f:
        rel = [ln.strip()[3:] for ln in f if ln.startswith("0::")][0]
    return "/sys/fs/cgroup" + rel + "/cgroup.procs"


def reads(cl, b, cid, args, what):
    """How many times the command reads the watched file, on a live container."""
    pid = start(cl, b, cid)
    if not pid:
        return 0
    stat = watched(pid, what)
    with tempfile.NamedTemporaryFile("r") as log:
        cmd = traced(cl, args, stat, 0)
        cmd[cmd.index("/dev/null")] = log.name
        sh(*cmd)
        n = sum(1 for line in log if " read(" in line)
    cl("delete", "--force", cid)
    reap(pid)
    return n


def race(cl, b, cid, args, when, what):
    """The command, held after read WHEN while the pid changes hands:
    (held, impostor alive (None: none made), rc, stdout, stderr)."""
    pid = start(cl, b, cid)
    if not pid:
        return None
    stat = watched(pid, what)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen(traced(cl, args, stat, when), stdout=out, stderr=err, text=True)
        held = wait_held(stat, p)
        imp = None
        if held:
            began = start_time(pid)
            reap(pid)
            imp = impostor(pid, began)
        p.wait(timeout=60)
        out.seek(0)
        err.seek(0)
        res = (held, None if imp is None else alive(imp), p.returncode, out.read(), err.read())
    if imp is not None:
        reap(imp)
    cl("delete", "--force", cid)
    reap_orphans()
    return res


def verdict(what, res, want_rc):
    if res is None:
        return
    held, imp, rc, out, err = res
    lines = err.strip().splitlines()
    check(what + ": the runtime was held in the window", held)
    check(what + ": the impostor took the pid", imp is not None)
    fine = imp and "impostor" not in out and (
        rc == 0 and not lines if want_rc == 0 else
        rc == want_rc and len(lines) == 1 and ("not running" in lines[0] or "stopped" in lines[0]))
    said = f" ({lines[0]})" if fine and lines else ""
    check(f"{what}: {'refused' if want_rc else 'done'}{said}, the impostor untouched", fine,
          f"impostor alive {imp}, rc {rc}, stdout {out.strip()!r}, stderr {err.strip()!r}")


CASES = [
    # name, config changes, dry-run args, racing args, exit status wanted, file held
    ("exec", None, ["exec", "{id}", "true"], ["exec", "{id}", "cat", "/proc/sys/kernel/hostname"], 255,
     "stat"),
    ("exec (no mount namespace)", "nomnt", ["exec", "{id}", "true"],
     ["exec", "{id}", "cat", "/proc/sys/kernel/hostname"], 255, "stat"),
    ("kill", None, ["kill", "{id}", "CONT"], ["kill", "{id}", "KILL"], 1, "stat"),
    ("delete --force", None, ["delete", "--force", "{id}"], ["delete", "--force", "{id}"], 0, "stat"),
    # the pids of cgroup.procs (TERM: through the members' pidfds; KILL is cgroup.kill's,
    # which reads no pid)
    ("kill --all", None, ["kill", "--all", "{id}", "CONT"], ["kill", "--all", "{id}", "TERM"], 0,
     "procs"),
]


def run_cases(top, base):
    cl = Runtime("containerd-lite", CL, os.path.join(top, "cl-root"))
    for n, (name, how, dry, args, want_rc, what) in enumerate(CASES):
        cid = f"reuse-{n}"
        c = copy.deepcopy(base)
        c["process"]["args"] = ["sleep", "60"]
        b = make_bundle(top, cid, without_mount_ns(c, c["process"]["args"]) if how == "nomnt" else c)
        k = reads(cl, b, cid, [a.format(id=cid) for a in dry], what)
        if not check(f"{name}: reads {'/proc/PID/stat' if what == 'stat' else 'cgroup.procs'} "
                     f"({k})", k > 0):
            continue
        for when in range(1, min(k, 3) + 1):
            res = race(cl, b, cid, [a.format(id=cid) for a in args], when, what)
            verdict(f"{name}, held after read {when} of {k}", res, want_rc)


def kill_all_reaches(top, base):
    """kill --all's pidfds reach the members: a container of two processes (its init, a
    shell with a TERM handler, as a pid namespace's init takes only handled signals, and
    its child) ends on one `kill --all ID TERM`, its cgroup empty."""
    cl = Runtime("containerd-lite", CL, os.path.join(top, "cl-root"))
    c = copy.deepcopy(base)
    c["process"]["args"] = ["sh", "-c", "trap 'exit 0' TERM; sleep 60 & wait"]
    cid = "reuse-all"
    pid = start(cl, make_bundle(top, cid, c), cid)
    if not pid:
        return
    procs = watched(pid, "procs")
    deadline = time.time() + 10
    while len(open(procs).read().split()) < 2 and time.time() < deadline:
        time.sleep(0.05)
    before = open(procs).read().split()
    r = cl("kill", "--all", cid, "TERM")
    st = cl.wait_status(cid, "stopped", seconds=10)
    left = open(procs).read().split() if os.path.exists(procs) else []
    check("kill --all TERM: both members signalled, the container stopped, its cgroup empty",
          len(before) == 2 and r.returncode == 0 and st and st["status"] == "stopped"
          and not left, (before, r.returncode, r.stderr.strip(), st and st["status"], left))
    cl("delete", "--force", cid)
    reap_orphans()


def start_time(pid):
    """/proc/PID/stat's field 22, as the runtime's state keeps it."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[19]


def joiner(top, base, pid, cid):
    """A bundle joining PID's network and UTS namespaces by /proc/PID/ns paths, with the
    annotation org.wisp.ns-owner, as `image bundle --network container:ID` writes one."""
    c = copy.deepcopy(base)
    c["process"]["args"] = ["cat", "/proc/sys/kernel/hostname"]
    c.pop("hostname", None)  # the joined UTS namespace's name is the owner's
    for n in c["linux"]["namespaces"]:
        if n["type"] in ("network", "uts"):
            n["path"] = f"/proc/{pid}/ns/" + ("net" if n["type"] == "network" else "uts")
    c["annotations"] = {"org.wisp.ns-owner": f"{pid} {start_time(pid)}"}
    return make_bundle(top, cid, c)


def join_by_path(top, base):
    """create joins the namespaces a bundle names by /proc/PID/ns paths (a pod's
    container: its network's owner's): the owner ends and an impostor takes its pid
    before create (case 1), or while create opens the paths (case 2, strace holds it
    after its open of the network namespace's path). create must refuse in one line,
    never run in the impostor's namespaces (its hostname "impostor")."""
    cl = Runtime("containerd-lite", CL, os.path.join(top, "cl-root"))
    for case in (1, 2):
        owner, cid = f"owner-{case}", f"joiner-{case}"
        c = copy.deepcopy(base)
        c["process"]["args"], c["hostname"] = ["sleep", "60"], "owner"
        pid = start(cl, make_bundle(top, owner, c), owner)
        if not pid:
            continue
        b, net = joiner(top, base, pid, cid), os.readlink(f"/proc/{pid}/ns/net")
        args = [cl.exe, "--root", cl.root, "run", "--bundle", b, cid]
        if case == 2:
            args = [STRACE, "-f", "-qq", "-o", "/dev/null", "-P", f"/proc/{pid}/ns/net", "-e",
                    "trace=open,openat", "-e",
                    f"inject=open,openat:delay_exit={DELAY_US}:when=1"] + args
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            began = start_time(pid)
            if case == 1:
                reap(pid)
                imp = impostor(pid, began)
            p = subprocess.Popen(args, stdout=out, stderr=err, text=True)
            if case == 2:
                check("joiner 2: the runtime was held after opening the owner's namespace",
                      wait_held(net, p))
                reap(pid)
                imp = impostor(pid, began)
            p.wait(timeout=60)
            out.seek(0)
            err.seek(0)
            rc, o, e = p.returncode, out.read(), err.read()
        lines = e.strip().splitlines()
        check(f"joiner {case}: the impostor took the owner's pid", imp is not None)
        check(f"joiner {case}: create refused in one line, not run in the impostor's namespaces"
              + (f" ({lines[0]})" if lines else ""),
              rc != 0 and "impostor" not in o and len(lines) == 1 and "pid" in lines[0]
              and imp is not None and alive(imp), (rc, o.strip(), e.strip()))
        if imp is not None:
            reap(imp)
        cl("delete", "--force", cid)
        cl("delete", "--force", owner)
        reap_orphans()


def inner():
    if os.getpid() != 1:  # again, as the init of a new pid namespace
        return subprocess.call(["unshare", "--pid", "--fork", "--mount-proc", sys.executable,
                                os.path.abspath(sys.argv[0])] + sys.argv[1:])
    if sh("stat", "-f", "-c", "%T", "/sys/fs/cgroup").stdout.strip() != "cgroup2fs":
        r = sh("mount", "-t", "cgroup2", "none", "/sys/fs/cgroup")
        if not check("private cgroup2 on /sys/fs/cgroup", r.returncode == 0, r.stderr.strip()):
            return 1
    top = tempfile.mkdtemp(prefix="cl-pidreuse.")
    try:
        make_rootfs(os.path.join(top, "rootfs"))
        r = sh(CL, "spec", "--bundle", top)
        if not check("spec: writes config.json", r.returncode == 0, r.stderr.strip()):
            return 1
        with open(os.path.join(top, "config.json")) as f:
            base = json.load(f)
        base["root"]["path"] = "rootfs"
        run_cases(top, base)
        kill_all_reaches(top, base)
        join_by_path(top, base)
    finally:
        remove_work(top)
    return check.status("cl-test pidreuse")


if __name__ == "__main__":
    sys.exit(main_as_root("cl-test pidreuse", inner, needs=(CL, BUSYBOX, STRACE),
                          hint="make containerd-lite busybox; apt-get install strace"))
