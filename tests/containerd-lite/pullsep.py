#!/usr/bin/env python3
"""Host test of `image pull`'s network side (make pull-test), as root: the
registry's bytes are parsed by a child of no privilege (image/pullnet.c),
and root trusts nothing it leaves (image/staged.c). No registry needed: the
images are pull.py's Front's own (fake_image()).

Checked: while a blob's download is held (trickled), the process holding
the connection runs as nobody (ids, no groups), with no capabilities,
no_new_privs, not dumpable (its /proc files root's), as the init of a pid
namespace of its own, in a session of its own with none of the pull's
stdin (a terminal), stdout or stderr; killed with its parent, it goes
too. What the child staged, spoiled after its own checks
(CL_TEST_PULL_SPOIL, honoured only by the host build: a byte flipped, a
second link), is refused by the parent in one line, nothing recorded; the
shipped (musl) build has no such hook. A partial still open for writing
elsewhere when the pull completes it is refused (a lease, image/staged.c).
A blob redirected to a URL with a query (a presigned one's token) fails in
a line that names the URL without it; one redirected to a URL with a user
and password before its host is refused in a line without them, and that
URL is never asked for (curl would send them as Basic credentials).

Prints ok/FAIL per check; exits 1 on any failure.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pull import Front, fake_image, tar_bytes, free_port, regs_file, pull, record  # noqa: E402
from images import check, run, snapshot  # noqa: E402
from harness import CL, poll  # noqa: E402

NOBODY = "65534\t65534\t65534\t65534"
PASSWORD = "hunter2pw"  # in a redirect's userinfo: in no message
# /proc/PID/status of the network side (NSpid checked apart)
WANT = {"Uid": NOBODY, "Gid": NOBODY, "Groups": "", "CapEff": "0000000000000000",
        "NoNewPrivs": "1", "NSpid": None, "owner": 0}
HOST_BUILD = CL.endswith(os.path.join("host", "containerd-lite"))


def holders(port):
    """The pids holding a TCP connection to loopback's port (its client side)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in open(table).readlines()[1:]:
            f = line.split()
            if int(f[2].rsplit(":", 1)[1], 16) == port and f[9] != "0":
                inodes.add("socket:[%s]" % f[9])
    pids = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fds = os.listdir("/proc/%s/fd" % pid)
            if any(os.readlink("/proc/%s/fd/%s" % (pid, fd)) in inodes for fd in fds):
                pids.add(int(pid))
        except OSError:
            pass  # gone meanwhile
    return pids


