"""Containers on the bridge (issue 13 point 1), one TCG boot.

A busybox image baked into STATE; declared: n1 with `network: bridge`, n2
with no `network:` (a container's default is the bridge), each in a user
namespace of its own, as by default; h with `network: host`. Checks: both bridge containers run with eth0 holding a lease of
10.88.0.0/16 (`containerd-lite network ls`), a default route via the
bridge 10.88.0.1, and the uplink's MTU; n1 sending as n2 (its address added
in n1's namespace) reaches nothing, as itself it does; n1 reaches n2 and the host's end
of the bridge and n2 by its name (the network's hosts file), the host
reaches n1, n1 reaches QEMU's user-network gateway
(NAT); each has its own network namespace,
and h still the host's; a stop takes n2's veth pair away and a start
brings it back, attached again.
Published ports (point 3): n1 publishes 8080:80 (a shell loop serving HTTP
with busybox nc); the machine running this test reaches it through QEMU's
hostfwd into the guest and n1 sees the connection come from QEMU's own
address (10.0.2.2: DNAT, no proxy); the guest reaches it on 127.0.0.1 and
n2 through the guest's address (hairpin); a port forwarded to the guest
to a service of the host's network that the firewall does not open
answers nothing, one the image spec's firewall.allow opens does (issue 13
point 5).
A pod (point 8): `pod` declares `network: n1`: it runs in n1's network
namespace (its address, its loopback) and user namespace, so its root may
bind port 81, which n1 publishes as 8083; when n1 restarts, pod stops and
starts again in n1's new namespace.
"""

import os
import re
import socket
import sys

sys.path.insert(0, os.path.dirname(__file__))
from wispvm import (  # noqa: E402
    DIAGNOSE, VM, build_test_image, busybox_applets_tar, check, free_port, host_port_text, poll,
    run_test, units, wait_sh, wait_units)

B = os.environ.get("B", "build")
OUT = os.path.join(B, "tests", "bridge")

SERVICES = """\
  - name: n1
    kind: container
    image: "bb:1"
    network: bridge
    ports: ["8080:80", "8083:81"]
    command: [sh, -c, 'while true; do { printf "HTTP/1.0 200 OK\\r\\nContent-Length: 14\\r\\n\\r\\nhello from n1\\n"; sleep 5; } | nc -l -p 80; done']
  - name: n2
    kind: container
    image: "bb:1"
    command: [sleep, '100000']
  - name: pod
    kind: container
    image: "bb:1"
    network: n1
    command: [sh, -c, 'while true; do echo hello from pod | nc -l -p 81; done']
  - name: h
    kind: container
    image: "bb:1"
    network: host
    command: [sh, -c, '(while true; do echo opened by the spec | nc -l -p 8082; done) &
              while true; do echo hello from h | nc -l -p 8081; done']
"""


def in_ctr(vm, n, cmd):
    return vm.sh("containerd-lite --root /run/wisp/containers exec %s sh -c '%s'" % (n, cmd))


def leases(vm):
    _, out = vm.sh("containerd-lite network ls")
    return {m[1]: m[0] for m in re.findall(r"(?m)^(10\.88\.\d+\.\d+) (\S+)( .*)?$", out)}


def ports(vm):
    _, out = vm.sh("ls /sys/class/net/wisp0/brif | wc -l")
    return int(out.strip() or 0)


def http_get(port):
    """GET / through QEMU's hostfwd; the answer, or what went wrong."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as c:
            c.sendall(b"GET / HTTP/1.0\r\n\r\n")
            c.settimeout(30)
            data = b""
            while b"hello from n1" not in data:
                more = c.recv(4096)
                if not more:
                    break
                data += more
            return data.decode(errors="replace")
    except OSError as e:
        return "error: %s" % e


def held(vm, fwd):
    """n1's TCP sockets while a connection from outside is open; None if it got no answer."""
    try:
        with socket.create_connection(("127.0.0.1", fwd), timeout=30) as c:
            c.settimeout(30)
            if b"hello" not in c.recv(100):
                return None
            return in_ctr(vm, "n1", "cat /proc/net/tcp /proc/net/tcp6")[1]
    except OSError:
        return None


