#!/usr/bin/python3
"""Host access on the author's word (issue 16 point 6; docs/declarations.md,
"Host access"): `image bundle --volume SRC:DST[:OPTS]`, `--pid host` and
`--privileged`, what a node agent such as containerd needs, as root.

The bundle's spec is checked against what docker gives (every capability the
kernel knows, no seccomp filter, no masked or read-only paths, every device,
/sys and the cgroup writable, the host's pid namespace, binds with their
options), then run under containerd-lite: the privileged process has every
capability and no filter, sees the host's processes and reads and writes its
binds; the same image without the options stays contained (the defaults).
The bind source's path must stay the author's: one below a directory a user
could write is refused (a user could swap it for a symlink to / before the
mount), also where the path reaches it through a symlink or a symlink the user
planted there leads elsewhere (`alice/link -> /etc`), as are a destination in /proc without --privileged and
--privileged in a user namespace.

Prints ok/FAIL per check; exits 1 on any failure.
"""
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "image-builder"))
from oci_layout import layout, tar_of  # noqa: E402

from harness import BUSYBOX, CL, Checks  # noqa: E402
check = Checks("hostaccess: ")


def run(*args, timeout=120):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def bundle(w, store, name, *opts):
    """`image bundle OPTS img W/NAME`: (result, config.json or None)."""
    b = os.path.join(w, name)
    r = run(CL, "image", "--store", store, "bundle", *opts, "img", b)
    spec = json.load(open(os.path.join(b, "config.json"))) if r.returncode == 0 else None
    return r, spec


def run_bundle(w, name, script, submount=None):
    """Runs bundle W/NAME with its process replaced by `sh -c SCRIPT`, in a
    private mount namespace with its own cgroup2 (as cl-test does); a tmpfs
    on the host directory SUBMOUNT there first, if given."""
    b = os.path.join(w, name)
    cfg = os.path.join(b, "config.json")
    spec = json.load(open(cfg))
    spec["process"]["args"] = ["/bin/sh", "-c", script]
    with open(cfg, "w") as f:
        json.dump(spec, f)
    return run("unshare", "--mount", "--propagation", "private", "sh", "-c",
               'mount -t cgroup2 none /sys/fs/cgroup && '
               '{ [ -z "$4" ] || mount -t tmpfs -o mode=1777 sub "$4"; } && '
               'exec "$0" --root "$1" run --bundle "$2" "$3"',
               CL, os.path.join(w, "cl-root"), b, name, submount or "")


def bounding():
    """This process's bounding set (the runtime's, run by us): a mask."""
    with open("/proc/self/status") as f:
        return int([l for l in f if l.startswith("CapBnd:")][0].split()[1], 16)


def spec_checks(spec, src, made):
    proc, lin = spec["process"], spec["linux"]
    caps = proc["capabilities"]
    check("--privileged: every capability of the runtime's bounding set, in each set",
          all(len(caps[k]) == bin(bounding()).count("1")
              for k in ("bounding", "effective", "permitted")),
          {k: len(v) for k, v in caps.items()})
    check("--privileged: no seccomp filter, no masked or read-only paths, "
          "no no_new_privs", "seccomp" not in lin and "maskedPaths" not in lin and
          "readonlyPaths" not in lin and proc.get("noNewPrivileges") is False, sorted(lin))
    check("--privileged: every device", lin["resources"]["devices"] ==
          [{"allow": True, "access": "rwm"}], lin["resources"])
    rw = {m["destination"]: m["options"] for m in spec["mounts"]
          if m["destination"] in ("/sys", "/sys/fs/cgroup")}
    check("--privileged: /sys and the cgroup mounted read-write",
          len(rw) == 2 and all("ro" not in o and "rw" in o for o in rw.values()), rw)
    ns = [n["type"] for n in lin["namespaces"]]
    check("--pid host: no pid namespace, the others kept", "pid" not in ns and "mount" in ns
          and "cgroup" in ns and "user" not in ns, ns)
    binds = {m["destination"]: m for m in spec["mounts"] if m["type"] == "bind"}
    data = binds.get("/data", {})
    check("--volume SRC:/data:ro,rshared: a bind of SRC resolved (its symlink followed), "
          "rbind,rshared,rro", data.get("source") == os.path.realpath(src) and
          data.get("options") == ["rbind", "rshared", "rro"], binds)
    check("--volume of a missing host path: made a directory, bound rw",
          os.path.isdir(made) and binds.get("/y", {}).get("source") == made and
          binds["/y"]["options"] == ["rbind", "rw"], binds.get("/y"))


def run_checks(w, src):
    script = ("grep -E '^(CapEff|Seccomp|NoNewPrivs):' /proc/self/status; "
              "cat /proc/1/comm; cat /data/f; echo w > /y/g && echo wrote; "
              "echo r > /data/h 2>/dev/null || echo ro-refused")
    r = run_bundle(w, "priv", script)
    out = r.stdout
    eff = int(out.split("CapEff:")[1].split()[0], 16) if "CapEff:" in out else 0
    check("privileged process: every capability, no seccomp filter, no no_new_privs",
          eff == bounding() and "Seccomp:\t0" in out and "NoNewPrivs:\t0" in out,
          out + r.stderr)
    with open("/proc/1/comm") as f:
        host_init = f.read()
    check("--pid host: pid 1 is the host's", host_init in out, out + r.stderr)
    check("--volume: the bind reads the host's file, ro refuses writes, rw writes through",
          "from-host\n" in out and "ro-refused" in out and "wrote" in out and
          open(os.path.join(w, "made", "sub", "g")).read() == "w\n", out + r.stderr)
    r = run_bundle(w, "plain", script)
    out = r.stdout
    eff = int(out.split("CapEff:")[1].split()[0], 16) if "CapEff:" in out else -1
    check("the same image without them: docker's capabilities, seccomp filter, "
          "no_new_privs, its own pid 1", 0 < eff < (1 << 32) and "Seccomp:\t2" in out and
          "NoNewPrivs:\t1" in out and host_init not in out, out + r.stderr)


