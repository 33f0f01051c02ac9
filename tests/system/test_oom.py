"""A container that fills memory the OOM killer cannot see costs itself,
not the host's services (docs/security.md, docs/declarations.md "The
containers' pool", docs/containerd-lite.md "Memory and the OOM killer"),
in one TCG boot of a 384 MiB guest booted with wisp.host_reserve=96M.

Declared in /etc/wisp/image.yaml:
  hog     a host service holding ~40 MiB in its shell's heap: the host
          process with the largest RSS, as sshd is on a real host;
  filler  a read-only container (its image Volumes are tmpfs mounts) that
          writes into its eight volumes (64 MiB each, 512 MiB in all) once
          hog is up.

A tmpfs's pages are in no process's RSS. Containers share one cgroup,
/containers, whose memory.max is the machine's memory less the host's part
(here 96 MiB, from the command line): filler's pages are charged to it, so
the OOM it meets is that cgroup's own (the kernel's constraint=CONSTRAINT_MEMCG,
oom_memcg=/containers), whose killer chooses only among containers' processes;
the machine never runs out, each volume stops at 64 MiB with ENOSPC, and hog
runs on, healthy, with the pid it started with. Before the pool: a global OOM
(constraint=CONSTRAINT_NONE), the host short of memory until the kernel killed
filler (the scores, -999 for init's children and 500 for a container's, chose
it); before the scores, hog was killed.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from wispvm import (  # noqa: E402
    DIAGNOSE, OciImage, build_test_image, check, direct_vm, run_test, units, wait_units)

B = os.environ.get("B", "build")
OUT = os.path.join(B, "tests", "oom")
VOLUMES = ["/v%d" % i for i in range(1, 9)]

# hog: 40 MiB in a shell variable, kept; /run/hog-up once it is held
SERVICES = """\
  - name: hog
    command: [sh, -c, 'x=$(head -c 41943040 /dev/zero | tr "\\\\0" a); touch /run/hog-up;
              echo "hog: holding ${#x} bytes"; while :; do sleep 3600; done']
    healthcheck: {command: [test, -f, /run/hog-up], interval: 1s, retries: 1}
  - name: filler
    kind: container
    image: "fill:1"
    read_only: true
    network: private
    depends_on:
      hog: {condition: healthy}
    command: [sh, -c, 'for v in %(volumes)s; do dd if=/dev/zero of=$v/f bs=1M 2>&1;
              echo "filler: $v done"; done; echo filler: all written; exec sleep 100000']
""" % {"volumes": " ".join(VOLUMES)}


def make_image():
    """busybox with eight Volumes: a read-only container gets a tmpfs for each."""
    img = OciImage(os.path.join(OUT, "oci"), "fill", dirs=[v[1:] for v in VOLUMES],
                   applets=("sh", "dd", "echo", "sleep", "cat"))
    args = ["--config.cmd", "sh"]
    for v in VOLUMES:
        args += ["--config.volume", v]
    img.config(*args)
    return img.tar(os.path.join(OUT, "fill.tar"))


def scores(vm, hog):
    """Who the OOM killer spares, read as filler starts (checked last, after
    what the OOM did): init's children -999, a container's process 500."""
    u = wait_units(vm, "filler running", lambda u: u.get("filler", {}).get("pid"))
    _, out = vm.sh("cat /proc/%d/oom_score_adj /proc/%d/oom_score_adj /proc/self/oom_score_adj"
                   % (hog, u["filler"]["pid"]))
    return out.split()


def filled(vm):
    """filler wrote all it could, or ended: the kernel acted either way."""
    def done(u):
        f = u.get("filler", {})
        return f.get("state") in ("failed", "done", "stopped", "backoff") or \
            "filler: all written" in vm.sh("cat /var/log/wisp/filler.log")[1]
    return wait_units(vm, "filler written or ended", done, 600)


RESERVE = 96 << 20  # wisp.host_reserve=96M


def pool(vm):
    """/containers' memory.max: MemTotal less the reserve (whole pages), as documented."""
    _, out = vm.sh("cat /sys/fs/cgroup/containers/memory.max; grep MemTotal /proc/meminfo")
    m = re.search(r"^(\d+|max)\s+MemTotal:\s+(\d+) kB", out.strip(), re.M)
    check(m and m.group(1) != "max" and int(m.group(1)) == int(m.group(2)) * 1024 - RESERVE,
          "the containers' pool: memory.max is MemTotal less wisp.host_reserve=96M: %r" % out)


def main():
    os.makedirs(OUT, exist_ok=True)
    tar = make_image()
    image = build_test_image("oom", services_yaml=SERVICES,
                             spec_extra="images:\n  - {archive: %s, name: 'fill:1'}\n" % tar)
    with direct_vm(image, " wisp.host_reserve=96M", name="oom", mem=384,
                   diagnose=DIAGNOSE) as vm:
        vm.boot()
        pool(vm)
        u = wait_units(vm, "hog healthy", lambda u: u.get("hog", {}).get("state") == "healthy",
                       300)
        hog = u["hog"]["pid"]
        adj = scores(vm, hog)
        filled(vm)
        u = units(vm)
        check(u["hog"]["pid"] == hog and u["hog"].get("restarts", 0) == 0,
              "hog, the host's largest process, runs on with its pid %d: %s" % (hog, u["hog"]))
        # a health check that ran while the guest was out of memory may have
        # failed (its fork or exec); the next one, a second later, passes
        u = wait_units(vm, "hog healthy again",
                       lambda u: u["hog"]["state"] == "healthy", 60)
        check(u["hog"]["pid"] == hog and u["hog"].get("restarts", 0) == 0,
              "hog healthy after the OOM, the same pid %d, no restart: %s" % (hog, u["hog"]))
        kills = [l[l.index("oom-kill:"):] for l in vm.dmesg("oom-kill:")]
        check(kills and all("constraint=CONSTRAINT_MEMCG," in k and ",oom_memcg=/containers," in k
                            for k in kills),
              "every OOM was the containers' pool's own, never the machine's: %s" % kills)
        # the unit's cgroup, /containers/filler: its ctr child has no memory controller
        memcgs = [re.search(r"task_memcg=([^,]*)", k).group(1) for k in kills]
        check(all(m == "/containers/filler" or m.startswith("/containers/filler/")
                  for m in memcgs),
              "every OOM kill took one of filler's processes: %s" % memcgs)
        log = vm.sh("cat /var/log/wisp/filler.log")[1]
        check("No space left on device" in log,
              "filler's volumes stopped it at their size (ENOSPC)")
        _, out = vm.sh("wispctl status hog; echo rc=$?")
        check("rc=0" in out, "wispctl answers after the OOM")
        check(adj == ["-999", "500", "-999"],
              "oom_score_adj: hog -999, filler's process 500, the console's -999 (%s)"
              % " ".join(adj))


if __name__ == "__main__":
    sys.exit(run_test("oom", main))