def check_ports(vm, fwd, unpublished, opened):
    """n1 serves one client at a time and keeps each connection 5 s after
    its answer (so that it can be seen from inside): each client waits."""
    ctr = "containerd-lite --root /run/wisp/containers exec %s sh -c '%s'"
    wait_sh(vm, "wget -q -O - http://127.0.0.1:8080/", lambda rc, o: "hello from n1" in o,
            "the guest reaches n1's published port on 127.0.0.1:8080", 60)
    wait_sh(vm, ctr % ("n2", "wget -q -O - http://10.0.2.15:8080/"),
            lambda rc, o: "hello from n1" in o,
            "n2 reaches it through the guest's address (hairpin)", 60)
    poll(lambda: http_get(fwd), lambda got: "hello from n1" in got,
         "8080:80 answering from outside the guest (hostfwd)", 60)
    print("  ok: 8080:80 answers from outside the guest (hostfwd)", flush=True)
    # Look at a connection from n1 while it is open: its far end is QEMU's
    # 10.0.2.2 (the client as the guest sees it), not the bridge's address.
    # (busybox nc listens on IPv6's any address: v4 clients are ::ffff:A.B.C.D)
    out = poll(lambda: held(vm, fwd), lambda o: o is not None,
               "a connection to 8080 held open", 60)
    check(re.search(r"(?im)^ *\d+: [0-9A-F]+:0050 (0000000000000000FFFF0000)?0202000A:[0-9A-F]+ 01",
                    out), "n1 sees the outside client's own address 10.0.2.2 (DNAT keeps it): %r" % out)
    # h (the host's network) listens on 8081: the guest reaches it, the
    # outside does not (the host firewall, docs/network.md "Host firewall").
    wait_sh(vm, "echo | nc 127.0.0.1 8081", lambda rc, o: "hello from h" in o,
            "a service of the host's network on 8081 answers inside the guest", 60)
    got = http_get(unpublished)
    check("hello" not in got, "but not from outside: the host firewall drops it: %r" % got[-200:])
    # 8082 is opened by the image spec's firewall.allow: it answers from outside
    poll(lambda: host_port_text(opened), lambda got: "opened by the spec" in got,
         "8082 (the spec's firewall.allow) answering from outside", 60)
    print("  ok: 8082, opened by the image spec's firewall.allow, answers from outside", flush=True)
    rc, out = vm.sh("wispctl config | grep firewall")
    check("firewall: closed but for 8082/tcp" in out,
          "wispctl config says the firewall is on, 8082 open: %r" % out.strip())


def make_image():
    """busybox with the applets the checks run inside (build's demo image recipe)."""
    return busybox_applets_tar(OUT, ("sh", "sleep", "ip", "ping", "cat", "readlink", "nc",
                                     "printf", "wget", "grep"))


