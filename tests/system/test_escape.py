"""The container escape suite (issue 10, docs/escape-suite.md), in one TCG boot.

Images are written here byte by byte (tar and OCI layout by hand: owners,
setuid bits and symlinks exactly as a hostile image has them), all over one
layer of busybox and the static probe tests/escape/escape-probe:
  esc:main     Cmd escape-probe; /bin/suid-euid a setuid-root copy of it;
  esc:symvolN  Volume /data, /data2 or /data3, each a symlink out of the
               root in the image (../../../../var, /proc/1/root/var,
               /proc/self/fd/6);
  esc:wdN      WorkingDir /proc/self/fd/N, for N in 3..31;
  esc:dev      a block device node of the host's disk in its layer;
  esc:restart  Cmd `escape-probe restart`, WorkingDir /wd, Volumes under /srv,
               no /etc (a whiteout) nor /srv: the runtime makes them.
esc:main, esc:symvolN, esc:restart and esc:dev ride on the NoCloud seed (wisp-images/,
imported at boot); the esc:wdN are baked into STATE by image-builder. The
user-data declares, under `wisp: containers:`, with default settings:
  probe        esc:main, every in-container probe, with a health check
               (`containerd-lite exec` every second, which the probe attacks);
  hcexe        esc:main, whose health check is the image's script
               `#!/proc/self/exe --log=FIFO`: the runtime exec'd in the
               container (CVE-2019-5736), which the probe attacks;
  probenet     esc:main with `network: host`: the network probes there
               (the others have the default, a bridge's own namespace);
  symvol-1..3  esc:symvol1..3: where their volume leads;
  wd-img-N     esc:wdN (the image's WorkingDir), N = 3..31;
  wd-decl-N    esc:main with `working_dir: /proc/self/fd/N`, N = 3..31;
  restart      esc:restart with `restart: on-failure`: its first start
               replaces what the runtime mounts on (/etc/hosts, resolv.conf,
               its volumes, its cwd) by links to the host's
               /var/lib/escape-plant and exits 1; the second start checks
               where the mounts landed, the host that its tree is untouched;
and writes a marker with random contents to the host's
/var/lib/escape-marker, and a user `mallory`.

Each probe prints `PROBE name RESULT detail`; this test prints them all,
prefixed by the container, then the host side's checks in the same form
(mallory and the planted files, the runtime's sha256, where the volumes'
writes landed, the marker in no log), then a summary and the list of
everything ESCAPED. It fails on any ESCAPED or ERROR, on a container that
neither ran its probes nor was refused with an error, and on fewer probes
than expected (a probe that silently did not run).
"""

import hashlib
import io
import json
import os
import re
import secrets
import shutil
import sys
import tarfile

sys.path.insert(0, os.path.dirname(__file__))
from wispvm import (  # noqa: E402
    VM, BootError, build_test_image, nocloud_seed, poll, run_test, units)

B = os.environ.get("B", "build")
OUT = os.path.join(B, "tests", "escape")
PROBE = os.path.join(B, "tests", "escape", "escape-probe")
WD = range(3, 32)
MALLORY_UID = 1500

# Probes of `escape-probe` (mode all), not counting one per disk of the
# host's /sys/block (loop devices aside): the test adds those. Update it
# with the probe's table: a lower count fails the suite.
MAIN_PROBES = 191
HCEXE_PROBES = 5
NET_PROBES = 4
CWD_PROBES = 2
VOL_PROBES = 2
# escape-probe restart: its first start (3 mount points under "/", the
# plant) and its second (5 mounts and the cwd)
RESTART_PROBES = (4, 6)
# the host tree the restart container's links point at (user-data's
# write_files): name -> contents; directories hold only these
PLANT_TREE = "/var/lib/escape-plant"
PLANT_FILES = ("hosts", "resolv.conf", "vol-abs/host-file", "vol-rel/host-file", "wd/host-file")
PLANT_TEXT = "escape-plant-host"
# restart-V: `escape-probe restart V`, one path planted otherwise (restart.c):
# /etc/hosts through /proc/1/root, the cwd a magic link, /etc/hosts a FIFO,
# /etc/resolv.conf a directory (restart.c has more; each container costs
# the boot a few seconds)
RESTART_VARIANTS = ("p1", "cwdp", "fifo", "dir")
RESTART = ["restart"] + ["restart-" + v for v in RESTART_VARIANTS]
# the symlinked volumes: one container each, so that one refused does not
# hide the others
SYMVOL = {1: ("/data", "../../../../var"), 2: ("/data2", "/proc/1/root/var"),
          3: ("/data3", "/proc/self/fd/6")}


