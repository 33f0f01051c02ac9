"""Containers in user namespaces of their own by default (issue 10), two TCG boots.

Images baked into STATE: the Debian bookworm minbase image (make
debian-image: files of several owners: /etc/shadow root:shadow(42),
/var/mail root:mail(8), /var/local root:staff(50)) and a busybox image
with a Volume /vol (umoci). Declared:
  a, b   debian:12, default settings: each in a user namespace of its own;
         a has a health check (run inside it by `containerd-lite exec`);
  h      debian:12 with `userns: host`: the host's ids;
  v      bb:1 (its Volume on /var).
Checks: a and b show uid_map `0 BASE 65536` with BASE = 0x100000 + k*65536,
distinct; h `0 0 4294967295`; processes run as BASE on the host; the
image's files keep their owners inside (root, shadow, mail, staff), the
stored layer is unchanged (host ids 0); what a container writes lands in
its upper owned by BASE-shifted ids (chown 100:42 inside = BASE+100:BASE+42
on the host), the volume too; the health check passes; `wispctl ps` and
`--json ps` show the ranges; an upper made before (host ids, no record) is
shifted once and recorded; after a reboot every container has the same range.
Also measures `image bundle` of the Debian image with and without
idmapped layers in the guest.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from wispvm import (  # noqa: E402
    DIAGNOSE, VM, OciImage, build_test_image, check, run_test, wait_sh, wait_units)

B = os.environ.get("B", "build")
OUT = os.path.join(B, "tests", "userns")
BASE = 0x100000
SIZE = 65536

SHOW = "cat /proc/self/uid_map /proc/self/gid_map; echo {n}: up; exec sleep 100000"
SERVICES = """\
  - name: a
    kind: container
    image: "debian:12"
    command: [sh, -c, 'touch /a-made; %(a)s']
    healthcheck: {command: [test, -f, /a-made], interval: 2s, retries: 1}
  - name: b
    kind: container
    image: "debian:12"
    command: [sh, -c, '%(b)s']
  - name: h
    kind: container
    image: "debian:12"
    userns: host
    command: [sh, -c, '%(h)s']
  - name: v
    kind: container
    image: "bb:1"
    command: [sh, -c, 'echo data > /vol/f; %(v)s']