def main():
    os.makedirs(OUT, exist_ok=True)
    tar = make_image()
    image = build_test_image("bridge", services_yaml=SERVICES,
                             spec_extra="images:\n  - {archive: %s, name: 'bb:1'}\n"
                             "firewall:\n  allow: [8082/tcp]\n" % tar)
    fwd, unpublished, opened = free_port(), free_port(), free_port()
    nic = ("user,hostfwd=tcp:127.0.0.1:%d-:8080,hostfwd=tcp:127.0.0.1:%d-:8081,"
           "hostfwd=tcp:127.0.0.1:%d-:8082" % (fwd, unpublished, opened))
    with VM(image, name="bridge", mem=256, nic=nic, diagnose=DIAGNOSE) as vm:
        vm.boot()
        wait_units(vm, "n1, n2, h running",
                   lambda u: all(u.get(n, {}).get("state") == "running" for n in ("n1", "n2", "h")),
                   180)
        got = leases(vm)
        check(set(got) == {"n1", "n2"} and len(set(got.values())) == 2,
              "n1 and n2 hold leases of 10.88.0.0/16, distinct: %r" % got)
        # The uplink: the interface of the default route (1500 without one).
        _, mtu = vm.sh("d=$(ip route show default | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p' | head -n 1);"
                       " cat /sys/class/net/${d:-none}/mtu 2>/dev/null || echo 1500")
        for n in ("n1", "n2"):
            _, out = in_ctr(vm, n, "ip -o -4 addr show eth0; ip route; cat /sys/class/net/eth0/mtu")
            check("inet %s/16" % got.get(n) in out, "%s: eth0 has its lease: %r" % (n, out))
            check("default via 10.88.0.1 dev eth0" in out, "%s: default route via the bridge" % n)
            check(out.strip().endswith(mtu.strip()), "%s: the uplink's MTU (%s)" % (n, mtu.strip()))
        rc, out = in_ctr(vm, "n1", "ping -c 1 -W 5 %s" % got.get("n2"))
        check(rc == 0, "n1 reaches n2 through the bridge: %r" % out[-200:])
        rc, out = in_ctr(vm, "n1", "ping -c 1 -W 5 n2")
        check(rc == 0 and "(%s)" % got.get("n2") in out, "n1 reaches n2 by its name: %r" % out[-200:])
        rc, out = in_ctr(vm, "n2", "ping -c 1 -W 5 10.88.0.1")
        check(rc == 0, "n2 reaches the host's end of the bridge: %r" % out[-200:])
        rc, out = vm.sh("ping -c 1 -W 5 %s" % got.get("n1"))
        check(rc == 0, "the host reaches n1: %r" % out[-200:])
        check_l2(vm, got)
        # Out through the uplink (QEMU's user network, DHCP): forwarding and the
        # masquerade rule (net.py proves the masquerade itself: there, the far
        # side has no route back to 10.88.0.0/16).
        wait_sh(vm, "ip route show default", lambda rc, o: "default via 10.0.2.2" in o,
                "the host's default route via the uplink (DHCP)", 60)
        rc, out = in_ctr(vm, "n1", "ping -c 1 -W 5 10.0.2.2")
        check(rc == 0, "n1 reaches the uplink's gateway 10.0.2.2: %r" % out[-200:])
        _, host_ns = vm.sh("readlink /proc/1/ns/net")
        _, h_ns = in_ctr(vm, "h", "readlink /proc/self/ns/net")
        _, n1_ns = in_ctr(vm, "n1", "readlink /proc/self/ns/net")
        check(h_ns.strip() == host_ns.strip() and n1_ns.strip() != host_ns.strip(),
              "h has the host's network namespace, n1 its own: %r %r %r" % (host_ns, h_ns, n1_ns))
        check(ports(vm) == 2, "two ports on wisp0")
        _, out = vm.sh("wispctl logs -n 100 n1")
        check("10.88." not in out, "the attach hook wrote nothing into n1's log: %r" % out)
        _, out = vm.sh("wispctl status n1")
        check(re.search(r"(?m)^address: +%s$" % re.escape(got.get("n1", "?")), out) and
              re.search(r"(?m)^ports: +0\.0\.0\.0:8080:80/tcp 0\.0\.0\.0:8083:81/tcp$", out),
              "wispctl status n1: its address and published port: %r" % out)
        u = units(vm)
        check(u["n1"].get("address") == got.get("n1") and u["n1"].get("ports") == ["0.0.0.0:8080:80/tcp", "0.0.0.0:8083:81/tcp"]
              and u["h"].get("address") is None and u["h"].get("ports") == [],
              "wispctl --json ps: n1's address and ports, none for h: %r" % ({k: (v.get("address"), v.get("ports"))
                                                                              for k, v in u.items()}))
        check_ports(vm, fwd, unpublished, opened)
        vm.sh("wispctl stop n2")
        wait_sh(vm, "ls /sys/class/net/wisp0/brif | wc -l", lambda rc, o: o.strip() == "1",
                "a stop takes n2's veth pair away", 60)
        vm.sh("wispctl start n2")
        wait_units(vm, "n2 running again", lambda u: u.get("n2", {}).get("state") == "running", 120)
        wait_sh(vm, "ls /sys/class/net/wisp0/brif | wc -l", lambda rc, o: o.strip() == "2",
                "a start attaches it again", 60)
        got2 = leases(vm)
        _, out = in_ctr(vm, "n2", "ip -o -4 addr show eth0")
        check(got2.get("n2") and "inet %s/16" % got2.get("n2") in out and got2.get("n1") == got.get("n1"),
              "n2 has a lease and its address again, n1 kept its own: %r %r" % (got2, out))
        rc, out = in_ctr(vm, "n1", "ping -c 1 -W 5 n2")
        check(rc == 0, "n1 finds n2 by its name again: %r" % out[-200:])
        check_pod(vm, got2)


