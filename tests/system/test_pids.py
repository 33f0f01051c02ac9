"""Containers that fork until the kernel refuses cost themselves, not the
host's ability to start a process (docs/declarations.md "The containers'
pool", docs/security.md), in one TCG boot of a 384 MiB guest booted with
sysctl.kernel.pid_max=1024 (the kernel applies it before init).

Declared in /etc/wisp/image.yaml:
  watch   a host service with a health check every second;
  bomb    a container (busybox) that, once watch is healthy, forks `sleep`
          until a fork fails, then keeps what it has (its sh execs sleep).

Containers share one cgroup, /containers, whose pids.max is the kernel's
limit on tasks (the lower of pid_max less the 300 pids the kernel never
gives again, and threads-max) less the host's part (a sixteenth, at least
256): here 1024 - 300 - 256 = 468. bomb's own limit (a
container's default pids_max, 4096) is above the kernel's, so before the
pool's limit the bomb took every pid there was and the host could not fork:
the console's commands failed ("can't fork"), a health check or a restart
could not start. Now the pool refuses bomb's forks at 468 tasks and the
host forks, restarts a service, and its health checks pass.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from wispvm import (  # noqa: E402
    DIAGNOSE, OciImage, build_test_image, check, direct_vm, run_test, units, wait_sh,
    wait_units)

B = os.environ.get("B", "build")
OUT = os.path.join(B, "tests", "pids")
# kernel.pid_max 1024 less the 300 pids the kernel never gives again (below threads-max in
# 384 MiB), less the least reserve
POOL = 1024 - 300 - 256

SERVICES = """\
  - name: watch
    command: [sleep, "100000"]
    healthcheck: {command: ["true"], interval: 1s, retries: 1}
  - name: bomb
    kind: container
    image: "bomb:1"
    network: private
    depends_on:
      watch: {condition: healthy}
    command: [sh, -c, 'sh -c "while :; do sleep 1000 & done"; echo bomb: forked; exec sleep 100000']
"""


def make_image():
    img = OciImage(os.path.join(OUT, "oci"), "bomb", applets=("sh", "sleep", "echo"))
    img.config("--config.cmd", "sh")
    return img.tar(os.path.join(OUT, "bomb.tar"))


def pool(vm):
    """The pool's pids.max: the kernel's tasks less the host's part, as documented."""
    _, out = vm.sh("cat /proc/sys/kernel/pid_max /proc/sys/kernel/threads-max "
                   "/sys/fs/cgroup/containers/pids.max")
    v = out.split()
    check(len(v) == 3 and v[0] == "1024" and int(v[1]) > 1024 and v[2] == str(POOL),
          "the containers' pool: pids.max %d of pid_max 1024 (threads-max above it): %r"
          % (POOL, out.strip()))


def forked(vm):
    """bomb forked until a fork failed, at the pool's limit: its own (4096) and the
    kernel's (1024 in all) are above what it holds. (Kernel 6.1 counts a refused fork
    in the forking task's pids.events, not in the cgroup whose limit refused it.)"""
    wait_sh(vm, "cat /var/log/wisp/bomb.log", lambda rc, o: "bomb: forked" in o,
            "bomb forked until a fork failed", 300)
    _, out = vm.sh("cd /sys/fs/cgroup/containers; cat pids.current bomb/pids.current "
                   "bomb/pids.max bomb/pids.events")
    m = re.match(r"\s*(\d+)\s+(\d+)\s+(\d+)\s+max (\d+)", out)
    check(m and POOL - 2 <= int(m.group(1)) <= POOL and int(m.group(2)) <= POOL
          and m.group(3) == "4096" and int(m.group(4)) > 0,
          "the pool refused bomb's forks at %d (the pool's pids.current, bomb's, bomb's own "
          "limit, its refused forks): %r" % (POOL, out.strip()))


def host_forks(vm):
    """The host starts processes while bomb holds its pids."""
    _, out = vm.sh("n=0; for i in 1 2 3 4 5 6 7 8 9 10; do /bin/true && n=$((n+1)); done; "
                   "echo forked=$n")
    check("forked=10" in out, "the console's commands fork, 10 of 10: %r" % out.strip())
    before = units(vm)["watch"]["pid"]
    rc, out = vm.sh("wispctl restart watch; echo rc=$?")
    check("rc=0" in out, "wispctl restart watch: %r" % out.strip())
    u = wait_units(vm, "watch restarted and healthy",
                   lambda u: u["watch"]["state"] == "healthy" and u["watch"]["pid"] != before, 60)
    check(u["bomb"]["state"] == "running",
          "watch restarted (pid %d -> %d) and healthy while bomb runs on: %s"
          % (before, u["watch"]["pid"], u["bomb"]))


def main():
    os.makedirs(OUT, exist_ok=True)
    tar = make_image()
    image = build_test_image("pids", services_yaml=SERVICES,
                             spec_extra="images:\n  - {archive: %s, name: 'bomb:1'}\n" % tar)
    with direct_vm(image, " sysctl.kernel.pid_max=1024", name="pids", mem=384,
                   diagnose=DIAGNOSE) as vm:
        vm.boot()
        pool(vm)
        forked(vm)
        host_forks(vm)


if __name__ == "__main__":
    sys.exit(run_test("pids", main))
