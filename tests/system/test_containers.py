"""Declared containers supervised by init (issues 3, 4, 6), in one TCG boot.

Builds a real OCI image with umoci on the host (busybox, an /etc/passwd
with user `web`, a config with Cmd, Env, StopSignal SIGUSR1, a Volume, a
Label and an ExposedPort). The test image's spec bakes it into STATE's
store as bb:1 (image-builder, lazy layers made at first use) and puts it
into STATE's drop directory as bb:2 (`import: boot`: init's image-import
unit imports it, and containers wait for that unit). Declared in
/etc/wisp/image.yaml:
  web           bb:1 with env and command overrides, a health check
                run inside it, restart always;
  ro            bb:2, read-only root, private network, user from the image;
  ghost         an image that is not in the store;
  pinned        the image by bb@sha256:DIGEST;
  deb           Debian bookworm minbase (make debian-image, debootstrap),
                baked into STATE too: its Cmd cats /etc/debian_version.
  fromseed      seed:1, an archive on the NoCloud seed (below).
and a NoCloud seed (genisoimage -V cidata) whose user-data declares one more,
  udc           under `wisp: containers:` (kind container by default),
and that carries wisp-images/seedimg.tar (bb with another Cmd) and its
.name `seed:1`: image-import mounts the seed, imports it and marks it.
Checks: web runs as init's own child in its own pid namespace and cgroup
/containers/web/ctr with no containerd-lite process left; its output is in its
log; its writes land in its upper layer and volume on /var, never in the
stored layers; the health check passes; killed, it is restarted and keeps
its data; `wispctl stop` sends the image's StopSignal; ro cannot write
its root and sees only loopback; ghost fails naming the missing image;
udc runs from the user-data; fromseed runs the seed archive's Cmd, the
mark on STATE names the archive, and the script run again skips it.
"""

import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from wispvm import (  # noqa: E402
    DIAGNOSE, VM, OciImage, build_test_image, check, nocloud_seed, run_test, units,
    wait_units)

B = os.environ.get("B", "build")
OUT = os.path.join(B, "tests", "containers")

SERVICES = """\
  - name: web
    kind: container
    image: "bb:1"
    env: {GREETING: hi}
    command: [sh, -c, 'trap "echo web: got USR1; exit 0" USR1; id; echo "web: GREETING=$GREETING A=$A";
              cat /data/f; ls /data; echo new > /data/new; echo v > /vol/v; echo web: up;
              while :; do sleep 1; done']
    healthcheck: {command: [test, -f, /data/new], interval: 2s, retries: 1}
    restart: always
    restart_delay: {initial: 100ms}
  - name: ro
    kind: container
    image: "bb:2"
    read_only: true
    network: private
    user: web
    command: [sh, -c, 'touch /x 2>/dev/null && echo ro: wrote || echo ro: refused;
              echo "ro: net=$(ls /sys/class/net) host=$(hostname) $(id)"; exec sleep 100000']
  - name: ghost
    kind: container
    image: "nope:1"
  - name: deb
    kind: container
    image: "debian:12"
  - name: pinned
    kind: container
    image: "bb@%(digest)s"
    command: [sh, -c, 'echo "pinned: by digest"; exec sleep 100000']
  - name: fromseed
    kind: container
    image: "seed:1"
"""


def make_image():
    """An OCI layout tar of busybox, made with umoci; returns its path and
    its digest. The seed's image (OUT/seedimg.tar): the same layer, another Cmd."""
    files = {"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nweb:x:1000:1000::/:/bin/sh\n",
             "etc/group": "root:x:0:\nweb:x:1000:\nstaff:x:50:other,web\n",
             "data/f": "web: image data\n"}
    img = OciImage(os.path.join(OUT, "oci"), "bb", dirs=("etc", "data", "tmp", "vol"), files=files,
                   applets=("sh", "cat", "echo", "id", "ls", "sleep", "touch", "test", "hostname"))
    img.config("--config.cmd", "sh", "--config.env", "A=1", "--config.stopsignal", "SIGUSR1",
               "--config.volume", "/vol", "--config.label", "org.wisp.test=yes",
               "--config.exposedports", "80/tcp")
    tar = img.tar(os.path.join(OUT, "bb.tar"))
    digest = img.digest()
    img.config("--config.cmd", "sh", "--config.cmd", "-c",
               "--config.cmd", 'echo "fromseed: the seed image"; exec sleep 100000')
    img.tar(os.path.join(OUT, "seedimg.tar"))
    return tar, digest


USER_DATA = """#cloud-config
wisp:
  containers:
    - name: udc
      image: "bb:1"
      command: [sh, -c, 'echo "udc: from user-data"; exec sleep 100000']
"""


def log_of(vm, name):
    return vm.sh("cat /var/log/wisp/%s.log" % name)[1]


