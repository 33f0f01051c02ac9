"""A container that fills STATE leaves the host its part of the disk: the
ext4 blocks reserved for root (mke2fs's 5 %), which PID 1 goes on writing
the units' logs into (docs/security.md). A container's writes into its root
reach ext4 with the overlay mounter's credentials, uid 0 less
CAP_SYS_RESOURCE (the kernel drops it there): PID 1 mounts STATE with a
resuid= no process has, so that uid 0 alone does not take the reserve. One
TCG boot of the image's own 64 MiB STATE (the disk is not grown).

Declared in /etc/wisp/image.yaml:
  ticker    a host service printing a line every 0.2 s (PID 1 writes them to
            /var/log/wisp/ticker.log, as root);
  filler    a container (its own user namespace) writing zeros into its
            root on STATE until ENOSPC;
  rootfill  the same as host root (`userns: host`), once /run/go/now exists
            (a bind).

Checks: each filler stops at ENOSPC with 2 MiB or more left that only root
may take; ticker's log grows after that and init never says it could not
write it; then the probe: the console's root (CAP_SYS_RESOURCE) takes the
reserve and init says it drops ticker's output. Before (STATE mounted with
the default resuid, 0): filler alone took the reserve (free 327 blocks, ext4's
own) and init dropped every log line from then on.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from wispvm import (  # noqa: E402
    DIAGNOSE, VM, build_test_image, busybox_applets_tar, check, run_test, wait_sh,
    wait_units)

B = os.environ.get("B", "build")
OUT = os.path.join(B, "tests", "disk")
FILL = "dd if=/dev/zero of=/fill bs=1M; echo {0}: full; exec sleep 100000"

SERVICES = """\
  - name: ticker
    command: [sh, -c, 'i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.2; done']
  - name: filler
    kind: container
    image: "bb:1"
    network: private
    command: [sh, -c, '%s']
  - name: rootfill
    kind: container
    image: "bb:1"
    network: private
    userns: host
    volumes: ["/run/go:/go"]
    command: [sh, -c, 'while [ ! -e /go/now ]; do sleep 0.2; done; %s']
""" % (FILL.format("filler"), FILL.format("rootfill"))


def reserve_left(vm, who):
    """STATE after WHO stopped: little left to users, root's reserve all there."""
    _, out = vm.sh("stat -f -c '%f %a %S' /var")
    free, avail, bsize = (int(v) for v in out.split())
    check(avail * bsize < (1 << 20) and (free - avail) * bsize >= 2 << 20,
          "after %s: under 1 MiB left to users, 2 MiB or more that only root may take "
          "(free %d, available %d blocks of %d)" % (who, free, avail, bsize))


def full(vm, name):
    """NAME's dd ended (its sh exec'd sleep) with ENOSPC."""
    pid = wait_units(vm, name + " running", lambda u: u[name]["state"] == "running")[name]["pid"]
    wait_sh(vm, "cat /proc/%d/comm" % pid, lambda rc, o: o.strip() == "sleep",
            "%s wrote until it stopped" % name, 300)
    reserve_left(vm, name)
    _, log = vm.sh("cat /var/log/wisp/%s.log" % name)
    check("No space left on device" in log, "%s's write ended with ENOSPC: %r" % (name, log[-300:]))


def logs_go_on(vm):
    """PID 1 writes ticker's lines after the fill, as root, into the reserve."""
    _, out = vm.sh("wc -l </var/log/wisp/ticker.log")
    n = int(out.strip())
    wait_sh(vm, "wc -l </var/log/wisp/ticker.log", lambda rc, o: o.strip().isdigit()
            and int(o) >= n + 10, "ticker's log grows after the fill (PID 1 writes it as root)")
    check(not vm.dmesg("init: ticker: cannot write"), "init never failed to write ticker's log")


def root_takes_it(vm):
    """The probe: a writer with CAP_SYS_RESOURCE (the console's root) takes the reserve,
    and PID 1's writes of ticker's log fail: what the reserve kept."""
    vm.sh("dd if=/dev/zero of=/var/rootfill bs=1M 2>/dev/null", timeout=120)
    wait_sh(vm, "dmesg | grep -c 'init: ticker: cannot write'",
            lambda rc, o: re.match(r"\s*[1-9]", o),
            "the console's root took the reserve: init cannot write ticker's log")


def main():
    os.makedirs(OUT, exist_ok=True)
    tar = busybox_applets_tar(OUT, ("sh", "dd", "echo", "sleep"))
    image = build_test_image("disk", services_yaml=SERVICES,
                             spec_extra="images:\n  - {archive: %s, name: 'bb:1'}\n" % tar)
    with VM(image, name="disk", mem=384, diagnose=DIAGNOSE) as vm:
        vm.boot()
        full(vm, "filler")
        logs_go_on(vm)
        vm.sh("touch /run/go/now")
        full(vm, "rootfill")
        logs_go_on(vm)
        root_takes_it(vm)


if __name__ == "__main__":
    sys.exit(run_test("disk", main))