# --- images -----------------------------------------------------------------

def tar_bytes(entries):
    """A deterministic layer: (name, type, mode, data_or_target[, uid]) tuples."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            name, kind, mode, data = e[:4]
            info = tarfile.TarInfo(name)
            info.mode, info.mtime, info.uid, info.gid = mode, 1767225600, 0, 0
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                t.addfile(info)
            elif kind == "file":
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, data
                t.addfile(info)
            elif kind == "blockdev":
                info.type, (info.devmajor, info.devminor) = tarfile.BLKTYPE, data
                t.addfile(info)
    return buf.getvalue()


def base_layer():
    with open(os.path.join(B, "busybox", "busybox"), "rb") as f:
        busybox = f.read()
    with open(PROBE, "rb") as f:
        probe = f.read()
    entries = [(d, "dir", 0o755, None) for d in
               ("bin", "etc", "var", "proc", "sys", "dev", "data-real")]
    entries += [("tmp", "dir", 0o1777, None), ("root", "dir", 0o700, None),
                ("bin/busybox", "file", 0o755, busybox),
                ("bin/escape-probe", "file", 0o755, probe),
                # planted by the image: a setuid-root program printing its euid
                ("bin/suid-euid", "file", 0o4755, probe),
                # a health check that makes the runtime exec itself in the
                # container (CVE-2019-5736's way in), blocked on a FIFO
                ("bin/hc-fifo", "file", 0o755, b"#!/proc/self/exe --log=/tmp/escape-hc-fifo\n"),
                ("etc/passwd", "file", 0o644, b"root:x:0:0:root:/root:/bin/sh\n"),
                ("etc/group", "file", 0o644, b"root:x:0:\n")]
    entries += [("bin/" + a, "symlink", 0o777, "busybox")
                for a in ("sh", "cat", "ls", "id", "echo", "sleep", "test", "head", "stat")]
    return tar_bytes(entries)


def oci_tar(path, layers, config):
    """An OCI image layout tar of one image: blobs, manifest, index.json."""
    blobs = {}

    def blob(data):
        d = hashlib.sha256(data).hexdigest()
        blobs[d] = data
        return {"digest": "sha256:" + d, "size": len(data)}

    cfg = {"architecture": "amd64", "os": "linux", "config": config,
           "rootfs": {"type": "layers",
                      "diff_ids": ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]}}
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": dict(blob(json.dumps(cfg, sort_keys=True).encode()),
                               mediaType="application/vnd.oci.image.config.v1+json"),
                "layers": [dict(blob(l), mediaType="application/vnd.oci.image.layer.v1.tar")
                           for l in layers]}
    m = dict(blob(json.dumps(manifest, sort_keys=True).encode()),
             mediaType="application/vnd.oci.image.manifest.v1+json")
    files = [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'),
             ("index.json", json.dumps({"schemaVersion": 2, "manifests": [m]}).encode())]
    files += [("blobs/sha256/" + d, data) for d, data in sorted(blobs.items())]
    with tarfile.open(path, "w") as t:
        for d in ("blobs", "blobs/sha256"):
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            t.addfile(info)
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            t.addfile(info, io.BytesIO(data))
    return path


def make_images():
    shutil.rmtree(os.path.join(OUT, "img"), ignore_errors=True)
    os.makedirs(os.path.join(OUT, "img"))
    img = lambda n: os.path.join(OUT, "img", n + ".tar")  # noqa: E731
    base = base_layer()
    env = ["PATH=/bin"]
    made = {"main": oci_tar(img("main"), [base], {"Cmd": ["/bin/escape-probe", "all", "stay"],
                                                   "Env": env})}
    links = tar_bytes([(path[1:], "symlink", 0o777, to) for path, to in SYMVOL.values()])
    for n, (path, _) in SYMVOL.items():
        made["symvol%d" % n] = oci_tar(img("symvol%d" % n), [base, links], {
            "Cmd": ["/bin/escape-probe", "vol", path], "Env": env, "Volumes": {path: {}}})
    made["dev"] = oci_tar(img("dev"), [tar_bytes([("disk", "blockdev", 0o666, (254, 0))])],
                          {"Cmd": ["/disk"], "Env": env})
    # no /etc, no /srv: the runtime makes them in the upper layer, where the
    # container can rename them (overlayfs without redirect_dir refuses to
    # rename a directory of a lower layer: EXDEV)
    shaped = tar_bytes([("wd", "dir", 0o755, None), (".wh.etc", "file", 0o644, b"")])
    made["restart"] = oci_tar(img("restart"), [base, shaped], {
        "Cmd": ["/bin/escape-probe", "restart"], "Env": env, "WorkingDir": "/wd",
        "Volumes": {v: {} for v in ("/srv/vol-abs", "/srv/vol-rel", "/srv/vol-dangle")}})
    for n in WD:
        made["wd%d" % n] = oci_tar(img("wd%d" % n), [base], {
            "Cmd": ["/bin/escape-probe", "cwd"], "Env": env, "WorkingDir": "/proc/self/fd/%d" % n})
    return made


# --- the seed ---------------------------------------------------------------

def user_data(marker):
    ctrs = ["""    - name: probe
      image: "esc:main"
      healthcheck: {command: [/bin/escape-probe, hc], interval: 1s, retries: 1}
    - name: hcexe
      image: "esc:main"
      command: [/bin/escape-probe, hcexe]
      healthcheck: {command: [/bin/hc-fifo], interval: 1s, retries: 1}
    - name: probenet
      image: "esc:main"
      network: host
      command: [/bin/escape-probe, net]
    - {name: restart, image: "esc:restart", restart: on-failure}