def resident_runtime(vm):
    """containerd-lite processes older than 20 s ("pid:age" each). A
    health check runs `containerd-lite exec` every few seconds, so one
    may be alive at any moment (longer since it re-executes from its
    sealed copy); what must not exist is one that stays, as a shim."""
    # one that ends between pidof and the read of its stat is skipped, not misread
    _, out = vm.sh("for p in $(pidof containerd-lite); do "
                   "s=$(cat /proc/$p/stat 2>/dev/null) && [ -n \"$s\" ] || continue; "
                   "echo $p $(echo \"$s\" | cut -d')' -f2 | cut -d' ' -f21); done; "
                   "cut -d' ' -f1 /proc/uptime")
    lines = out.split()
    if not lines:
        return []
    uptime = float(lines[-1])
    pairs = zip(lines[:-1:2], lines[1:-1:2])
    return ["%s:%.0fs" % (p, uptime - int(t) / 100) for p, t in pairs
            if uptime - int(t) / 100 > 20]


def running(vm):
    u = wait_units(vm, "web healthy and ro running",
                   lambda u: u.get("web", {}).get("state") == "healthy"
                   and u.get("ro", {}).get("state") == "running")
    check(u["web"]["kind"] == "container", "web is a container unit, healthy (check run inside it)")
    pid = u["web"]["pid"]
    _, st = vm.sh("cat /proc/%d/stat" % pid)
    check(st.split(")")[1].split()[1] == "1", "web's process %d is init's child (no shim)" % pid)
    _, ns = vm.sh("grep NSpid /proc/%d/status" % pid)
    check(re.search(r"NSpid:\s+%d\s+1\b" % pid, ns), "web is pid 1 of its own pid namespace")
    _, cg = vm.sh("cat /proc/%d/cgroup" % pid)
    check("0::/containers/web/ctr" in cg, "web runs in cgroup /containers/web/ctr (the pool)")
    resident = resident_runtime(vm)
    check(not resident, "no containerd-lite process stays running %s" % resident)
    _, dev = vm.sh("cat /sys/block/vda/dev")
    major, minor = dev.strip().split(":")
    _, out = vm.sh("containerd-lite --root /run/wisp/containers exec web sh -c "
                   "'busybox mknod /tmp/disk b %s %s && busybox head -c 1 /tmp/disk >/dev/null; echo end'"
                   % (major, minor))
    check("Operation not permitted" in out and "end" in out,
          "web may mknod the host disk (CAP_MKNOD) but not open it (device policy)")
    log = log_of(vm, "web")
    check("uid=0(root)" in log and "web: GREETING=hi A=1" in log and "web: image data" in log,
          "web's output is in its log: image Env plus declared env")
    return pid


def layers(vm):
    rc, out = vm.sh("cat /var/lib/wisp/containers/web/upper/data/new "
                    "/var/lib/wisp/containers/web/volumes/vol/v")
    check(rc == 0 and "new" in out and "v" in out, "web's writes are in its upper layer and volume")
    rc, out = vm.sh("ls /var/lib/wisp/images/layers/*/data/")
    check(rc == 0 and "f" in out.split() and "new" not in out.split(),
          "the stored layer is untouched (%s)" % " ".join(out.split()))


def restart(vm, pid):
    vm.sh("kill -9 %d" % pid)
    u = wait_units(vm, "web restarted", lambda u: u.get("web", {}).get("restarts", 0) >= 1
                   and u["web"]["state"] in ("running", "healthy") and u["web"]["pid"] != pid)
    check(u["web"]["last_exit"] == {"signal": "KILL"}, "web killed: restarted, last exit KILL")
    # The new run has written its greeting and "new" once its health check passed.
    wait_units(vm, "web healthy again", lambda u: u["web"]["state"] == "healthy", 60)
    runs = log_of(vm, "web").split("web: GREETING")
    check(len(runs) >= 3 and re.search(r"Z new\n", runs[-1]) and not re.search(r"Z new\n", runs[1]),
          "the restarted web still has the /data/new of its first run")


def stop(vm):
    t0 = time.monotonic()
    vm.sh("wispctl stop web")
    u = wait_units(vm, "web stopped", lambda u: u["web"]["state"] == "stopped", 60)
    took = time.monotonic() - t0
    log = log_of(vm, "web")
    # Its trap's exit 0, not the SIGKILL after stop_timeout: the image's signal was sent.
    check("web: got USR1" in log and u["web"]["last_exit"] == {"code": 0},
          "wispctl stop sent the image's StopSignal (USR1): web exited 0 (in %.1f s)" % took)


def debian(vm):
    u = wait_units(vm, "deb done", lambda u: u.get("deb", {}).get("state") in ("done", "failed"),
                   300)
    log = log_of(vm, "deb")
    check(u["deb"]["state"] == "done" and re.search(r"Z 12\.\d+\n", log),
          "the Debian image baked by image-builder ran as a declared container: %s"
          % log.strip().splitlines()[-1:])