def held(w, front, regs):
    """A layer trickled (20 bytes a second): who holds its connection."""
    store = os.path.join(w, "store-held")
    _, descs = fake_image(front, "wisp/held", [(tar_bytes({"big": bytes(70000)}), None)])
    front.mode["trickle"] = {"/v2/wisp/held/blobs/" + descs[0]["digest"]: "text/plain"}
    port = int(front.host.rsplit(":", 1)[1])
    master, slave = os.openpty()  # stdin a terminal, as root's shell gives it
    p = subprocess.Popen([CL, "image", "--store", store, "pull", "--registries", regs,
                          front.host + "/wisp/held:1"], stdin=slave, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    os.close(slave)
    pids = poll(lambda: holders(port), 60)
    stdio = {pid: {os.readlink("/proc/%d/fd/%d" % (pid, fd)) for fd in range(3)}
             for pid in pids | {p.pid}}
    sid = {pid: open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[3]
           for pid in pids | {p.pid}}
    check("held blob: none of the pull's stdin, stdout, stderr (a terminal, pipes) is the "
          "network side's, nor its session", pids and all(
              not stdio[pid] & stdio[p.pid] and sid[pid] != sid[p.pid] for pid in pids),
          (stdio, sid))
    facts = {}
    for pid in pids:
        try:
            st = dict(l.split(":", 1) for l in open("/proc/%d/status" % pid).read().splitlines())
            facts[pid] = {k: st.get(k, "").strip() for k in WANT}
            facts[pid]["owner"] = os.stat("/proc/%d/environ" % pid).st_uid
        except OSError as e:
            facts[pid] = {"error": str(e)}
    check("held blob: the process holding the connection is not the pull's, runs as nobody "
          "(no groups), CapEff 0, NoNewPrivs 1, its /proc files root's (not dumpable)",
          pids and p.pid not in pids and all(dict(f, NSpid=None) == dict(WANT, NSpid=None)
                                             for f in facts.values()), (p.pid, facts))
    check("held blob: it is pid 1 of a pid namespace of its own",
          pids and all(f.get("NSpid", "").split("\t")[-1] == "1" and
                       len(f["NSpid"].split("\t")) == 2 for f in facts.values()), facts)
    p.send_signal(signal.SIGKILL)
    p.wait()
    os.close(master)
    check("held blob: the pull killed, its network side goes too (the connection closed)",
          poll(lambda: not holders(port)), holders(port))
    front.mode.pop("trickle")
    shutil.rmtree(store, ignore_errors=True)


def spoiled(w, front, regs):
    """The child's staged blobs made wrong after its own checks: the parent refuses."""
    store = os.path.join(w, "store-spoil")
    cd, _ = fake_image(front, "wisp/spoil", [(tar_bytes({"a": b"a\n"}), None)])
    ref = front.host + "/wisp/spoil:1"
    for how, says in (("flip", "blob %s: as staged, sha256 is " % cd),
                      ("link", "blob %s: as staged, 2 links" % cd)):
        env = dict(os.environ, CL_TEST_PULL_SPOIL=how)
        r = run(CL, "image", "--store", store, "pull", "--registries", regs, ref, env=env,
                timeout=300)
        if HOST_BUILD:
            check("spoiled (%s) after the child's checks: refused by the parent in one line "
                  "naming the blob, nothing recorded, no blob stored" % how,
                  r.returncode == 1 and len(r.stderr.splitlines()) == 1 and says in r.stderr
                  and record(store, ref) is None
                  and not os.listdir(os.path.join(store, "blobs")),
                  (r.returncode, r.stderr, snapshot(store)))
        else:
            check("the shipped build has no spoil hook (%s): pulled" % how,
                  r.returncode == 0 and b"CL_TEST_PULL_SPOIL" not in open(CL, "rb").read(),
                  r.stderr)
            run_rm(store, ref)
    r = pull(store, ref, regs)
    check("unspoiled: the same image pulls", r.returncode == 0, r.stderr)
    shutil.rmtree(store, ignore_errors=True)


def writer(w, front, regs):
    """A partial someone still holds open for writing when the child that wrote it has
    gone (a concurrent pull's child, as nobody too, taken by its registry, could open it
    and write after root's hash): the pull that completes it refuses it. The test holds
    the descriptor (root here; nobody's would be the same file's)."""
    store = os.path.join(w, "store-writer")
    data = tar_bytes({"big": bytes(range(256)) * 256})
    _, descs = fake_image(front, "wisp/writer", [(data, 4096)])
    ref, digest = front.host + "/wisp/writer:1", descs[0]["digest"]
    part = os.path.join(store, "tmp", "partial", digest[7:])
    r = pull(store, ref, regs)
    if not check("writer: a layer cut at 4 kB: the pull fails, its partial kept",
                 r.returncode == 1 and os.path.exists(part), (r.stderr, snapshot(store))):
        return
    fd = os.open(part, os.O_WRONLY)
    front.mode["fake"]["/v2/wisp/writer/blobs/" + digest] = ("application/octet-stream", data,
                                                               None)
    try:
        r = pull(store, ref, regs)
    finally:
        os.close(fd)
    check("writer: the partial open for writing elsewhere when the pull completes it: "
          "refused in one line naming the blob, nothing recorded",
          r.returncode == 1 and len(r.stderr.splitlines()) == 1 and
          "blob %s: as staged, open for writing by another process" % digest in r.stderr
          and record(store, ref) is None, (r.returncode, r.stderr))
    r = pull(store, ref, regs)
    check("writer: that descriptor closed, the image pulls", r.returncode == 0, r.stderr)
    shutil.rmtree(store, ignore_errors=True)


def run_rm(store, ref):
    run(CL, "image", "--store", store, "rm", ref)


def queries(w, front, regs):
    """A blob redirected to another origin's presigned-like URL (?sig=x), which fails."""
    store = os.path.join(w, "store-query")
    storage = Front("127.0.0.1:%d" % free_port())  # no upstream: 502
    cd, descs = fake_image(front, "wisp/q", [(tar_bytes({"q": b"q\n"}), None)])
    for d in [cd] + [d["digest"] for d in descs]:  # the blobs redirected, not answered
        front.mode["fake"].pop("/v2/wisp/q/blobs/" + d)
    front.mode["redirect"] = storage
    r = pull(store, front.host + "/wisp/q:1", regs)
    check("a redirected blob's error: one line naming the URL without its query",
          r.returncode == 1 and len(r.stderr.splitlines()) == 1 and
          "GET http://%s/v2/wisp/q/blobs/sha256:" % storage.host in r.stderr and
          "HTTP 502" in r.stderr and "sig=x" not in r.stderr + r.stdout,
          (r.stdout[-300:], r.stderr))
    front.mode["redirect_userinfo"] = "wisp:" + PASSWORD + "@"
    n = len(storage.log)
    r = pull(store, front.host + "/wisp/q:1", regs)
    check("a blob redirected to a URL with a user and password: refused in one line naming "
          "it without them nor its query, never asked for",
          r.returncode == 1 and len(r.stderr.splitlines()) == 1 and
          ": redirect to http://%s/v2/wisp/q/blobs/sha256:" % storage.host in r.stderr and
          "credentials in a URL are not supported" in r.stderr and
          "sig=x" not in r.stderr + r.stdout and PASSWORD not in r.stderr + r.stdout and
          "wisp:" not in r.stderr and storage.log[n:] == [],
          (r.stdout[-300:], r.stderr, storage.log[n:]))
    front.mode.pop("redirect")
    front.mode.pop("redirect_userinfo")
    storage.server.shutdown()
    shutil.rmtree(store, ignore_errors=True)


def main():
    if os.geteuid() != 0:
        sys.exit("pullsep.py: run as root")
    w = tempfile.mkdtemp(prefix="wisp-pullsep-")
    front = Front("127.0.0.1:%d" % free_port())
    regs = regs_file(w, {front.host: {"insecure": True}})
    try:
        held(w, front, regs)
        spoiled(w, front, regs)
        writer(w, front, regs)
        queries(w, front, regs)
    finally:
        front.server.shutdown()
        shutil.rmtree(w, ignore_errors=True)
    sys.exit(check.status("pullsep.py"))


if __name__ == "__main__":
    main()
