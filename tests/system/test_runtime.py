"""containerd-lite inside Wisp (issue 4): resource limits and the device
policy, which the build hosts' hybrid cgroups cannot show.

Builds build/tests/runtime.img: the default image plus four bundle
configs under /lib/wisp-test/ (made here, small, no seccomp). One boot
under TCG; in the guest a busybox rootfs is made in /run and each bundle
is run with /bin/containerd-lite:
  memory.max 24M: a 64 MiB dd buffer is OOM-killed (exit 137, oom_kill in
    the kernel log), the guest goes on;
  the console: a process whose name (a script's) is an escape sequence is
    OOM-killed; the kernel's "Killed process N (NAME)" reaches the console
    with the name's control bytes escaped (PID 1's relay), never raw;
  pids.max 16: a fork loop fails to fork, and the guest still forks;
  cpu.max 20000/100000: `yes` for 3 s uses well under 3 s (cpu.stat
    usage_usec) and is throttled (nr_throttled);
  devices "deny all": writing /dev/kmsg (bound from the guest) gives
    EPERM while /dev/null works; with "allow c 1:11 w" /dev/kmsg opens;
  weights: cpu.weight (from shares, runc's formula), cpuset.cpus/mems,
    io.weight (from blkio weight) and memory.low, read in the container's
    own cgroup; and cpuset.cpus.effective follows cpuset.cpus;
  idmapped mounts on Linux 6.1: a bind of an ext4 directory (/var) with
    the mapping 0 -> 1000 shows root's file as 1000's; a tmpfs one (/run)
    is refused with a one-line error (tmpfs takes idmaps from 6.3).
And images (docs/images.md): the spec bakes a busybox image into STATE
(import: build, a lazy import) and drops another in /var/lib/wisp/import
(import: boot). After boot the unit image-import has completed, both are
listed, the drop directory is empty; preparing the baked one makes its
layer from the blob, in the guest; the dropped one unpacks and runs.
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from wispvm import VM, build_test_image, busybox_oci_tar, check, run_test, wait_sh  # noqa: E402

CT = "/run/ct"


def config(args, resources, extra_mounts=()):
    mounts = [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"},
        {"destination": "/sys/fs/cgroup", "type": "cgroup2", "source": "cgroup2"},
    ] + list(extra_mounts)
    return {
        "ociVersion": "1.1.0",
        "process": {"args": ["sh", "-c", args], "cwd": "/", "env": ["PATH=/bin"],
                    "user": {"uid": 0, "gid": 0}},
        "root": {"path": CT + "/rootfs"},
        "hostname": "ct",
        "mounts": mounts,
        "linux": {"namespaces": [{"type": t} for t in ("pid", "mount", "ipc", "uts", "cgroup")],
                  "resources": resources},
    }


KMSG = [{"destination": "/dev/kmsg", "type": "bind", "source": "/dev/kmsg", "options": ["bind"]}]
DEVPROBE = ('for d in kmsg null; do e=$( (echo devprobe >/dev/$d) 2>&1) && echo $d=ok '
            '|| echo "$d=${e##*: }"; done')
DENY = [{"allow": False, "access": "rwm"}]
IDMAP = [{"containerID": 0, "hostID": 1000, "size": 1}]


def idmapped(src):
    return [{"destination": "/mnt/idm", "type": "bind", "source": src, "options": ["bind"],
             "uidMappings": IDMAP, "gidMappings": IDMAP}]

BUNDLES = {
    "mem": config("exec dd if=/dev/zero of=/dev/null bs=64M count=1",
                  {"memory": {"limit": 24 << 20, "swap": 24 << 20}}),
    # its process, by the name of the script it runs (its comm), an OSC title sequence;
    # its shell's heap grows until the OOM killer takes it
    "memesc": config("n=$(printf '\\033]2;pwned\\007'); printf '#!/bin/sh\\nx=$(yes)\\n' >"
                     " \"/tmp/$n\"; chmod +x \"/tmp/$n\"; exec \"/tmp/$n\"",
                     {"memory": {"limit": 24 << 20, "swap": 24 << 20}}),
    "pids": config("for i in $(seq 40); do sleep 5 & done; echo survived",
                   {"pids": {"limit": 16}}),
    "cpu": config("yes >/dev/null & p=$!; sleep 3; kill $p; cat /sys/fs/cgroup/cpu.stat",
                  {"cpu": {"quota": 20000, "period": 100000}}),
    "weights": config("cd /sys/fs/cgroup && for f in cpu.weight cpuset.cpus cpuset.mems "
                      "cpuset.cpus.effective io.weight memory.low; do echo \"$f=$(cat $f)\"; done",
                      {"cpu": {"shares": 2048, "cpus": "0", "mems": "0"},
                       "blockIO": {"weight": 500},
                       "memory": {"reservation": 16 << 20}}),
    "idmap": config("echo owner=$(stat -c %u:%g /mnt/idm/f)", {}, idmapped("/var/idm")),
    "idmaptmpfs": config("true", {}, idmapped("/run/idm")),
    "devdeny": config(DEVPROBE, {"devices": DENY}, KMSG),
    "devallow": config(DEVPROBE, {"devices": DENY + [{"allow": True, "type": "c", "major": 1,
                                                     "minor": 11, "access": "w"}]}, KMSG),
}

ROOTFS = ("mkdir -p %s/rootfs && cd %s/rootfs && mkdir -p bin proc dev tmp sys/fs/cgroup && "
          "cp /bin/busybox bin/ && for a in sh dd cat echo sleep yes seq kill stat chmod; do "
          "ln -sf busybox bin/$a; done; cd /" % (CT, CT))


def run(vm, name, timeout=60):
    """Runs bundle NAME in the guest; returns (exit status, output)."""
    vm.sh("mkdir -p %s/%s && cp /lib/wisp-test/%s.json %s/%s/config.json"
          % (CT, name, name, CT, name))
    _, out = vm.sh("containerd-lite run --bundle %s/%s %s >/run/ct/%s.out 2>&1; echo status=$?; "
                   "cat /run/ct/%s.out" % (CT, name, name, name, name), timeout)
    m = re.search(r"status=(\d+)", out)
    return (int(m.group(1)) if m else -1), out


def memory(vm):
    rc, out = run(vm, "mem")
    check(rc == 137, "memory.max: the hog is killed (status %d)" % rc)
    _, log = vm.sh("dmesg | grep -c -E 'oom-kill|Memory cgroup out of memory'")
    check(log.strip().splitlines()[-1] != "0", "memory.max: the kernel's OOM killer acted in the cgroup")
    rc, out = vm.sh("wispctl ps")
    check(rc == 0, "memory.max: init still answers (wispctl ps exits 0): %r" % out.strip()[-100:])


def console_escaped(vm):
    """The OOM killer names the process it kills by its comm, which the container chose:
    on the console (the kernel's level back at 7 for this) the name's control bytes are
    escaped (PID 1 relays the kernel's records, docs/security.md), never raw."""
    raw, shown = "\x1b]2;pwned\x07", r"\x1b]2;pwned\x07"
    vm.sh("mkdir -p %s/memesc && cp /lib/wisp-test/memesc.json %s/memesc/config.json"
          % (CT, CT))
    # A root's `dmesg -n 7` holds until the relay reads its next record (docs/security.md):
    # one is written, and the relay has taken the kernel's level back to 2 (before: 7)
    vm.sh("dmesg -n 7; echo '<6>test: the console at level 7' >/dev/kmsg")
    wait_sh(vm, "cat /proc/sys/kernel/printk", lambda rc, o: re.search(r"(?m)^2\s+4\s+1\s+7$", o),
            "console: the relay follows dmesg -n 7, the kernel's own level back at 2")
    _, out = vm.sh("containerd-lite run --bundle %s/memesc memesc >/dev/null 2>&1;"
                   " echo status=$?" % CT, 120)
    check("status=137" in out, "console: the named hog is OOM-killed (%s)" % out.strip()[-60:])
    try:
        vm.seen_times(re.escape("Killed process") + r" \d+ \(" + re.escape(shown) + r"\)", 1, 120)
    finally:
        vm.sh("dmesg -n 1")
    check(raw not in vm.buf, "console: no raw escape sequence from a process name")


def pids(vm):
    rc, out = run(vm, "pids")
    check("survived" not in out and re.search(r"fork|Resource temporarily unavailable", out),
          "pids.max: the fork loop cannot fork past the limit (%s)"
          % " ".join(out.split()[-6:]))
    rc, _ = vm.sh("( true ) && sleep 0")
    check(rc == 0, "pids.max: the guest still forks")


def cpu(vm):
    rc, out = run(vm, "cpu")
    usage = re.search(r"usage_usec (\d+)", out)
    thr = re.search(r"nr_throttled (\d+)", out)
    check(rc == 0 and usage and thr, "cpu.max: cpu.stat read in the container")
    check(int(usage.group(1)) < 1500000,
          "cpu.max: 3 s of `yes` used %.2f s (limit 0.2 CPU)" % (int(usage.group(1)) / 1e6))
    check(int(thr.group(1)) > 0, "cpu.max: throttled %s times" % thr.group(1))


def weights(vm):
    """The values runc would write (shares 2048 -> weight 1 + 2046 * 9999
    / 262142 = 79; blkio 500 -> io 1 + 490 * 9999 / 990 = 4950)."""
    rc, out = run(vm, "weights")
    got = dict(line.split("=", 1) for line in out.splitlines() if "=" in line and "status" not in line)
    check(rc == 0, "weights: the container runs (status %d: %s)" % (rc, out.strip()[-200:]))
    check(got.get("cpu.weight") == "79", "weights: cpu.weight 79 from shares 2048 (%s)" % got.get("cpu.weight"))
    check(got.get("cpuset.cpus") == "0" and got.get("cpuset.mems") == "0"
          and got.get("cpuset.cpus.effective") == "0",
          "weights: cpuset.cpus 0, mems 0, effective 0 (%s)" % got)
    check(got.get("io.weight") == "default 4950", "weights: io.weight default 4950 from blkio 500 (%s)"
          % got.get("io.weight"))
    check(got.get("memory.low") == str(16 << 20), "weights: memory.low 16 MiB (%s)" % got.get("memory.low"))


def idmap(vm):
    rc, _ = vm.sh("mkdir -p /var/idm /run/idm && touch /var/idm/f /run/idm/f")
    check(rc == 0, "idmap: root's files in /var (ext4) and /run (tmpfs)")
    rc, out = run(vm, "idmap")
    check(rc == 0 and "owner=1000:1000" in out, "idmap: ext4 bind with 0 -> 1000 shows root's file as 1000's (%s)"
          % out.strip()[-200:])
    rc, out = run(vm, "idmaptmpfs")
    check(rc == 1 and "idmapped mount of /run/idm: tmpfs cannot be idmapped by this kernel" in out,
          "idmap: tmpfs refused on 6.1 with a one-line error (%s)" % out.strip()[-200:])


def devices(vm):
    rc, out = run(vm, "devdeny")
    check(rc == 0 and "kmsg=" in out and "kmsg=ok" not in out
          and "Operation not permitted" in out and "null=ok" in out,
          "devices: deny all: /dev/kmsg EPERM, /dev/null works")
    rc, out = run(vm, "devallow")
    check(rc == 0 and "kmsg=ok" in out and "null=ok" in out,
          "devices: allow c 1:11 w: /dev/kmsg opens")


def images(vm):
    # image-import runs beside the boot: wait for its end, then check what it did
    wait_sh(vm, "wispctl status image-import", lambda rc, o: re.search(
        r"(?m)^state:\s+(done|failed)$", o), "images: image-import has ended", 150)
    _, out = vm.sh("echo import=[$(ls -A /var/lib/wisp/import)]; "
                   "wispctl ps | grep image-import; containerd-lite image list", 60)
    check("import=[]" in out, "images: the drop directory was emptied at boot")
    check(re.search(r"image-import +oneshot +done", out),
          "images: the oneshot unit image-import ran and completed")
    check("wisp/dropped:1\t" in out and "wisp/baked:1\t" in out,
          "images: the dropped and the baked image are listed")
    rc, out = vm.sh("containerd-lite image prepare wisp/baked:1")
    check(rc == 0 and "1 layers, 1 unpacked now" in out,
          "images: the baked (lazy) image's layer is made in the guest: %s" % out.strip())
    rc, out = vm.sh("containerd-lite image unpack wisp/dropped:1 /run/img && "
                    "chroot /run/img /bin/busybox cat /etc/marker")
    check(rc == 0 and "dropped" in out, "images: the dropped image unpacks and runs busybox")


def main():
    files = {n + ".json": json.dumps(c) for n, c in BUNDLES.items()}
    b = os.environ.get("B", "build")
    outdir = os.path.join(b, "tests", "runtime")
    os.makedirs(outdir, exist_ok=True)
    lines = ["dir /lib/wisp-test 0755"] + [
        "file /lib/wisp-test/%s %s 0644" % (f, os.path.join(outdir, f)) for f in files]
    baked, dropped = (busybox_oci_tar(outdir, n, n) for n in ("baked", "dropped"))
    spec_extra = ("images:\n  - {archive: %s, name: 'wisp/baked:1'}\n"
                  "  - {archive: %s, name: 'wisp/dropped:1', import: boot}\n" % (baked, dropped))
    image = build_test_image("runtime", manifest_lines=lines, files=files, spec_extra=spec_extra)
    with VM(image, name="runtime", mem=256) as vm:
        vm.boot()
        rc, out = vm.sh(ROOTFS)
        check(rc == 0, "busybox rootfs in %s" % CT)
        images(vm)
        devices(vm)
        weights(vm)
        idmap(vm)
        memory(vm)
        console_escaped(vm)
        pids(vm)
        cpu(vm)


if __name__ == "__main__":
    sys.exit(run_test("runtime", main))