"""]
    for v in RESTART_VARIANTS:
        ctrs.append('    - {name: restart-%s, image: "esc:restart", restart: on-failure,'
                    ' command: [/bin/escape-probe, restart, %s]}\n' % (v, v))
    for n in SYMVOL:
        ctrs.append('    - {name: symvol-%d, image: "esc:symvol%d"}\n' % (n, n))
    for n in WD:
        ctrs.append('    - {name: wd-img-%d, image: "esc:wd%d"}\n' % (n, n))
        ctrs.append('    - {name: wd-decl-%d, image: "esc:main", working_dir: /proc/self/fd/%d,'
                    ' command: [/bin/escape-probe, cwd]}\n' % (n, n))
    return """#cloud-config
users:
  - {name: mallory, uid: %d, shell: /bin/sh}
write_files:
  - {path: /var/lib/escape-marker, content: "%s\\n", permissions: '0644'}
%swisp:
  containers:
%s""" % (MALLORY_UID, marker, "".join(
        "  - {path: %s/%s, content: \"%s\\n\", permissions: '0644'}\n" % (PLANT_TREE, f, PLANT_TEXT)
        for f in PLANT_FILES), "".join(ctrs))


def make_seed(images, marker):
    return nocloud_seed(OUT, user_data(marker), "escape-1", {
        name + ".tar": (images[name], "esc:" + name)
        for name in ["main", "dev", "restart"] + ["symvol%d" % n for n in SYMVOL]})


# --- results ----------------------------------------------------------------

class Suite:
    def __init__(self):
        self.results = []  # (where, name, result, detail)

    def add(self, where, name, result, detail):
        self.results.append((where, name, result, detail))
        print("%-12s %-28s %-8s %s" % (where, name, result, detail), flush=True)

    def host(self, name, ok, detail, expected=False):
        self.add("host", name, "EXPECTED" if expected and ok else ("BLOCKED" if ok else "ESCAPED"),
                 detail)

    def error(self, where, name, detail):
        self.add(where, name, "ERROR", detail)


def settled(u):
    """done or failed; or restarting after its second start (refused) failed
    too (a restart policy's backoff, which the verdict names)."""
    return u.get("state") in ("done", "failed") or (
        u.get("state") == "backoff" and u.get("restarts", 0) >= 2)


def wait_ended(vm, names, timeout):
    """Every container of names settled, and probe (which stays)
    through its probes; returns the units. Polled every second (units and
    logs cannot wake the test); fails naming the ones left at the deadline."""
    def left(u):
        out = [n for n in names if not settled(u.get(n, {}))]
        rc, _ = vm.sh("grep -q 'PROBES mode=all' /var/log/wisp/probe.log")
        if rc != 0 and u.get("probe", {}).get("state") not in ("done", "failed"):
            out.append("probe")
        return u, out

    u, _ = poll(lambda: left(units(vm, timeout=60)), lambda r: not r[1],
                "containers ended", timeout, every=1,
                show=lambda r: ", ".join("%s=%s" % (n, r[0].get(n, {}).get("state"))
                                         for n in r[1]))
    return u


def log_of(vm, name):
    """The container's log lines, without their time stamps."""
    _, out = vm.sh("cat /var/log/wisp/%s.log" % name, timeout=120)
    return [re.sub(r"^\S+Z ", "", l) for l in out.splitlines()]


def probe_lines(suite, where, lines, mode, expected):
    """The PROBE lines of a container that ran; checks the count."""
    seen = 0
    summary = None
    for l in lines:
        m = re.match(r"PROBE (\S+) (BLOCKED|EXPECTED|ESCAPED|ERROR) ?(.*)$", l)
        if m:
            suite.add(where, m.group(1), m.group(2), m.group(3))
            seen += 1
        m = re.match(r"PROBES mode=(\S+) total=(\d+) ", l)
        if m:
            summary = (m.group(1), int(m.group(2)))
    if summary != (mode, seen):
        suite.error(where, "summary",
                    "summary %r, %d PROBE lines (mode %s)" % (summary, seen, mode))
    if seen < expected:
        suite.error(where, "count", "%d probes ran, %d expected" % (seen, expected))


def container(suite, vm, u, name, mode, expected):
    """A container either ran its probes, or was refused with an error line."""
    lines = log_of(vm, name)
    state = u.get(name, {}).get("state")
    if any(l.startswith("ESCAPE-PROBE ") for l in lines):
        probe_lines(suite, name, lines, mode, expected)
        return lines
    err = [l for l in lines if "containerd-lite:" in l]
    if state == "failed" and err:
        suite.add(name, "start", "BLOCKED", "refused to start: " + err[-1])
    else:
        suite.error(name, "start",
                    "state %s, neither probes nor an error: %r" % (state, lines[-3:]))
    return lines


def runs_of(lines):
    """A restarted container's log, one list of lines per start of the probe."""
    runs = []
    for l in lines:
        if l.startswith("ESCAPE-PROBE "):
            runs.append([])
        if runs:
            runs[-1].append(l)
    return runs


def restart_container(suite, vm, u, name):
    """A restart container: its two starts' probes, or its refusal; then
    what its unit ended as. Returns the volume files it wrote."""
    lines = log_of(vm, name)
    unit = u.get(name, {})
    state, restarts = unit.get("state"), unit.get("restarts")
    runs = runs_of(lines)
    for l in lines:
        if l.startswith(("PLANTED ", "WROTE ", "NOT-WRITTEN ")):
            print("%-12s %s" % (name, l), flush=True)
    for run, expected in zip(runs, RESTART_PROBES):
        probe_lines(suite, name, run, "restart", expected)
    err = [l for l in lines if "containerd-lite:" in l]
    how = "state %s after %s restarts, last exit %s" % (state, restarts, unit.get("last_exit"))
    if len(runs) >= 2:
        suite.add(name, "unit", "BLOCKED" if state == "done" and restarts == 1 else "ERROR",
                  "started again on its planted root and checked it: " + how)
    elif len(runs) == 1 and err and settled(unit):
        suite.add(name, "start", "BLOCKED", "refused to start on its planted root: %s (%s)"
                  % (err[-1], how))
    else:
        suite.error(name, "start", "%s; %d starts of the probe, no error: %r"
                    % (how, len(runs), lines[-3:]))
    return [l.split()[1] for l in lines if l.startswith("WROTE ")]


def restart_host(suite, vm, wrote):
    """The host's tree the planted links point at: unchanged, nothing
    mounted on it; the volume writes in the container's own directory."""
    _, out = vm.sh("cd %s && find . /var/lib/escape-plant-nothere -exec stat -c '%%n|%%F|%%a|%%u:%%g|%%s' "
                   "{} + 2>/dev/null" % PLANT_TREE)
    want = {"."} | {"./" + os.path.dirname(f) for f in PLANT_FILES if "/" in f}
    seen, bad = set(), []
    for l in out.strip().splitlines():
        f = l.split("|")
        if len(f) != 5:
            bad.append(l)
            continue
        seen.add(f[0])
        ok = (f[1] == "directory" and f[2] == "755" and f[0] in want) or (
            f[1] == "regular file" and f[2] == "644" and f[0][2:] in PLANT_FILES
            and f[4] == str(len(PLANT_TEXT) + 1))
        if not ok or f[3] != "0:0":
            bad.append(l)
    missing = sorted((want | {"./" + f for f in PLANT_FILES}) - seen)
    _, text = vm.sh("cd %s && cat %s" % (PLANT_TREE, " ".join(PLANT_FILES)))
    if text.split() != [PLANT_TEXT] * len(PLANT_FILES):
        bad.append("contents changed: %r" % text[:200])
    suite.host("restart-host-tree", not bad and not missing,
               ("%s changed: %s" % (PLANT_TREE, "; ".join(bad + ["missing " + m for m in missing])))
               if bad or missing else "%s: %d entries as written, nothing made beside"
               % (PLANT_TREE, len(seen)))
    rc, out = vm.sh("grep -h escape-plant /proc/1/mountinfo /proc/self/mountinfo")
    suite.host("restart-host-mounts", rc != 0, "a mount on the host's tree: " + out.strip()[:300]
               if rc == 0 else "no mount of the host's on %s" % PLANT_TREE)
    _, out = vm.sh("find /var /run /tmp /etc /root -name 'escape-plant-written-*' 2>/dev/null")
    paths = sorted(set(l for l in out.split() if l.startswith("/")))
    outside = [p for p in paths
               if not re.match(r"/var/lib/wisp/containers/restart(-\w+)?/volumes/", p)]
    if not outside and len(paths) < len(wrote):
        suite.error("host", "restart-volume-writes", "%d written, %d found: %r"
                    % (len(wrote), len(paths), paths))
    else:
        suite.host("restart-volume-writes", not outside,
                   ("landed outside the container's volumes: " + " ".join(outside)) if outside
                   else "the restart container's writes: %s" % (" ".join(paths) or "none"))


def host_user(suite, vm, uid, planted):
    """mallory (uid) against the containers' files on the host; planted:
    the probe's PLANTED/NOT-PLANTED lines (a container in a user namespace
    may be unable to make a device node: then there is none to find)."""
    asu = "escape-probe as %d %d " % (uid, uid)
    for name, cmd in (("user-ls-bundle-rootfs", "/bin/ls /run/wisp/bundles/probe/rootfs"),
                      ("user-read-config-json", "/bin/cat /run/wisp/bundles/probe/config.json"),
                      ("user-ls-upper", "/bin/ls /var/lib/wisp/containers/probe/upper"),
                      ("user-read-units", "/bin/sh -c 'cat /run/wisp/units/*.yaml'")):
        rc, _ = vm.sh(cmd + " >/dev/null")
        if rc != 0:
            suite.error("host", name, "%s fails as root too: nothing to try" % cmd)
            continue
        rc, out = vm.sh(asu + cmd + " >/dev/null 2>/tmp/err; echo rc=$?; head -c 200 /tmp/err")
        m = re.search(r"rc=(\d+)", out)
        ok = m is not None and m.group(1) != "0"
        suite.host(name, ok, "%s: %s" % (cmd, out.strip().replace("\n", " ") if ok else "allowed"))
    # every setuid file under the runtime's directories: the planted ones
    roots = "/run/wisp /var/lib/wisp /run/wisp/bundles/probe/rootfs"
    rc, out = vm.sh("find %s -xdev -type f -perm -4000 2>/dev/null" % roots)
    found = sorted(set(l for l in out.split() if l.startswith("/")))
    if not any(p.endswith("/suid-euid") for p in found) or (
            "PLANTED /escape-planted-suid" in planted
            and not any(p.endswith("/escape-planted-suid") for p in found)):
        suite.error("host", "user-run-setuid",
                    "the planted setuid files were not found: %r" % found)
    worst = []
    for p in found:
        rc, out = vm.sh(asu + p + " euid 2>&1 | head -c 200")
        if "EUID=0" in out:
            worst.append(p)
    suite.host("user-run-setuid", not worst and bool(found),
               ("ran as euid 0: " + " ".join(worst)) if worst else
               "%d setuid files, none ran as root for uid %d" % (len(found), uid))
    # every device node under them but overlay's whiteouts (0:0)
    rc, out = vm.sh("find " + roots + " -xdev \\( -type b -o -type c \\) "
                    "-exec stat -c '%t:%T %n' {} + 2>/dev/null | grep -v '^0:0 '")
    nodes = sorted(set(l.split(" ", 1)[1] for l in out.splitlines() if " /" in l))
    if "NOT-PLANTED /escape-planted-disk" in planted:
        suite.add("host", "plant-disk-node", "BLOCKED", "the container could not make one: "
                  + planted[planted.index("NOT-PLANTED /escape-planted-disk"):].split("\n")[0])
    elif not any(p.endswith("/escape-planted-disk") for p in nodes):
        suite.error("host", "user-open-devices", "the planted disk node was not found: %r" % nodes)
    opened = []
    for p in nodes:
        rc, out = vm.sh(asu + "/bin/busybox head -c 1 " + p + " >/dev/null 2>&1; echo rc=$?")
        if "rc=0" in out:
            opened.append(p)
    suite.host("user-open-devices", not opened,
               ("opened: " + " ".join(opened)) if opened else
               "%d device nodes, none opened by uid %d" % (len(nodes), uid))


def host_side(suite, vm, marker, runtime_sha, planted):
    _, out = vm.sh("sha256sum /bin/containerd-lite")
    suite.host("runtime-sha256", out.split()[:1] == [runtime_sha],
               "/bin/containerd-lite after the health checks: %s" % (out.split() or ["?"])[0])
    rc, out = vm.sh("grep -l %s /var/log/wisp/*.log" % marker)
    suite.host("marker-in-logs", rc != 0 and not out.strip(),
               "the host marker's contents in no container's log" if rc else
               "found in " + " ".join(out.split()))
    _, out = vm.sh("find /var /run /tmp /etc /home /root -name 'escape-vol-written-*' "
                   "2>/dev/null")
    paths = sorted(set(l for l in out.split() if l.startswith("/")))
    outside = [p for p in paths
               if not re.match(r"(/var/lib/wisp/containers|/run/wisp/bundles)/symvol-\d/", p)]
    suite.host("volume-writes", not outside,
               ("landed outside the container's directories: " + " ".join(outside)) if outside
               else "where the symvol-N writes landed: %s" % (" ".join(paths) or "nowhere"))
    rc, out = vm.sh("grep dev.tar /var/log/wisp/image-import.log")
    refused = "dev.tar: failed" in out
    suite.host("image-device-node", refused,
               out.strip().splitlines()[-1] if out.strip() else "no line for dev.tar")
    _, uid = vm.sh("id -u mallory")
    if uid.strip() != str(MALLORY_UID):
        suite.error("host", "mallory", "id -u mallory: %r" % uid)
        return
    host_user(suite, vm, MALLORY_UID, planted)


def report(suite):
    by = {}
    for r in suite.results:
        by[r[2]] = by.get(r[2], 0) + 1
    print("escape suite: %d results, %d blocked, %d expected, %d escaped, %d errors" % (
        len(suite.results), by.get("BLOCKED", 0), by.get("EXPECTED", 0), by.get("ESCAPED", 0),
        by.get("ERROR", 0)), flush=True)
    bad = [r for r in suite.results if r[2] in ("ESCAPED", "ERROR")]
    for r in bad:
        print("  %s %s %s: %s" % (r[2], r[0], r[1], r[3][:300]), flush=True)
    return not bad


def main():
    if not os.path.exists(PROBE):
        raise SystemExit("FAIL escape: %s missing (make escape-probe)" % PROBE)
    os.makedirs(OUT, exist_ok=True)
    marker = secrets.token_hex(16)
    images = make_images()
    with open(os.path.join(B, "containerd-lite", "containerd-lite"), "rb") as f:
        runtime_sha = hashlib.sha256(f.read()).hexdigest()
    spec = "images:\n" + "".join("  - {archive: %s, name: 'esc:wd%d'}\n" % (images["wd%d" % n], n)
                                 for n in WD)
    image = build_test_image("escape", manifest_lines=["file /bin/escape-probe %s 0755" % PROBE],
                             spec_extra=spec, state_size="160MiB")
    suite = Suite()
    names = ["hcexe", "probenet"] + RESTART + ["symvol-%d" % n for n in SYMVOL]
    names += ["wd-%s-%d" % (k, n) for n in WD for k in ("img", "decl")]
    with VM(image, name="escape", mem=1024, extra=["-cdrom", make_seed(images, marker)],
            disk_size="2G", nic="user", diagnose="wispctl ps; tail -n 5 /var/log/wisp/*.log") as vm:
        vm.boot()
        _, out = vm.sh("ls /sys/block | grep -cv '^loop'")
        disks = int(out.split()[-1])
        u = wait_ended(vm, names, 900)
        lines = container(suite, vm, u, "probe", "all", MAIN_PROBES + disks)
        planted = "\n".join(l for l in lines if "PLANTED " in l)
        for l in lines:
            if l.startswith(("WATCH ", "PLANTED ", "NOT-PLANTED ")):
                print("probe        " + l, flush=True)
        for l in container(suite, vm, u, "hcexe", "hcexe", HCEXE_PROBES):
            if l.startswith("WATCH "):
                print("hcexe        " + l, flush=True)
        container(suite, vm, u, "probenet", "net", NET_PROBES)
        for n in SYMVOL:
            for l in container(suite, vm, u, "symvol-%d" % n, "vol", VOL_PROBES):
                if l.startswith(("WROTE ", "NOT-WRITTEN ")):
                    print("symvol-%d     %s" % (n, l), flush=True)
        for n in WD:
            for k in ("img", "decl"):
                container(suite, vm, u, "wd-%s-%d" % (k, n), "cwd", CWD_PROBES)
        wrote = [w for n in RESTART for w in restart_container(suite, vm, u, n)]
        host_side(suite, vm, marker, runtime_sha, planted)
        restart_host(suite, vm, wrote)
    if not report(suite):
        raise BootError("escapes or errors above")


if __name__ == "__main__":
    sys.exit(run_test("escape", main))
