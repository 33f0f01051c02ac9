"""A container's bandwidth (issue 13 point 7), one TCG boot.

A busybox image baked into STATE; declared on the bridge: lim with
`resources: {net_egress: 8mbit}` and free without, each serving 5 MiB
over HTTP (a shell loop feeding busybox nc), and cli, the client. Checks:
lim has an ifb device on the guest's side and free none; cli fetches the
5 MiB from lim with busybox wget at 0.8 to 1.05 times the limit (6.4 to
8.4 Mbit/s: the limit, on what lim sends), and from free clearly faster
(1.5 times the limit at least), both timed inside the guest from
/proc/uptime and with every byte counted. The limit sits well under what
TCG itself moves between two containers (48-52 Mbit/s on a quiet machine,
26.5 seen on a loaded one: a 20mbit limit made free's margin depend on
the host's load, and CI failed on it); once
lim is stopped, the next attach (cli's restart) takes its ifb away. A
missing limit fails the first check by time, a wrong one (on what lim
receives, a rate off by a unit) either of the first two. It runs alone
(run.py's ALONE): a guest beside it would take the CPU its timing needs.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from wispvm import (  # noqa: E402
    DIAGNOSE, VM, build_test_image, busybox_applets_tar, check, run_test, wait_sh, wait_units)

B = os.environ.get("B", "build")
OUT = os.path.join(B, "tests", "bandwidth")
SIZE = 5 * 1024 * 1024
LIMIT = 8e6  # bit/s

# One client at a time; nc shuts its side when dd's 5 MiB have gone, and
# the loop listens again.
SERVE = ("while true; do { printf \"HTTP/1.0 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n\"; "
         "dd if=/dev/zero bs=65536 count=%d 2>/dev/null; } | nc -l -p 80 >/dev/null; done"
         % (SIZE, SIZE // 65536))

SERVICES = """\
  - name: lim
    kind: container
    image: "bb:1"
    network: bridge
    resources: {net_egress: 8mbit}
    command: [sh, -c, '%s']
  - name: free
    kind: container
    image: "bb:1"
    network: bridge
    command: [sh, -c, '%s']
  - name: cli
    kind: container
    image: "bb:1"
    network: bridge
    command: [sleep, '100000']
""" % (SERVE, SERVE)


def in_ctr(vm, n, cmd, timeout=30):
    return vm.sh("containerd-lite --root /run/wisp/containers exec %s sh -c '%s'" % (n, cmd),
                 timeout=timeout)


def fetch(vm, server):
    """cli fetches / from SERVER: (seconds, bytes), timed inside the guest."""
    rc, out = in_ctr(vm, "cli", "read a x </proc/uptime; n=$(wget -q -O - http://%s/ | wc -c); "
                     "read b x </proc/uptime; echo took $a $b $n" % server, timeout=180)
    m = re.search(r"took ([0-9.]+) ([0-9.]+) (\d+)", out)
    check(rc == 0 and m, "cli fetched from %s: %r" % (server, out[-300:]))
    return float(m.group(2)) - float(m.group(1)), int(m.group(3))


def ifbs(vm):
    _, out = vm.sh("ls /sys/class/net")
    return re.findall(r"\bwi[0-9a-f]{8}\b", out)


def make_image():
    return busybox_applets_tar(OUT, ("sh", "sleep", "cat", "nc", "dd", "printf", "wget", "wc",
                                     "grep"))


def main():
    os.makedirs(OUT, exist_ok=True)
    tar = make_image()
    image = build_test_image("bandwidth", services_yaml=SERVICES,
                             spec_extra="images:\n  - {archive: %s, name: 'bb:1'}\n"
                             "bridge: {subnet: 10.77.0.0/24}\n" % tar)
    with VM(image, name="bandwidth", mem=256, diagnose=DIAGNOSE) as vm:
        vm.boot()
        wait_units(vm, "lim, free, cli running",
                   lambda u: all(u.get(n, {}).get("state") == "running" for n in ("lim", "free", "cli")),
                   180)
        check(len(ifbs(vm)) == 1, "one ifb device, lim's: %r" % ifbs(vm))
        # the image spec's bridge.subnet (/etc/wisp/bridge) is the bridge's
        _, br = vm.sh("ip -o -4 addr show wisp0")
        _, ls = vm.sh("containerd-lite network ls")
        addrs = [ln.split()[0] for ln in ls.splitlines() if ln.strip()]
        check("inet 10.77.0.1/24" in br and len(addrs) == 3 and
              all(a.startswith("10.77.0.") for a in addrs),
              "the spec's bridge.subnet 10.77.0.0/24: the bridge and every lease in it: %r %r" % (br, ls))
        for n in ("lim", "free"):  # busybox nc listens on IPv6's any address
            wait_sh(vm, "containerd-lite --root /run/wisp/containers exec %s cat /proc/net/tcp6" % n,
                    lambda rc, o: re.search(r"(?m)^ *\d+: 0+:0050 0+:0000 0A ", o),
                    "%s listens on port 80" % n, 60)
        took, got = fetch(vm, "lim")
        rate = got * 8 / took if took > 0 else 0
        print("  lim (net_egress: 8mbit): %d bytes in %.2f s, %.1f Mbit/s" % (got, took, rate / 1e6),
              flush=True)
        check(got == SIZE and 0.8 * LIMIT <= rate <= 1.05 * LIMIT,
              "5 MiB from lim at 0.8-1.05 times 8 Mbit/s (%.2f s at the limit): %.2f s, %.1f Mbit/s, %d bytes"
              % (SIZE * 8 / LIMIT, took, rate / 1e6, got))
        took_free, got = fetch(vm, "free")
        rate_free = got * 8 / took_free if took_free > 0 else 0
        print("  free (no limit): %d bytes in %.2f s, %.1f Mbit/s" % (got, took_free, rate_free / 1e6),
              flush=True)
        check(got == SIZE and rate_free >= 1.5 * LIMIT,
              "5 MiB from free at 1.5 times the limit at least: %.2f s, %.1f Mbit/s, %d bytes"
              % (took_free, rate_free / 1e6, got))
        # PID 1 deletes a stopped container (its detach hook) only at its next
        # start: lim's ifb goes at the next attach or detach, here cli's restart
        vm.sh("wispctl stop lim")
        wait_sh(vm, "ls /sys/class/net/wisp0/brif | wc -l", lambda rc, o: o.strip() == "2",
                "stopping lim takes its veth pair away", 60)
        vm.sh("wispctl stop cli")
        vm.sh("wispctl start cli")
        wait_units(vm, "cli running again", lambda u: u.get("cli", {}).get("state") == "running", 120)
        wait_sh(vm, "ls /sys/class/net", lambda rc, o: "wisp0" in o and not re.search(r"\bwi[0-9a-f]{8}\b", o),
                "cli's attach sweeps lim's ifb device away", 60)


if __name__ == "__main__":
    sys.exit(run_test("bandwidth", main))