def verbs(vm):
    rc, out = vm.sh("wispctl images")
    check(rc == 0 and re.search(r"(?m)^bb:1\tsha256:[0-9a-f]{64}\t1 layers$", out)
          and re.search(r"(?m)^bb:2\t", out),
          "wispctl images lists bb:1 (baked) and bb:2 (imported at boot)")
    u = units(vm)
    _, log = vm.sh("dmesg | grep -c 'ro waits for image-import'")
    check(u["image-import"]["state"] == "done" and log.strip().splitlines()[-1] != "0",
          "containers waited for image-import, which is done")
    rc, out = vm.sh("wispctl --json images")
    lines = [json.loads(l)["line"] for l in out.strip().splitlines()] if rc == 0 else []
    check(any(l.startswith("bb:1\t") for l in lines) and any(l.startswith("seed:1\t") for l in lines),
          "wispctl --json images: one JSON object per line (bb:1 and seed:1 among them)")
    rc, out = vm.sh("wispctl config")
    check(rc == 0 and "datasource: NoCloud" in out and "instance-id: containers-1" in out,
          "wispctl config: datasource and instance-id")


def from_seed(vm):
    wait_units(vm, "fromseed running",
               lambda u: u.get("fromseed", {}).get("state") == "running")
    check("fromseed: the seed image" in log_of(vm, "fromseed"),
          "fromseed runs the Cmd of the image imported from the seed's wisp-images/")
    rc, out = vm.sh("wispctl images")
    check(rc == 0 and re.search(r"(?m)^seed:1\tsha256:[0-9a-f]{64}\t1 layers$", out),
          "wispctl images lists seed:1")
    size = os.path.getsize(os.path.join(OUT, "seedimg.tar"))
    rc, out = vm.sh("cat /var/lib/wisp/seed-imported")
    check(rc == 0 and re.search(r"(?m)^seedimg\.tar\t%d\t[0-9a-f]{64}\tseed:1\tsha256:[0-9a-f]{64}$"
                                % size, out), "the mark on STATE names the archive: %r" % out)
    check(re.search(r"(?m)seedimg\.tar: imported seed:1 sha256:", log_of(vm, "image-import")),
          "image-import's log: one line for the seed's archive")
    rc, out = vm.sh("/usr/libexec/wisp/image-import; echo rc=$?; grep -c . /var/lib/wisp/seed-imported;"
                    " grep -c seed-images /proc/mounts")
    check(re.search(r"(?m)^seedimg\.tar: already imported seed:1 sha256:", out)
          and "rc=0" in out and out.split()[-2:] == ["1", "0"],
          "run again, image-import skips the marked archive (one mark, seed unmounted): %r" % out)


def others(vm):
    log = log_of(vm, "ro")
    check("ro: refused" in log and "Permission denied" not in log,
          "read_only: the container cannot write its root (and user web can use /dev/null)")
    check(re.search(r"ro: net=lo host=ro uid=1000\(web\) gid=1000\(web\) groups=\S*50\(staff\)",
                    log),
          "ro: private network (lo only), own hostname, user web and its group staff from the image")
    u = wait_units(vm, "udc running", lambda u: u.get("udc", {}).get("state") == "running")
    check(u["udc"]["kind"] == "container" and "udc: from user-data" in log_of(vm, "udc"),
          "udc, declared under wisp: containers: in user-data, runs")
    u = wait_units(vm, "pinned running", lambda u: u.get("pinned", {}).get("state") == "running")
    check("pinned: by digest" in log_of(vm, "pinned"),
          "pinned runs from its image named bb@sha256:... (two tags of it: one image)")
    check(u["ghost"]["state"] == "failed", "ghost: failed")
    log = log_of(vm, "ghost")
    check("image nope:1: not in store" in log, "ghost's log names the missing image")


def main():
    tar, digest = make_image()
    deb = os.path.join(B, "images", "debian-minbase.oci.tar")
    if not os.path.exists(deb):
        raise SystemExit("FAIL containers: %s missing (make debian-image)" % deb)
    spec = ("images:\n  - {archive: %s, name: 'bb:1'}\n"
            "  - {archive: %s, name: 'bb:2', import: boot}\n"
            "  - {archive: %s, name: 'debian:12'}\n" % (tar, tar, deb))
    image = build_test_image("containers", services_yaml=SERVICES % {"digest": digest},
                             spec_extra=spec, state_size="160MiB")
    # the NoCloud seed, with an image archive for image-import
    seed = nocloud_seed(OUT, USER_DATA, "containers-1",
                        {"seedimg.tar": (os.path.join(OUT, "seedimg.tar"), "seed:1")})
    with VM(image, name="containers", mem=384, extra=["-cdrom", seed], disk_size="2G",
            diagnose=DIAGNOSE) as vm:
        vm.boot()
        debian(vm)  # first: its first start unpacks its layer (a runtime step running)
        pid = running(vm)
        layers(vm)
        others(vm)
        from_seed(vm)
        verbs(vm)
        restart(vm, pid)
        stop(vm)


if __name__ == "__main__":
    sys.exit(run_test("containers", main))