def echoes(vm):
    """The guest's count of ICMP echo requests received (/proc/net/snmp)."""
    _, out = vm.sh("grep ^Icmp: /proc/net/snmp")
    head, values = [l.split() for l in out.splitlines() if l.startswith("Icmp:")][:2]
    return int(values[head.index("InEchos")])


def check_l2(vm, got):
    """n1's port of the bridge is pinned to its lease (docs/network.md, "Layer 2"):
    as the guest's root in n1's network namespace, n2's address added to eth0,
    echo requests from it never reach the host; from n1's own address they do
    (the host's count of echo requests received tells, no other ping runs)."""
    _, out = vm.sh("containerd-lite --root /run/wisp/containers state n1")
    pid = re.search(r'"pid": *(\d+)', out)
    n2 = got.get("n2")
    check(pid and n2, "n1's process and n2's address: %r %r" % (out[-200:], got))
    net = "nsenter -t %s -n sh -c " % pid.group(1)
    before = echoes(vm)
    vm.sh(net + "'ip addr add %s/32 dev eth0 && ping -c 2 -W 2 -I %s 10.88.0.1;"
          " ip addr del %s/32 dev eth0'" % (n2, n2, n2))
    spoofed, before = echoes(vm) - before, echoes(vm)
    # the count is the check (a reply's time under a loaded TCG is not)
    _, out = vm.sh(net + "'ping -c 2 -W 5 10.88.0.1'")
    own = echoes(vm) - before
    check(spoofed == 0 and own >= 1,
          "n1 sending as n2 reaches nothing (echo requests received: %d), as itself it does"
          " (%d): %r" % (spoofed, own, out[-200:]))


def netns(vm, n):
    return in_ctr(vm, n, "readlink /proc/self/ns/net; readlink /proc/self/ns/user")[1].split()


def check_pod(vm, got):
    """pod shares n1's network and user namespaces, and follows n1's restart."""
    check(netns(vm, "pod") == netns(vm, "n1") and len(netns(vm, "n1")) == 2,
          "pod has n1's network and user namespaces: %r %r" % (netns(vm, "pod"), netns(vm, "n1")))
    _, out = in_ctr(vm, "pod", "ip -o -4 addr show eth0")
    check("inet %s/16" % got.get("n1") in out, "pod has n1's address: %r" % out)
    check("pod" not in got, "pod holds no lease of its own: %r" % got)
    wait_sh(vm, "echo | nc 127.0.0.1 8083", lambda rc, o: "hello from pod" in o,
            "pod's server on port 81 (bound by its root) answers on n1's published 8083", 60)
    pid = units(vm)["pod"].get("pid")
    vm.sh("wispctl restart n1")
    wait_units(vm, "n1 restarted, pod started again after it",
               lambda u: u.get("n1", {}).get("state") == "running" and
               u.get("pod", {}).get("state") == "running" and u["pod"].get("pid") != pid, 120)
    check(netns(vm, "pod") == netns(vm, "n1"),
          "after n1's restart pod is in n1's new namespaces: %r %r" % (netns(vm, "pod"), netns(vm, "n1")))
    wait_sh(vm, "echo | nc 127.0.0.1 8083", lambda rc, o: "hello from pod" in o,
            "and answers on 8083 again", 60)


if __name__ == "__main__":
    sys.exit(run_test("bridge", main))