def ro_below(w, src):
    """A :ro bind is read-only all the way down: the host's mounts below its
    source (a host / and its /var, /run, /sys/fs/cgroup, as a monitoring
    agent binds it) were bound writable under a read-only top."""
    os.makedirs(os.path.join(src, "sub"), exist_ok=True)
    r = run_bundle(w, "plain", "echo x > /data/sub/f && echo sub-wrote || echo sub-refused; "
                   "grep ' /data/sub ' /proc/self/mountinfo", os.path.join(src, "sub"))
    check("--volume SRC:/data:ro with a mount below SRC: that one read-only too",
          "sub-refused" in r.stdout and "sub-wrote" not in r.stdout and
          " ro," in r.stdout, r.stdout + r.stderr)


def refusals(w, store):
    user_dir = os.path.join(w, "alice")
    os.makedirs(os.path.join(user_dir, "sub"))
    os.chown(user_dir, 1000, 1000)
    # the user's own symlinks, planted before the bundle: resolved, /etc's
    # parent is root's; every directory the walk passes must be root's alone
    os.symlink("/etc", os.path.join(user_dir, "link"))
    os.lchown(os.path.join(user_dir, "link"), 1000, 1000)
    os.symlink("alice/link", os.path.join(w, "via-alice"))
    os.symlink("/etc", os.path.join(user_dir, "sub", "deep"))
    os.lchown(os.path.join(user_dir, "sub", "deep"), 1000, 1000)
    os.symlink(os.path.join(w, "alice/sub/deep"), os.path.join(w, "via-deep"))
    alice_refused = user_dir + " is not a directory only root can write"
    cases = [(["--volume", user_dir + "/sub:/d"], "is not a directory only root can write"),
             (["--volume", user_dir + "/link:/d"], alice_refused),
             (["--volume", user_dir + "/link/ssh:/d"], alice_refused),
             (["--volume", os.path.join(w, "via-alice") + ":/d"], alice_refused),
             (["--volume", os.path.join(w, "via-deep") + ":/d"], alice_refused),
             (["--volume", "/tmp:/d"], None),  # the sticky /tmp itself: its parent is root's
             (["--volume", "/tmp/wisp-hostaccess-x:/d"], "/tmp is not a directory only root"),
             (["--volume", "/etc:/proc/x"], "under /proc (refused unless --privileged)"),
             (["--volume", "etc:/d"], "not absolute"),
             (["--volume", "/etc:/d:ro,bogus"], "option \"bogus\""),
             (["--privileged", "--userns", "1048576"], "--privileged needs --userns host"),
             (["--pid", "host", "--userns", "1048576"], "--pid host needs --userns host"),
             (["--pid", "mine"], "--pid mine: host or private")]
    for opts, why in cases:
        r, _ = bundle(w, store, "bad", *opts)
        if why is None:
            check("bundle %s: taken" % " ".join(opts), r.returncode == 0, r.stderr)
        else:
            check("bundle %s: refused, one line" % " ".join(opts), r.returncode != 0 and
                  why in r.stderr and r.stderr.count("\n") == 1, r.stderr)
    check("the refused bind below /tmp made nothing",
          not os.path.exists("/tmp/wisp-hostaccess-x"))


def main():
    if os.geteuid() != 0:
        sys.exit("hostaccess.py: run as root")
    # below /run (root's, 0755): a bind source's parents must be root's alone
    w = tempfile.mkdtemp(prefix="wisp-hostaccess-", dir="/run")
    try:
        lay = os.path.join(w, "oci")
        with open(BUSYBOX, "rb") as f:
            bb = f.read()
        layout(lay, [tar_of([("bin", tarfile.DIRTYPE, None), ("bin/busybox", tarfile.REGTYPE, bb),
                             ("bin/sh", tarfile.SYMTYPE, "busybox"),
                             ("bin/cat", tarfile.SYMTYPE, "busybox"),
                             ("bin/grep", tarfile.SYMTYPE, "busybox")])],
               config={"Cmd": ["/bin/sh"]})
        store = os.path.join(w, "store")
        r = run(CL, "image", "--store", store, "import", "--name", "img", lay)
        check("test image imported", r.returncode == 0, r.stderr)
        src = os.path.join(w, "data")
        os.makedirs(src)
        with open(os.path.join(src, "f"), "w") as f:
            f.write("from-host\n")
        os.symlink("data", os.path.join(w, "data-link"))
        made = os.path.join(w, "made", "sub")
        r, spec = bundle(w, store, "priv", "--privileged", "--pid", "host", "--userns", "host",
                         "--volume", os.path.join(w, "data-link") + ":/data:ro,rshared",
                         "--volume", made + ":/y")
        if check("bundle --privileged --pid host --volume ...", r.returncode == 0, r.stderr):
            spec_checks(spec, src, made)
        r, _ = bundle(w, store, "plain", "--volume", made + ":/y",
                      "--volume", src + ":/data:ro")
        if check("bundle with binds only", r.returncode == 0, r.stderr):
            ro_below(w, src)
        if not check.failures:
            run_checks(w, src)
        refusals(w, store)
    finally:
        subprocess.run(["sh", "-c", 'umount -R "$0"/*/rootfs 2>/dev/null; true', w])
        shutil.rmtree(w, ignore_errors=True)
    sys.exit(check.status("hostaccess"))


if __name__ == "__main__":
    main()
