"""A container that fills memory the OOM killer cannot see costs itself,
not the host's services (docs/security.md, docs/containerd-lite.md,
"Memory and the OOM killer"), in one TCG boot of a 384 MiB guest.

Declared in /etc/wisp/image.yaml:
  hog     a host service holding ~40 MiB in its shell's heap: the host
          process with the largest RSS, as sshd is on a real host;
  filler  a read-only container (its image Volumes are tmpfs mounts) that
          writes into its eight volumes until each is full, once hog is up.

A tmpfs's pages are in no process's RSS, so the kernel's OOM killer, left to
itself, takes hog (then the console shell) and the container goes on. With
init's children at oom_score_adj -999 and containers at 500, and each volume
a 64 MiB tmpfs, every OOM kill is one of filler's processes (dmesg's
task_memcg), each volume stops at 64 MiB with ENOSPC, and hog runs on with
the pid it started with. Before: hog was killed (its state failed, its pid
gone) and the volumes took the guest's memory.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from wispvm import (  # noqa: E402
    DIAGNOSE, VM, OciImage, build_test_image, check, run_test, units, wait_units)

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


def main():
    os.makedirs(OUT, exist_ok=True)
    tar = make_image()
    image = build_test_image("oom", services_yaml=SERVICES,
                             spec_extra="images:\n  - {archive: %s, name: 'fill:1'}\n" % tar)
    with VM(image, name="oom", mem=384, diagnose=DIAGNOSE) as vm:
        vm.boot()
        u = wait_units(vm, "hog healthy", lambda u: u.get("hog", {}).get("state") == "healthy",
                       300)
        hog = u["hog"]["pid"]
        adj = scores(vm, hog)
        filled(vm)
        u = units(vm)
        check(u["hog"]["state"] == "healthy" and u["hog"]["pid"] == hog
              and u["hog"].get("restarts", 0) == 0,
              "hog, the host's largest process, runs on with its pid %d: %s" % (hog, u["hog"]))
        _, out = vm.sh("dmesg | grep -o 'oom-kill:.*' | grep -o 'task_memcg=[^,]*' | sort | uniq -c")
        # the unit's cgroup, /wisp/filler: its ctr child has no memory controller of its own
        memcgs = re.findall(r"task_memcg=(\S+)", out)
        check(memcgs and all(m == "/wisp/filler" or m.startswith("/wisp/filler/")
                             for m in memcgs),
              "every OOM kill took one of filler's processes: %s" % out.strip())
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