""" % {n: SHOW.format(n=n) for n in "abhv"}


def make_image():
    """busybox with a Volume /vol, as an OCI layout tar (umoci)."""
    img = OciImage(os.path.join(OUT, "oci"), "bb", dirs=("etc", "vol"),
                   applets=("sh", "cat", "echo", "sleep"))
    img.config("--config.cmd", "sh", "--config.volume", "/vol")
    return img.tar(os.path.join(OUT, "bb.tar"))


# wait_units' bound, with room for the Debian containers' first starts under TCG.
START_TIMEOUT = 240


def up(vm):
    return wait_units(vm, "a healthy, b, h, v running",
                      lambda u: u.get("a", {}).get("state") == "healthy" and
                      all(u.get(n, {}).get("state") == "running" for n in "bhv"), START_TIMEOUT)


def maps(vm, n):
    """The uid and gid maps a container printed (its log) and its process's.
    Its health check can pass before it prints them (a touches /a-made
    first): its log is read once it says "N: up", within 30 s."""
    log = "/var/log/wisp/%s.log" % n
    log = wait_sh(vm, "cat %s; grep -qs 'Z %s: up$' %s" % (log, n, log),
                  lambda rc, o: rc == 0, "%s: its log says %s: up" % (n, n), 30)
    return [" ".join(m.groups()) for m in re.finditer(r"(?m)Z\s+(\d+)\s+(\d+)\s+(\d+)\s*$", log)]


def in_ctr(vm, n, cmd):
    return vm.sh("containerd-lite --root /run/wisp/containers exec %s sh -c '%s'" % (n, cmd))


def ranges(vm, u):
    """Each container's base, checked against its uid_map and its process."""
    bases = {}
    for n in "abv":
        m = maps(vm, n)
        base = (u[n].get("userns") or {}).get("host_id")
        check(base is not None and u[n]["userns"].get("size") == SIZE,
              "%s: wispctl --json ps gives its range %r" % (n, u[n].get("userns")))
        check(m[-2:] == ["0 %d %d" % (base, SIZE)] * 2,
              "%s: uid_map and gid_map are 0 %d %d: %r" % (n, base, SIZE, m))
        check(base >= BASE and (base - BASE) % SIZE == 0,
              "%s: its range starts at 0x100000 + k*65536 (k=%d)" % (n, (base - BASE) // SIZE))
        _, st = vm.sh("stat -c %%u:%%g /proc/%d" % u[n]["pid"])
        check(st.strip() == "%d:%d" % (base, base),
              "%s: its process is host uid/gid %d, no host user" % (n, base))
        bases[n] = base
    check(len(set(bases.values())) == 3, "a, b, v have distinct ranges: %r" % bases)
    check(u["h"].get("userns") == "host" and maps(vm, "h")[-2:] == ["0 0 4294967295"] * 2,
          "h (userns: host) has the host's ids: 0 0 4294967295, wispctl says host")
    _, ps = vm.sh("wispctl ps")
    for n, base in bases.items():
        check(re.search(r"(?m)^%s\s.*\s%d-%d$" % (n, base, base + SIZE - 1), ps),
              "wispctl ps shows %s's range %d-%d" % (n, base, base + SIZE - 1))
    check(re.search(r"(?m)^h\s.*\shost$", ps) and re.search(r"(?m)^console\s.*\s-$", ps),
          "wispctl ps: h host, the console service -")
    _, st = vm.sh("wispctl status a; wispctl --json status h")
    check("userns:   %d-%d" % (bases["a"], bases["a"] + SIZE - 1) in st and
          '"userns":"host"' in st, "wispctl status shows the range too: %r" % st[-200:])
    _, rec = vm.sh("cat /var/lib/wisp/userns")
    check(all("%s %d" % kv in rec.splitlines() for kv in bases.items()),
          "the ranges are recorded on STATE (/var/lib/wisp/userns): %r" % rec)
    return bases


def files(vm, bases):
    base = bases["a"]
    _, out = in_ctr(vm, "a", "stat -c \"%u:%g %n\" / /etc/shadow /var/mail /var/local "
                    "/usr/bin/chage; id -u; ls -ln /etc/shadow")
    for want in ("0:0 /", "0:42 /etc/shadow", "0:8 /var/mail", "0:50 /var/local",
                 "0:42 /usr/bin/chage"):
        check(want in out, "a sees the Debian image's %s with its owner (%s): %r"
              % (want.split()[1], want.split()[0], out))
    check("nobody" not in out and "65534" not in out, "no file shows as nobody (unmapped)")
    _, lay = vm.sh("find /var/lib/wisp/images/layers -maxdepth 3 -path '*/etc/shadow' "
                   "-exec stat -c %u:%g {} \\;")
    check(lay.split() == ["0:42"], "the stored layer is unchanged (host 0:42): %r" % lay)
    rc, out = in_ctr(vm, "a", "mkdir -p /owned && echo x > /owned/f && chown 100:42 /owned/f "
                     "&& chown 1:1 /owned && echo done")
    check(rc == 0 and "done" in out, "a's root chowns its files to its own ids: %r" % out)
    up_ = "/var/lib/wisp/containers/a/upper"
    _, st = vm.sh("stat -c '%%u:%%g %%n' %s %s/a-made %s/owned %s/owned/f" % ((up_,) * 4))
    want = ["%d:%d %s" % (base + u, base + g, p) for u, g, p in
            ((0, 0, up_), (0, 0, up_ + "/a-made"), (1, 1, up_ + "/owned"),
             (100, 42, up_ + "/owned/f"))]
    check(st.strip().splitlines() == want,
          "a's writes land in its upper owned by its shifted ids: %r" % st)
    _, st = vm.sh("stat -c %u:%g /var/lib/wisp/containers/v/volumes/vol/f "
                  "/var/lib/wisp/containers/v/volumes/vol")
    check(st.split() == ["%d:%d" % (bases["v"], bases["v"])] * 2,
          "v's volume and what it wrote there are its root's (%d): %r" % (bases["v"], st))
    _, st = vm.sh("stat -c '%a %u:%g' /run/wisp/bundles /run/wisp/bundles/a "
                  "/var/lib/wisp/containers /var/lib/wisp/containers/a")
    check(st.split() == ["711", "0:0", "710", "0:%d" % base] * 2,
          "its bundle and data directories: 0710 root:%d, their parents 0711 (no listing): %r"
          % (base, st))


def shift_old(vm, bases):
    """An upper made before user namespaces: host ids, no record."""
    up_ = "/var/lib/wisp/containers/b"
    vm.sh("wispctl stop b")
    wait_units(vm, "b stopped", lambda u: u["b"]["state"] in ("stopped", "done", "failed"),
               START_TIMEOUT)
    rc, out = vm.sh("rm %s/userns-base && chown -R 0:0 %s/upper && mkdir %s/upper/old && "
                    "echo old > %s/upper/old/f && chown 5:60 %s/upper/old/f && "
                    "chmod 4755 %s/upper/old/f && ln -s /etc/shadow %s/upper/old/l && echo ok"
                    % ((up_,) * 7))
    check("ok" in out, "b's upper made as before user namespaces (host ids, no record)")
    vm.sh("wispctl start b")
    wait_units(vm, "b running again", lambda u: u["b"]["state"] == "running", START_TIMEOUT)
    _, st = vm.sh("stat -c '%%u:%%g %%a %%n' %s/upper/old/f; stat -c %%u %s/upper/old/l; "
                  "stat -c %%u /etc/shadow; cat %s/userns-base"
                  % (up_, up_, up_))
    base = bases["b"]
    check(st.split() == ["%d:%d" % (base + 5, base + 60), "4755", up_ + "/upper/old/f",
                         str(base), "0", str(base)],
          "b's old upper is shifted once (5:60 -> %d:%d, setuid kept, the symlink itself "
          "chowned, not /etc/shadow), then recorded: %r" % (base + 5, base + 60, st))
    _, out = in_ctr(vm, "b", "stat -c %u:%g /old/f")
    check(out.strip() == "5:60", "b sees its old file as 5:60: %r" % out)


def measure(vm):
    """image bundle of the Debian image (1 layer), idmapped vs as it is."""
    out = {}
    for mode in ("host", str(BASE + 100 * SIZE)):
        t = []
        for i in range(3):
            rc, o = vm.sh("umount /run/m-%s/rootfs 2>/dev/null; a=$(cat /proc/uptime); "
                          "containerd-lite image bundle --userns %s --network host --upper "
                          "/var/lib/wisp/m-%s debian:12 /run/m-%s && b=$(cat /proc/uptime) && "
                          "echo ${a%%%% *} ${b%%%% *}" % (mode, mode, mode, mode))
            check(rc == 0, "image bundle --userns %s works: %r" % (mode, o))
            a, b = o.split()[-2:]
            t.append(float(b) - float(a))
        out[mode] = min(t)
        vm.sh("umount /run/m-%s/rootfs" % mode)
    print("  measure: image bundle debian:12 (1 layer), best of 3 in TCG: host %.2f s, "
          "userns (idmapped layer) %.2f s" % (out["host"], out[str(BASE + 100 * SIZE)]),
          flush=True)


def main():
    tar = make_image()
    deb = os.path.join(B, "images", "debian-minbase.oci.tar")
    if not os.path.exists(deb):
        raise SystemExit("FAIL userns: %s missing (make debian-image)" % deb)
    spec = ("images:\n  - {archive: %s, name: 'bb:1'}\n"
            "  - {archive: %s, name: 'debian:12'}\n" % (tar, deb))
    image = build_test_image("userns", services_yaml=SERVICES, spec_extra=spec,
                             state_size="160MiB")
    with VM(image, name="userns", mem=384, disk_size="2G",
            diagnose=DIAGNOSE) as vm:
        vm.boot()
        u = up(vm)
        bases = ranges(vm, u)
        files(vm, bases)
        shift_old(vm, bases)
        measure(vm)
        vm.send("wispctl reboot\n")
        vm.expect(r"reached shutdown target: reboot", 60)
        vm.boot()
        u = up(vm)
        check(ranges(vm, u) == bases, "after a reboot every container has the same range")
        _, out = in_ctr(vm, "a", "stat -c %u:%g /owned/f")
        check(out.strip() == "100:42", "a's files keep their owners across the reboot: %r" % out)


if __name__ == "__main__":
    sys.exit(run_test("userns", main))
