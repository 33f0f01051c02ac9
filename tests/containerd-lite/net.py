#!/usr/bin/env python3
"""Container networks on the build host (issue 13 point 1), as root.

`containerd-lite network attach|detach|ls` in a private network and mount
namespace of this script (a tmpfs on /run holds the leases): two
"containers" (network namespaces held by `unshare -n sleep`) attached to
the bridge get the subnet's first free addresses, eth0 with the uplink's
MTU and a default route via the bridge, reach each other and the bridge,
and reach a namespace behind the uplink that has no route back to them
(masquerade, forwarding);
a second attach keeps the address; a detach removes the veth pair and
frees the lease, which the next container gets; a container that died
without a detach gives its address back; a hook's OCI state on stdin
names the container; bad input is one line and leaves nothing behind.
The network's hosts file (point 4) names the live containers, rewritten in
place as they come and go.
Published ports (point 3): a port reaches the container from the outside
with the client's address kept, from the host (its own address and
127.0.0.1) and from containers (hairpin); one bound to 127.0.0.1 only from
the host, not by a frame to 127.0.0.1 from the uplink's segment; a host port
taken twice is refused; a container cannot reach the host's loopback
services through the bridge (route_localnet's hole), nor the cloud's
metadata service (169.254.169.254, fd00:ec2::254), which the host reaches;
one container's router advertisement changes nothing in another.
A second network's containers reach no container of the first but through
its published ports, nor does a neighbour routing the subnet through the
host without a firewall, in either family.
Each container's port of the bridge is pinned to its lease: a container's
ARP or neighbour advertisement claiming another's address, its neighbour
discovery naming another's MAC in a link-layer address option, datagrams
from another's address or MAC change nothing and arrive nowhere, and a
namespace that outlived its lease is cut off when its address goes to the
next container, and a network's first container is cut off until its
attach's batch pins its port; a container's datagrams through the host to
its subnet's free addresses make no entry of the host's neighbour table.
200 attach/detach cycles leave nothing behind (nft reads the table back),
no conntrack entry either: a UDP flow kept to a published port follows the
container to its next address.
The last detach takes the bridge and forwarding away (point 2). The host
firewall (point 5) drops what it does not allow, also the way to a
container's unpublished port through a route to the subnet.
Bandwidth (point 7): --egress/--ingress make tc's tbf, ingress qdisc,
redirect and ifb on the host's side (tc reads them back), timed transfers
run at the limits, a detach takes the ifb, a failed tc step undoes the
attach.

Prints ok/FAIL per check; exits 1 on any failure.
"""
import ctypes
import ipaddress
import json
import os
import re
import subprocess
import tempfile
import sys
import time

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "system"))
from hostroot import main_as_root  # noqa: E402

from harness import BUSYBOX, CL, Checks  # noqa: E402
CLONE_NEWNET = 0x40000000
HOSTS = "/run/wisp/hosts/wisp0"
check = Checks("net: ")


def sh(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60)


def cl(*args):
    return sh(CL, "network", *args)


def holder():
    """A process in a network namespace of its own, as a container's first process."""
    p = subprocess.Popen(["unshare", "-n", "sleep", "120"])
    me = os.readlink("/proc/self/ns/net")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if os.readlink("/proc/%d/ns/net" % p.pid) != me:
                return p
        except OSError:
            pass
        time.sleep(0.01)
    raise RuntimeError("unshare -n did not make its namespace")


def inside(p, *cmd):
    return sh("nsenter", "-t", str(p.pid), "-n", *cmd)


def links():
    return sh("ip", "-o", "link").stdout


def link_names():
    """Names and bridge ports, not states (a new link's carrier settles on its own time)."""
    return sorted(" ".join(f for f in (ln.split(":")[1].strip(), "master wisp0" if "master wisp0" in ln
                                      else "") if f) for ln in links().splitlines())


def test_attach(c1, c2, mtu):
    r = cl("attach", "--netns", "/proc/%d/ns/net" % c1.pid, "c1")
    check("attach c1: the first free address and the gateway",
          r.returncode == 0 and r.stdout == "10.88.0.2/16 10.88.0.1\n", (r.returncode, r.stdout, r.stderr))
    r = cl("attach", "c2", "--netns", "/proc/%d/ns/net" % c2.pid)  # options after the id too
    check("attach c2: the next one", r.returncode == 0 and r.stdout == "10.88.0.3/16 10.88.0.1\n",
          (r.returncode, r.stdout, r.stderr))
    r = sh("ip", "-o", "-4", "addr", "show", "wisp0")
    check("the bridge wisp0 holds the gateway address", "inet 10.88.0.1/16" in r.stdout, r.stdout)
    r = inside(c1, "ip", "-o", "-4", "addr", "show", "eth0")
    check("c1's eth0 has 10.88.0.2/16", "inet 10.88.0.2/16" in r.stdout, r.stdout + r.stderr)
    r = inside(c1, "ip", "-o", "link", "show", "eth0")
    check("c1's eth0 is up with the uplink's MTU (%d)" % mtu,
          ",UP," in r.stdout and "mtu %d " % mtu in r.stdout, r.stdout)
    check("and a MAC made of its address, as docker's (a restart keeps neighbours' ARP right)",
          "link/ether 02:42:0a:58:00:02 " in r.stdout, r.stdout)
    r = inside(c1, "ip", "route", "show", "default")
    check("c1's default route is via the bridge", r.stdout.startswith("default via 10.88.0.1 dev eth0"),
          r.stdout)
    r = inside(c1, BUSYBOX, "ping", "-c", "1", "-W", "5", "10.88.0.3")
    check("c1 reaches c2 through the bridge", r.returncode == 0, r.stdout + r.stderr)
    r = inside(c2, BUSYBOX, "ping", "-c", "1", "-W", "5", "10.88.0.1")
    check("c2 reaches the host's end of the bridge", r.returncode == 0, r.stdout + r.stderr)
    hosts = open(HOSTS).read()
    check("the network's hosts file names both (and localhost)",
          hosts.startswith("127.0.0.1\tlocalhost\n") and "10.88.0.2\tc1\n" in hosts and
          "10.88.0.3\tc2\n" in hosts, hosts)
    r = cl("ls", "--json")
    check("ls --json lists both leases", r.returncode == 0 and sorted(
        (x["address"], x["id"]) for x in json.loads(r.stdout)) ==
        [("10.88.0.2", "c1"), ("10.88.0.3", "c2")], r.stdout)


def test_ipv6(c1, c2, outside):
    """Where the host has IPv6 the network has a ULA, fd88:a58:0:10::/64 for
    10.88.0.0/16, each address's IPv4 host part its interface id; c1 and c2
    reach each other, and the outside (2001:db8::1, no route back to the
    ULA) only masqueraded."""
    r = sh("ip", "-o", "-6", "addr", "show", "wisp0")
    check("the bridge holds fd88:a58:0:10::1/64", "inet6 fd88:a58:0:10::1/64" in r.stdout, r.stdout)
    r = inside(c1, "ip", "-o", "-6", "addr", "show", "eth0")
    ula_line = [ln for ln in r.stdout.splitlines() if "fd88:" in ln]
    check("c1's eth0 has fd88:a58:0:10::2/64 (its IPv4 host part), not tentative",
          len(ula_line) == 1 and "inet6 fd88:a58:0:10::2/64" in ula_line[0] and
          "tentative" not in ula_line[0], r.stdout)
    r = inside(c1, "ip", "-6", "route", "show", "default")
    check("c1's IPv6 default route is via the bridge",
          r.stdout.startswith("default via fd88:a58:0:10::1 dev eth0"), r.stdout)
    r = inside(c1, BUSYBOX, "ping", "-6", "-c", "1", "-W", "5", "fd88:a58:0:10::3")
    check("c1 reaches c2 over IPv6", r.returncode == 0, r.stdout + r.stderr)
    r = inside(c1, BUSYBOX, "ping", "-6", "-c", "1", "-W", "5", "2001:db8::1")
    check("c1 reaches the outside over IPv6, masqueraded", r.returncode == 0, r.stdout + r.stderr)
    with open("/proc/sys/net/ipv6/conf/all/forwarding") as f:
        check("IPv6 forwarding is on", f.read().strip() == "1")
    test_router_advert(c1, c2)


# A router advertisement from eth0 to every node of the link: prefix
# 2001:db8:bad::/64 (on-link, autonomous), a default router of high preference.
ROUTER_ADVERT = r"""
import socket, struct
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
idx = socket.if_nametoindex("eth0")
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0x08, 1800, 0, 0)
pio = struct.pack("!BBBBIII16s", 3, 4, 64, 0xc0, 86400, 14400, 0,
                  socket.inet_pton(socket.AF_INET6, "2001:db8:bad::"))
for _ in range(3):
    s.sendto(ra + pio, ("ff02::1", 0, 0, idx))
"""


def test_router_advert(c1, c2):
    """c1 (root in a container: CAP_NET_RAW) advertises itself as the link's
    router: c2 takes neither its prefix nor its route (accept_ra 0 in every
    container's namespace, CVE-2020-10749)."""
    deadline = time.monotonic() + 10
    while "tentative" in inside(c1, "ip", "-6", "addr", "show", "dev", "eth0").stdout + inside(
            c2, "ip", "-6", "addr", "show", "dev", "eth0").stdout and time.monotonic() < deadline:
        time.sleep(0.05)
    routes = inside(c2, "ip", "-6", "route").stdout
    r = inside(c1, sys.executable, "-c", ROUTER_ADVERT)
    # c2 has taken the advertisement or not by the time it answers what c1 sent after it
    inside(c1, BUSYBOX, "ping", "-6", "-c", "1", "-W", "5", "fd88:a58:0:10::3")
    after = inside(c2, "ip", "-6", "route").stdout
    addrs = inside(c2, "ip", "-6", "-o", "addr", "show", "dev", "eth0").stdout
    check("c1's router advertisement changes nothing in c2 (no address, no route)",
          r.returncode == 0 and after == routes and "2001:db8:bad:" not in addrs,
          (r.stderr, routes, after, addrs))
    got = inside(c2, "cat", "/proc/sys/net/ipv6/conf/eth0/accept_ra",
                 "/proc/sys/net/ipv6/conf/default/accept_ra").stdout.split()
    check("c2's eth0 and default take no router advertisement (accept_ra 0)", got == ["0", "0"],
          got)


def test_nat(c1):
    """The outside (a namespace behind the uplink, 192.0.2.1) has no route
    to 10.88.0.0/16: c1 reaches it only masqueraded as the uplink's address."""
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        check("IPv4 forwarding is on", f.read().strip() == "1")
    r = inside(c1, BUSYBOX, "ping", "-c", "1", "-W", "5", "192.0.2.1")
    check("c1 reaches the outside through the uplink (masquerade)", r.returncode == 0,
          r.stdout + r.stderr)


def test_restart_and_detach(c1, c3):
    r = cl("attach", "--netns", "/proc/%d/ns/net" % c1.pid, "c1")
    check("attach c1 again (a restart): the same address, one pair",
          r.stdout == "10.88.0.2/16 10.88.0.1\n" and links().count("master wisp0") == 2,
          (r.stdout, r.stderr, links()))
    inode = os.stat(HOSTS).st_ino
    r = cl("detach", "c1")
    check("detach c1", r.returncode == 0, r.stderr)
    hosts = open(HOSTS).read()
    check("c1 leaves the hosts file, rewritten in place (one inode: bind mounts see it)",
          "\tc1\n" not in hosts and "10.88.0.3\tc2\n" in hosts and os.stat(HOSTS).st_ino == inode,
          hosts)
    check("its lease is gone", not os.path.exists("/run/wisp/net/wisp0/10.88.0.2"))
    check("its veth pair is gone (one port left)", links().count("master wisp0") == 1, links())
    r = inside(c1, "ip", "-o", "link")
    check("and c1 has no eth0", "eth0" not in r.stdout, r.stdout)
    r = cl("detach", "c1")
    check("detach of what is not attached is fine", r.returncode == 0, r.stderr)
    r = cl("attach", "--netns", "/proc/%d/ns/net" % c3.pid, "c3")
    check("the freed address goes to the next container", r.stdout == "10.88.0.2/16 10.88.0.1\n",
          (r.stdout, r.stderr))


def test_stale_and_hook(c2, c4, c5):
    """c2's process dies without a detach (a crash): its address is free again.
    A runtime's hook gives the id and pid as OCI state on stdin."""
    c2.kill()
    c2.wait()
    r = cl("attach", "--netns", "/proc/%d/ns/net" % c4.pid, "c4")
    check("a dead container's lease is reclaimed (c4 gets c2's .3)",
          r.stdout == "10.88.0.3/16 10.88.0.1\n", (r.stdout, r.stderr))
    state = json.dumps({"ociVersion": "1.0.2", "id": "c5", "status": "creating", "pid": c5.pid,
                        "bundle": "/nonexistent"})
    r = subprocess.run([CL, "network", "attach", "--oci-state"], input=state, capture_output=True,
                       text=True, timeout=60)
    check("attach --oci-state: id and namespace from the hook's stdin, nothing on stdout "
          "(a hook's stdout is the container's log)",
          r.returncode == 0 and r.stdout == "" and "10.88.0.4 c5" in cl("ls").stdout,
          (r.stdout, r.stderr))
    r = inside(c5, "ip", "-o", "-4", "addr", "show", "eth0")
    check("c5's eth0 has 10.88.0.4/16", "inet 10.88.0.4/16" in r.stdout, r.stdout + r.stderr)
    r = subprocess.run([CL, "network", "detach", "--oci-state"], input=json.dumps(
        {"id": "c5", "status": "stopped"}), capture_output=True, text=True, timeout=60)
    check("detach --oci-state releases it", r.returncode == 0 and
          not os.path.exists("/run/wisp/net/wisp0/10.88.0.4"), r.stderr)
    r = subprocess.run([CL, "network", "attach", "--oci-state"], input="{\"pid\": 1",
                       capture_output=True, text=True, timeout=60)
    check("attach --oci-state of broken JSON: one line, exit 1", r.returncode == 1 and
          r.stderr.startswith("containerd-lite: network attach: OCI state on stdin: ") and
          r.stderr.count("\n") == 1, r.stderr)


SERVER = r"""
import socket, sys
proto, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", port))  # both families: IPv4 clients are ::ffff:A.B.C.D
if proto == "tcp":
    s.listen(8)
print("ready", flush=True)
for _ in range(n):
    if proto == "tcp":
        c, peer = s.accept()
        c.sendall(("peer %s\n" % peer[0].removeprefix("::ffff:")).encode())
        c.close()
    else:
        _, peer = s.recvfrom(100)
        s.sendto(("peer %s\n" % peer[0].removeprefix("::ffff:")).encode(), peer)
"""

CLIENT = r"""
import socket, sys
proto, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                  socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
s.settimeout(3)
if len(sys.argv) > 4:  # a source port of its own: one flow, asked again
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::" if ":" in host else "0.0.0.0", int(sys.argv[4])))
try:
    if proto == "tcp":
        s.connect((host, port))
        print(s.recv(100).decode().strip())
    else:
        s.sendto(b"hi", (host, port))
        print(s.recv(100).decode().strip())
except OSError as e:
    print("no answer: %s" % e)
"""


def server(p, proto, port, n):
    """A server in P's namespace answering N clients with the address it sees them from."""
    cmd = [sys.executable, "-c", SERVER, proto, str(port), str(n)]
    if p:
        cmd = ["nsenter", "-t", str(p.pid), "-n"] + cmd
    srv = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    srv.stdout.readline()
    return srv


def ask(p, proto, host, port, sport=None):
    cmd = [sys.executable, "-c", CLIENT, proto, host, str(port)] + ([str(sport)] if sport else [])
    if p:
        cmd = ["nsenter", "-t", str(p.pid), "-n"] + cmd
    return sh(*cmd).stdout.strip()


def test_ports(c6, c7, c3, outside):
    r = cl("attach", "--publish", "8080:80", "--publish", "127.0.0.1:5353:53/udp", "--netns",
           "/proc/%d/ns/net" % c6.pid, "c6")
    check("attach c6 with two published ports", r.returncode == 0, (r.stdout, r.stderr))
    me = r.stdout.split("/")[0]
    r = cl("ls")
    check("ls shows its ports", me + " c6 0.0.0.0:8080:80/tcp 127.0.0.1:5353:53/udp\n" in r.stdout,
          r.stdout)
    tcp = server(c6, "tcp", 80, 6)
    try:
        got = ask(outside, "tcp", "192.0.2.10", 8080)
        check("the outside reaches 8080, the server sees the client's own address",
              got == "peer 192.0.2.1", got)
        got = ask(outside, "tcp", "2001:db8::10", 8080)
        check("the outside reaches 8080 over IPv6 too, with its own address",
              got == "peer 2001:db8::1", got)
        got = ask(None, "tcp", "192.0.2.10", 8080)
        check("the host reaches it on its own address", got.startswith("peer "), got)
        got = ask(None, "tcp", "127.0.0.1", 8080)
        check("the host reaches it on 127.0.0.1", got.startswith("peer "), got)
        got = ask(c3, "tcp", "192.0.2.10", 8080)
        check("another container reaches it through the host's address (hairpin)",
              got.startswith("peer "), got)
        got = ask(c6, "tcp", "192.0.2.10", 8080)
        check("the container reaches its own published port (hairpin)", got.startswith("peer "), got)
    finally:
        tcp.kill()
        tcp.wait()
    udp = server(c6, "udp", 53, 2)
    try:
        got = ask(None, "udp", "127.0.0.1", 5353)
        check("the host reaches 127.0.0.1:5353/udp", got.startswith("peer "), got)
        got = ask(outside, "udp", "192.0.2.10", 5353)
        check("the outside does not: it is published on 127.0.0.1 only", got.startswith("no answer"),
              got)
    finally:
        udp.kill()
        udp.wait()
    # A neighbour on the uplink's segment sends a frame to the host's MAC with
    # 127.0.0.1 as its destination: DNAT would take it to the container before
    # routing could call it a martian (moby#41872).
    srv = collector(c6, 53)
    r = to_loopback(outside, "up0p", "192.0.2.1", mac_of("up0"), 5353)
    send_udp(None, "127.0.0.1", 5353, "marker")
    got = collected(srv)
    check("nor a frame from the uplink's segment to 127.0.0.1:5353 (only the host's marker "
          "arrives)", r.returncode == 0 and got.splitlines()[:1] == ["marker 10.88.0.1"],
          (r.stderr, got))
    got = ask(outside, "tcp", "192.0.2.10", 8081)
    check("a port not published gets no answer", got.startswith("no answer"), got)
    before = (link_names(), sorted(os.listdir("/run/wisp/net/wisp0")))
    r = cl("attach", "--publish", "0.0.0.0:9000:90", "--publish", "8080:81", "--netns",
           "/proc/%d/ns/net" % c7.pid, "c7")
    check("a host port published twice: one line naming the port and its holder, exit 1",
          r.returncode == 1 and r.stderr == "containerd-lite: network wisp0: attach c7: port "
          "0.0.0.0:8080:81/tcp: its host port is published by container c6\n", r.stderr)
    check("and it left nothing behind", (link_names(), sorted(os.listdir("/run/wisp/net/wisp0")))
          == before, before)
    for spec, why in (("80", "a host port is needed"), ("70000:80", "the host port must be 1-65535"),
                      ("8080:80/sctp", "the protocol must be tcp or udp"),
                      ("::1:8080:80", "the host address must be IPv4")):
        r = cl("attach", "--publish", spec, "--netns", "/proc/%d/ns/net" % c7.pid, "c7")
        check("--publish %s: %s" % (spec, why), r.returncode == 1 and why in r.stderr and
              r.stderr.count("\n") == 1, r.stderr)


def test_networks(c6, c3, cx, outside):
    """A container network's subnet is reached from its own bridge only (Docker 28's filter
    of direct routing, Docker's isolation of networks): not from a second network's
    containers, nor from a neighbour with a route to the subnet through the host, firewall
    or not (none is made yet). Published ports lead in from both."""
    net = ["--network", "wisp2", "--subnet", "10.99.4.0/24"]
    r = cl("attach", *net, "--netns", "/proc/%d/ns/net" % cx.pid, "cx")
    check("cx on a second network, wisp2", r.returncode == 0 and r.stdout.startswith("10.99.4.2/24"),
          (r.stdout, r.stderr))
    c6_addr = [ln.split()[0] for ln in cl("ls").stdout.splitlines() if ln.split()[1] == "c6"][0]
    route = ["nsenter", "-t", str(outside.pid), "-n", "ip", "route"]
    subprocess.run(route + ["replace", "10.88.0.0/16", "via", "192.0.2.10"], check=True)
    subprocess.run(route[:-1] + ["-6", "route", "replace", "fd88:a58:0:10::/64", "via",
                                 "2001:db8::10"], check=True)
    srvs = [server(c6, "tcp", 81, 5), server(c6, "tcp", 80, 1), server(cx, "tcp", 81, 1)]
    try:
        got = ask(c3, "tcp", c6_addr, 81)
        check("a container of c6's own network reaches its unpublished port", got.startswith("peer "),
              got)
        for who, p, host in (("a container of wisp2", cx, c6_addr),
                             ("nor over IPv6", cx, ula(c6_addr)),
                             ("nor, without a firewall, a neighbour routing to the subnet", outside,
                              c6_addr),
                             ("nor over IPv6", outside, ula(c6_addr)),
                             ("nor the other way, wisp0's to wisp2's", c3, "10.99.4.2")):
            got = ask(p, "tcp", host, 81)
            check("%s: no answer from %s port 81" % (who, host), "timed out" in got, got)
        got = ask(cx, "tcp", "192.0.2.10", 8080)
        check("wisp2's container reaches c6's published port through the host's address",
              got.startswith("peer "), got)
    finally:
        for srv in srvs:
            srv.kill()
            srv.wait()
        subprocess.run(route + ["del", "10.88.0.0/16"])
        subprocess.run(route[:-1] + ["-6", "route", "del", "fd88:a58:0:10::/64"])
        r = cl("detach", *net, "cx")
        check("detach cx: wisp2 goes", r.returncode == 0 and "wisp2" not in links(), r.stderr)


def ula(addr):
    """10.88.A.B's IPv6 address, as /proc/net/nf_conntrack writes it."""
    a, b = (int(x) for x in addr.split(".")[2:])
    return ipaddress.IPv6Address("fd88:a58:0:10::%x:%x" % (a, b)).exploded


def flows_of(addr):
    """The conntrack entries (this namespace's) naming ADDR."""
    with open("/proc/net/nf_conntrack") as f:
        return [ln for ln in f if "=%s " % addr in ln]


def test_conntrack(ca, cf, cb, outside):
    """A client that keeps one UDP flow to a published port (a resolver's
    client, a syslog sender) reaches the container that publishes it after a
    restart at another address: the detach deleted the flow's conntrack
    entry, whose DNAT to the old address would otherwise live on."""
    r = cl("attach", "--publish", "6000:60/udp", "--netns", "/proc/%d/ns/net" % ca.pid, "ca")
    a = r.stdout.split("/")[0]
    srv = server(ca, "udp", 60, 1)
    got = ask(outside, "udp", "192.0.2.10", 6000, 40000)
    srv.wait()
    check("a UDP flow from the outside reaches ca's published port", got == "peer 192.0.2.1", got)
    check("and the host tracks it", len(flows_of(a)) > 0, flows_of(a))
    r = cl("detach", "ca")
    check("ca's detach deletes the conntrack entries naming its address",
          r.returncode == 0 and flows_of(a) == [], (r.stderr, flows_of(a)))
    r = cl("attach", "--netns", "/proc/%d/ns/net" % cf.pid, "cf")
    check("another container takes ca's address", r.stdout.split("/")[0] == a, r.stdout)
    r = cl("attach", "--publish", "6000:60/udp", "--netns", "/proc/%d/ns/net" % cb.pid, "cb")
    check("cb publishes the port from another address", r.returncode == 0 and
          r.stdout.split("/")[0] != a, (r.stdout, r.stderr))
    srv = server(cb, "udp", 60, 1)
    got = ask(outside, "udp", "192.0.2.10", 6000, 40000)
    srv.kill()
    srv.wait()
    check("the same flow now reaches cb", got == "peer 192.0.2.1", got)
    for i in ("cb", "cf"):
        cl("detach", i)
    test_conntrack_stale(outside)


# Datagrams from N sockets of their own to HOST:PORT: N flows.
FLOWS = r"""
import socket, sys
for _ in range(int(sys.argv[3])):
    s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"flow", (sys.argv[1], int(sys.argv[2])))
    s.close()
"""


def test_ct_limit(cl_, outside):
    """A container opens at most a quarter of the host's conntrack table
    (nf_conntrack_max, a file bound over it here: 400): of 300 flows to the
    outside, 100 are tracked (and sent); the table is the host's own
    connections' too, so one container could fill it with flows it keeps
    alive (TCP to a server of its own: assured, never evicted)."""
    with tempfile.NamedTemporaryFile("w", suffix=".ctmax") as f:
        f.write("400\n")
        f.flush()
        subprocess.run(["mount", "--bind", f.name, "/proc/sys/net/netfilter/nf_conntrack_max"],
                       check=True)
        try:
            r = cl("attach", "--netns", "/proc/%d/ns/net" % cl_.pid, "climit")
        finally:
            subprocess.run(["umount", "/proc/sys/net/netfilter/nf_conntrack_max"])
    addr = r.stdout.split("/")[0]
    sent = inside(cl_, sys.executable, "-c", FLOWS, "192.0.2.1", "9", "300")
    n = len(flows_of(addr))
    check("a container's 300 flows to the outside take 100 conntrack entries of the host (a "
          "quarter of nf_conntrack_max)", r.returncode == 0 and sent.returncode == 0 and n == 100,
          (r.stderr, sent.stderr, n))
    lla = sh("ip", "-o", "-6", "addr", "show", "dev", "wisp0", "scope", "link").stdout.split()[3].split("/")[0]
    deadline = time.monotonic() + 10  # its link-local address is tentative for a second
    while "tentative" in inside(cl_, "ip", "-6", "addr", "show", "dev", "eth0").stdout and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    own = inside(cl_, "ip", "-o", "-6", "addr", "show", "dev", "eth0", "scope", "link").stdout.split()[3]
    sent = inside(cl_, sys.executable, "-c", FLOWS, lla + "%eth0", "9", "300")
    n = len(flows_of(ipaddress.ip_address(own.split("/")[0]).exploded))  # as the kernel prints it
    check("and of 300 from its link-local address to the host's, 100 (its MAC's count in IPv6, "
          "its ULA's too)",
          sent.returncode == 0 and n == 100, (sent.stderr, n))
    r = cl("detach", "climit")
    check("its detach takes them", r.returncode == 0 and flows_of(addr) == [], r.stderr)


def test_conntrack_stale(outside):
    """A container that died without its detach left its flows; the next
    attach that takes its address (the only one of a /30) deletes them."""
    net = ["--network", "wisp1", "--subnet", "10.99.0.0/30"]
    cd, ce = holder(), holder()
    try:
        r = cl("attach", *net, "--publish", "6002:62/udp", "--netns", "/proc/%d/ns/net" % cd.pid, "cd")
        check("cd on a /30 network: its one address", r.stdout.startswith("10.99.0.2/30"),
              (r.stdout, r.stderr))
        ask(outside, "udp", "192.0.2.10", 6002, 40002)  # nothing answers: the entry stays
        check("a flow to cd's published port is tracked", len(flows_of("10.99.0.2")) > 0)
        cd.kill()
        cd.wait()
        r = cl("attach", *net, "--netns", "/proc/%d/ns/net" % ce.pid, "ce")
        check("cd died without a detach: ce takes its address and its flows are gone",
              r.stdout.startswith("10.99.0.2/30") and flows_of("10.99.0.2") == [],
              (r.stdout, r.stderr, flows_of("10.99.0.2")))
        r = cl("detach", *net, "ce")
        with open("/proc/sys/net/ipv4/ip_forward") as f:
            fwd = f.read().strip()
        check("wisp1's last detach leaves forwarding on: wisp0 still has containers",
              r.returncode == 0 and fwd == "1" and "wisp1" not in links(), (r.stderr, fwd))
    finally:
        for p in (cd, ce):
            p.kill()
            p.wait()


# A UDP datagram to 127.0.0.1:PORT in a frame to MAC, sent raw out of DEV:
# what a container can send to the bridge, or a neighbour to the host's uplink.
LOOPBACK_FRAME = r"""
import fcntl, socket, struct, sys
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
dev, src, mac, port = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3].replace(":", "")), int(sys.argv[4])
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + 5, 1, 0, 64, 17, 0,
                 socket.inet_aton(src), socket.inet_aton("127.0.0.1"))
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
udp = struct.pack("!HHHH", 4444, port, 8 + 5, 0) + b"probe"
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((dev, 0))
own = fcntl.ioctl(s.fileno(), 0x8927, struct.pack("256s", dev.encode()))[18:24]  # SIOCGIFHWADDR
for _ in range(3):
    s.send(mac + own + b"\x08\x00" + ip + udp)
"""


def mac_of(link):
    # (this namespace's links are not in /sys, which shows the namespace that mounted it)
    return sh("ip", "-o", "link", "show", link).stdout.split("link/ether ")[1].split()[0]


def to_loopback(p, dev, src, mac, port):
    return inside(p, sys.executable, "-c", LOOPBACK_FRAME, dev, src, mac, str(port))


# Collects what reaches [::]:PORT (both families) until a datagram "marker",
# at most 10 s, and prints each datagram's payload and sender on a line.
COLLECT = r"""
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("::", int(sys.argv[1])))
s.settimeout(10)
print("ready", flush=True)
try:
    while True:
        d, a = s.recvfrom(100)
        print(d.decode(errors="replace"), a[0].removeprefix("::ffff:"), flush=True)
        if d == b"marker":
            break
except OSError:
    print("timeout", flush=True)
"""


def collector(p, port):
    """A collector in P's namespace (None: the host's)."""
    cmd = [sys.executable, "-c", COLLECT, str(port)]
    srv = subprocess.Popen((["nsenter", "-t", str(p.pid), "-n"] if p else []) + cmd,
                           stdout=subprocess.PIPE, text=True)
    srv.stdout.readline()
    return srv


def send_udp(p, host, port, payload):
    code = ("import socket,sys; socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else "
            "socket.AF_INET, socket.SOCK_DGRAM).sendto(sys.argv[3].encode(), "
            "(sys.argv[1], int(sys.argv[2])))")
    cmd = [sys.executable, "-c", code, host, str(port), payload]
    return sh(*(["nsenter", "-t", str(p.pid), "-n"] + cmd if p else cmd))


def collected(srv):
    """What a collector got, once the marker (sent after the datagrams that
    must not arrive: each is forwarded, or dropped, within its send) ended it."""
    try:
        out = srv.communicate(timeout=20)[0]
    except subprocess.TimeoutExpired:
        srv.kill()
        out = srv.communicate()[0]
    return out


def test_loopback_hole(c3):
    """A frame from a container to the host's MAC with 127.0.0.1 as its destination
    would reach a service the host keeps on loopback: route_localnet is on for
    the bridge (127.0.0.1 published ports need it), the raw chain drops it."""
    inside(c3, BUSYBOX, "ping", "-c", "1", "-W", "5", "10.88.0.1")
    lo = __import__("socket").socket(2, 2)
    lo.bind(("127.0.0.1", 9999))
    lo.settimeout(2)
    src = inside(c3, "ip", "-o", "-4", "addr", "show", "eth0").stdout.split()[3].split("/")[0]
    r = to_loopback(c3, "eth0", src, mac_of("wisp0"), 9999)
    try:
        data = lo.recv(100)
    except OSError:
        data = b""
    lo.close()
    check("a container's packet to the host's 127.0.0.1 is dropped", r.returncode == 0 and
          data == b"", (r.stderr, data))


# A packet socket on eth0 (s), its MAC (own) and the Internet checksum (csum).
RAW_ETH0 = r"""
import fcntl, socket, struct, sys
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b + b"\0" * (len(b) % 2)))
    while s >> 16:
        s = (s >> 16) + (s & 0xffff)
    return ~s & 0xffff
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
own = fcntl.ioctl(s.fileno(), 0x8927, struct.pack("256s", b"eth0"))[18:24]  # SIOCGIFHWADDR
"""

# What root in a container can send with CAP_NET_RAW, out of eth0: KIND
# "arp" SRC_MAC ADDR, a gratuitous ARP claiming ADDR for SRC_MAC; "udp4" or
# "udp6" SRC_MAC DST_MAC SRC DST PORT TEXT, a datagram from any address
# and MAC ("own": eth0's).
SPOOF = RAW_ETH0 + r"""
kind, a = sys.argv[1], sys.argv[2:]
src = own if a[0] == "own" else bytes.fromhex(a[0].replace(":", ""))
if kind == "arp":
    ip = socket.inet_aton(a[1])
    frame = (b"\xff" * 6 + src + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) +
             src + ip + b"\0" * 6 + ip)
else:
    dst, fam = bytes.fromhex(a[1].replace(":", "")), socket.AF_INET if kind == "udp4" else socket.AF_INET6
    sa, da, text = socket.inet_pton(fam, a[2]), socket.inet_pton(fam, a[3]), a[5].encode()
    udp = struct.pack("!HHHH", 4444, int(a[4]), 8 + len(text), 0) + text
    if kind == "udp4":
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, sa, da)
        l3 = b"\x08\x00" + ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    else:  # UDP over IPv6 needs its checksum
        c = csum(sa + da + struct.pack("!IxxxB", len(udp), 17) + udp) or 0xffff
        udp = udp[:6] + struct.pack("!H", c) + udp[8:]
        l3 = b"\x86\xdd" + struct.pack("!IHBB16s16s", 6 << 28, len(udp), 17, 64, sa, da)
    frame = dst + src + l3 + udp
for _ in range(3):
    s.send(frame)
"""

# An unsolicited neighbour advertisement (override) to every other node: TARGET is at MAC.
NEIGHBOUR_ADVERT = r"""
import socket, struct, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)  # not to the sender's own cache
idx = socket.if_nametoindex("eth0")
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
na = struct.pack("!BBHI16sBB6s", 136, 0, 0, 0x20000000, socket.inet_pton(socket.AF_INET6, sys.argv[1]),
                 2, 1, bytes.fromhex(sys.argv[2].replace(":", "")))
for _ in range(3):
    s.sendto(na, ("ff02::1", 0, 0, idx))
"""

# Neighbour discovery from ADDR (eth0's) to DST as root in a container may:
# KIND "ns" or "na" (override) for TARGET, "rs" or "ra"; each OPTION "TYPE=MAC" a
# link-layer address option (1 source, 2 target), in that order.
ND = r"""
import socket, struct, sys
kind, src, dst, target, opts = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
idx = socket.if_nametoindex("eth0")
for opt in (socket.IPV6_UNICAST_HOPS, socket.IPV6_MULTICAST_HOPS):
    s.setsockopt(socket.IPPROTO_IPV6, opt, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
s.bind((src, 0, 0, idx))
t = socket.inet_pton(socket.AF_INET6, target)
msg = {"ns": struct.pack("!BBHI16s", 135, 0, 0, 0, t), "rs": struct.pack("!BBHI", 133, 0, 0, 0),
       "ra": struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 0, 0, 0),  # no default route
       "na": struct.pack("!BBHI16s", 136, 0, 0, 0x20000000, t)}[kind]
for o in opts:
    kind_, mac = o.split("=")
    msg += struct.pack("!BB6s", int(kind_), 1, bytes.fromhex(mac.replace(":", "")))
for _ in range(3):
    s.sendto(msg, (dst, 0, 0, idx))
"""


def neigh(addr):
    """The MAC the host's neighbour table has for ADDR on the bridge."""
    out = sh("ip", "neigh", "show", addr, "dev", "wisp0").stdout.split()
    return out[out.index("lladdr") + 1] if "lladdr" in out else out


def host_ifname(cid):
    """The host end of container CID's veth pair: wv and the FNV-1a hash of the id."""
    h = 2166136261
    for b in cid.encode():
        h = ((h ^ b) * 16777619) & 0xffffffff
    return "wv%08x" % h


def fdb_port(mac):
    """The bridge port the forwarding table puts MAC behind."""
    for ln in sh("bridge", "fdb", "show", "br", "wisp0").stdout.splitlines():
        if ln.startswith(mac + " dev "):
            return ln.split()[2]
    return None


def test_l2_pinning(c1, c2):
    """c1 (10.88.0.2, root in a container: CAP_NET_RAW) claims c2's addresses
    (10.88.0.3, fd88:a58:0:10::3) by ARP and neighbour advertisement, sends
    as c2, and as c2's MAC: the bridge table pins each port to its lease's
    MAC and addresses, so the host's neighbours and the bridge's forwarding
    table keep c2 where it is and nothing sent as c2 arrives; ordinary
    traffic goes on."""
    c1mac, c2mac, brmac = "02:42:0a:58:00:02", "02:42:0a:58:00:03", mac_of("wisp0")
    for addr in ("10.88.0.3", "fd88:a58:0:10::3"):  # the host knows c2 (and the bridge its port)
        sh(BUSYBOX, "ping", "-c", "1", "-W", "5", addr)
    before = (neigh("10.88.0.3"), neigh("fd88:a58:0:10::3"), fdb_port(c2mac))
    check("the host's neighbours and the bridge know c2 at its MAC and port",
          before == (c2mac, c2mac, host_ifname("c2")), before)
    r = inside(c1, sys.executable, "-c", SPOOF, "arp", "own", "10.88.0.3")
    time.sleep(0.2)
    check("c1's gratuitous ARP claiming 10.88.0.3 leaves the host's entry at c2's MAC",
          r.returncode == 0 and neigh("10.88.0.3") == c2mac, (r.stderr, neigh("10.88.0.3")))
    r = inside(c1, sys.executable, "-c", NEIGHBOUR_ADVERT, "fd88:a58:0:10::3", c1mac)
    time.sleep(0.2)
    check("c1's neighbour advertisement for fd88:a58:0:10::3 leaves it at c2's MAC",
          r.returncode == 0 and neigh("fd88:a58:0:10::3") == c2mac,
          (r.stderr, neigh("fd88:a58:0:10::3")))
    srv = collector(None, 9998)
    sent = [inside(c1, sys.executable, "-c", SPOOF, "udp4", "own", brmac, "10.88.0.3", "10.88.0.1",
                   "9998", "as-c2-v4"),
            inside(c1, sys.executable, "-c", SPOOF, "udp6", "own", brmac, "fd88:a58:0:10::3",
                   "fd88:a58:0:10::1", "9998", "as-c2-v6"),
            inside(c1, sys.executable, "-c", SPOOF, "udp4", c2mac, brmac, "10.88.0.2", "10.88.0.1",
                   "9998", "as-c2-mac")]
    time.sleep(0.2)
    port = fdb_port(c2mac)
    send_udp(c2, "10.88.0.1", 9998, "marker")
    got = collected(srv)
    check("nor does c1's frame from c2's MAC move it to c1's port in the bridge",
          all(r.returncode == 0 for r in sent) and port == before[2], ([r.stderr for r in sent], port))
    for text, what in (("as-c2-v4", "from 10.88.0.3"), ("as-c2-v6", "from fd88:a58:0:10::3"),
                       ("as-c2-mac", "from its own address and c2's MAC")):
        check("c1's datagram to the host %s is dropped (c2's marker arrives)" % what,
              text not in got and "marker 10.88.0.3" in got, sorted(set(got.splitlines())))
    for cmd in (["ping", "-c", "1", "-W", "5", "10.88.0.3"],
                ["ping", "-6", "-c", "1", "-W", "5", "fd88:a58:0:10::3"],
                ["ping", "-c", "1", "-W", "5", "10.88.0.1"],
                ["ping", "-6", "-c", "1", "-W", "5", "fe80::42:aff:fe58:3%eth0"]):
        r = inside(c1, BUSYBOX, *cmd)
        check("c1 still reaches %s" % cmd[-1], r.returncode == 0, r.stdout + r.stderr)
    r = sh("nft", "list", "chain", "bridge", "wisp-wisp0", "prerouting")
    lookup = re.findall(r"iifname vmap \{ (.*) \}", r.stdout)
    check("the bridge table looks a port up in one map of the leases' (O(1), not a rule each) "
          "and drops the rest of the network's ports",
          len(lookup) == 1 and sorted(lookup[0].split(", ")) ==
          sorted('"%s" : goto %s' % (host_ifname(c), host_ifname(c)) for c in ("c1", "c2")) and
          r.stdout.count("goto") == 2 and "iifgroup" in r.stdout, r.stdout + r.stderr)
    test_l2_lla(c1)
    test_l2_orphan()
    test_first_port()


# Datagrams from eth0's own MAC and address to the bridge's MAC (the host, as
# a router) for each address of the subnets ARGS names: "4:PREFIX" or
# "6:PREFIX" and a count N, PREFIX + 1 .. N.
VIA_HOST = RAW_ETH0 + r"""
dst = bytes.fromhex(sys.argv[1].replace(":", ""))
for arg in sys.argv[2:]:
    fam, src, prefix, n = arg.split(",")
    udp = struct.pack("!HHHH", 4444, 9, 8, 0)
    for i in range(1, int(n) + 1):
        if fam == "4":
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 1, 0, 64, 17, 0, socket.inet_aton(src),
                             socket.inet_aton(prefix + str(i)))
            s.send(dst + own + b"\x08\x00" + ip[:10] + struct.pack("!H", csum(ip)) + ip[12:] + udp)
        else:
            sa, da = (socket.inet_pton(socket.AF_INET6, a) for a in (src, prefix + "%x" % i))
            c = csum(sa + da + struct.pack("!IxxxB", 8, 17) + udp) or 0xffff
            s.send(dst + own + b"\x86\xdd" + struct.pack("!IHBB16s16s", 6 << 28, 8, 17, 64, sa, da) +
                   udp[:6] + struct.pack("!H", c))
"""


def test_neigh_flood(c1):
    """c1 (root in a container: CAP_NET_RAW) sends to 64 addresses of its
    subnet that no container holds, and 64 of the ULA's /64, through the
    host (to the bridge's MAC): were the host to route them back out of the
    bridge, each would be an entry of the host's neighbour table (the
    kernel's, shared by every interface: 1024 at most, gc_thresh3), and a
    stream of them would leave no room for the host's own gateway."""
    r = inside(c1, sys.executable, "-c", VIA_HOST, mac_of("wisp0"), "4,10.88.0.2,10.88.77.,64",
               "6,fd88:a58:0:10::2,fd88:a58:0:10::77:,64", "6,fe80::42:aff:fe58:2,fe80::77:,64")
    # the host has routed or dropped each within its send (netif_rx runs its softirq)
    got = [ln for ln in sh("ip", "neigh", "show", "dev", "wisp0").stdout.splitlines()
           if ln.startswith(("10.88.77.", "fd88:a58:0:10::77:", "fe80::77:"))]
    check("c1's datagrams through the host to 192 unleased addresses of its subnets and of "
          "fe80::/64 make no neighbour entry on the host", r.returncode == 0 and got == [],
          (r.stderr, len(got), got[:4]))
    r = inside(c1, BUSYBOX, "ping", "-c", "1", "-W", "5", "10.88.0.3")
    check("c1 still reaches c2", r.returncode == 0, r.stdout + r.stderr)
    # the host's own link-local address on the bridge: the EUI-64 of the gateway's MAC
    check("the bridge's MAC is the gateway's", mac_of("wisp0") == "02:42:0a:58:00:01", mac_of("wisp0"))
    r = inside(c1, BUSYBOX, "ping", "-c", "1", "-W", "5", "fe80::42:aff:fe58:1%eth0")
    check("c1 still reaches the host's link-local address", r.returncode == 0, r.stdout + r.stderr)


def test_l2_lla(c1):
    """c1's neighbour discovery naming c2's MAC in its link-layer address
    option, for c1's own address: the host would send c1's traffic to c2's
    MAC, which the bridge forwards to c2. Only the option naming its port's
    MAC passes, and one option at most (the receiver reads every one); a
    router advertisement (its source option is read even where it is not
    taken) not at all."""
    c1mac, c2mac = "02:42:0a:58:00:02", "02:42:0a:58:00:03"
    a1, gw = ula("10.88.0.2"), ula("10.88.0.1")
    spoofs = [("its advertisement's target option (override)", c1mac, "na", "ff02::1", a1,
               "2=" + c2mac),
              ("its solicitation's source option", None, "ns", gw, gw, "1=" + c2mac),
              ("a solicitation's second option after its own", None, "ns", gw, gw, "2=" + c1mac,
               "1=" + c2mac),
              ("its router solicitation's source option", None, "rs", "ff02::2", "::", "1=" + c2mac)]
    for what, entry, *nd in spoofs:
        r = neigh_after(c1, a1, entry, nd)
        check("c1 naming c2's MAC in %s: the host's entry for c1 is not c2's MAC" % what,
              r[0] == 0 and r[1] != c2mac, r)
    # (an advertisement's source is link-local: the entry is that address's)
    ll = "fe80::42:aff:fe58:2"
    r = neigh_after(c1, ll, None, ["ra", "ff02::1", "::", "1=" + c2mac])
    check("c1's router advertisement naming c2's MAC: the host's entry for c1's link-local "
          "address is not c2's MAC (a container is no router)", r[0] == 0 and r[1] != c2mac, r)
    sh("ip", "neigh", "del", ll, "dev", "wisp0")
    for kind, dst, target, opt in (("na", "ff02::1", a1, "2="), ("ns", gw, gw, "1="),
                                   ("rs", "ff02::2", "::", "1=")):
        stale = "02:42:0a:58:00:99" if kind == "na" else None  # an NA only updates an entry
        r = neigh_after(c1, a1, stale, [kind, dst, target, opt + c1mac])
        check("c1's %s naming its own MAC sets the host's entry" % kind, r == (0, c1mac, ""), r)
    sh("ip", "neigh", "del", a1, "dev", "wisp0")
    sh(BUSYBOX, "ping", "-c", "1", "-W", "5", a1)


def neigh_after(p, addr, entry, nd):
    """The host's entry for ADDR (ENTRY: one made first, stale; None: none)
    after P sent neighbour discovery ND: (ND's status, the MAC, its stderr)."""
    sh("ip", "neigh", "del", addr, "dev", "wisp0")
    if entry:
        sh("ip", "neigh", "replace", addr, "lladdr", entry, "dev", "wisp0", "nud", "stale")
    r = inside(p, sys.executable, "-c", ND, nd[0], addr, *nd[1:])
    time.sleep(0.2)
    return r.returncode, neigh(addr), r.stderr


def test_first_port():
    """A network's first container: its port joins the bridge before its
    attach's batch makes the port's chain, and must be dropped until then,
    as a later container's is (or it sends as anyone meanwhile). strace
    holds each of the attach's nftables batches (sendto) 2 s; once the
    container's eth0 is up, while the attach still runs, it sends from an
    address not its own to the host; after the attach, from its own."""
    net = ["--network", "wisp3", "--subnet", "10.67.0.0/24"]
    p, srv = holder(), collector(None, 9997)
    st = subprocess.Popen(["strace", "-o", "/dev/null", "-e", "trace=sendto", "-e",
                           "inject=sendto:delay_enter=2000000", CL, "network", "attach", *net,
                           "--netns", "/proc/%d/ns/net" % p.pid, "first"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        while "state UP" not in inside(p, "ip", "-o", "link", "show", "eth0").stdout:
            if time.monotonic() > deadline or st.poll() is not None:
                break
            time.sleep(0.02)
        sent = inside(p, sys.executable, "-c", SPOOF, "udp4", "own", mac_of("wisp3"), "10.67.0.99",
                      "10.67.0.1", "9997", "unleased")
        during = st.poll() is None
        out, err = st.communicate(timeout=30)
        send_udp(p, "10.67.0.1", 9997, "marker")
        got = collected(srv)
        check("a network's first container sends as another address before its attach's batch: "
              "dropped (its own after it arrives)", st.returncode == 0 and sent.returncode == 0 and
              during and "unleased" not in got and "marker 10.67.0.2" in got,
              (out, err, sent.stderr, during, got))
    finally:
        st.kill()
        p.kill()
        p.wait()
        cl("detach", *net, "first")


def test_l2_orphan():
    """A container's namespace that outlives its lease's process keeps its
    veth, and its address goes to the next container: its port is dropped
    whole at that container's attach."""
    p = holder()
    keep = None
    try:
        r = cl("attach", "--netns", "/proc/%d/ns/net" % p.pid, "orphan")
        addr = r.stdout.split("/")[0]
        keep = subprocess.Popen(["nsenter", "-t", str(p.pid), "-n", "sleep", "120"])
        time.sleep(0.2)
        r1 = sh("nsenter", "-t", str(keep.pid), "-n", BUSYBOX, "ping", "-c", "1", "-W", "5",
                "10.88.0.1")
        p.kill()
        p.wait()
        q = holder()
        r = cl("attach", "--netns", "/proc/%d/ns/net" % q.pid, "heir")
        check("the next container takes the address of one whose process died (%s)" % addr,
              r.stdout.split("/")[0] == addr, (r.stdout, r.stderr))
        r2 = sh("nsenter", "-t", str(keep.pid), "-n", BUSYBOX, "ping", "-c", "1", "-W", "2",
                "10.88.0.1")
        check("the namespace it left behind reached the host before, not any more",
              r1.returncode == 0 and r2.returncode != 0, (r1.stdout, r2.stdout))
        q.kill()
        q.wait()
        cl("detach", "heir")
    finally:
        for x in (p, keep):
            if x:
                x.kill()
                x.wait()
        cl("detach", "orphan")


def test_metadata(c3, outside):
    """The cloud's metadata service (169.254.169.254, EC2's fd00:ec2::254 and GCE's
    fd20:ce::254, here in "outside" behind the uplink) serves user-data and the instance's
    credentials: the host reaches it, a container does not. Azure's wire server
    (168.63.129.16: certificates, the health report) the same, but for DNS."""
    ip = ["nsenter", "-t", str(outside.pid), "-n", "ip"]
    subprocess.run(ip + ["addr", "add", "169.254.169.254/32", "dev", "up0p"], check=True)
    subprocess.run(ip + ["addr", "add", "168.63.129.16/32", "dev", "up0p"], check=True)
    for v6 in ("fd00:ec2::254/128", "fd20:ce::254/128"):
        subprocess.run(ip + ["-6", "addr", "add", v6, "dev", "up0p", "nodad"], check=True)
    try:
        for host in ("169.254.169.254", "fd00:ec2::254", "fd20:ce::254"):
            srv = collector(outside, 80)
            r = send_udp(c3, host, 80, "from-a-container")
            send_udp(None, host, 80, "marker")
            got = collected(srv)
            check("a container's datagram to %s is dropped; the host's arrives" % host,
                  r.returncode == 0 and [ln.split()[0] for ln in got.splitlines()] == ["marker"],
                  (r.stderr, got))
        for port in (80, 32526):
            srv = collector(outside, port)
            r = send_udp(c3, "168.63.129.16", port, "from-a-container")
            send_udp(None, "168.63.129.16", port, "marker")
            got = collected(srv)
            check("a container's datagram to the wire server's port %d is dropped; the "
                  "host's arrives" % port,
                  r.returncode == 0 and [ln.split()[0] for ln in got.splitlines()] == ["marker"],
                  (r.stderr, got))
        srv = collector(outside, 53)
        r = send_udp(c3, "168.63.129.16", 53, "from-a-container")
        send_udp(None, "168.63.129.16", 53, "marker")
        got = collected(srv)
        check("a container's DNS datagram to the wire server arrives",
              r.returncode == 0 and [ln.split()[0] for ln in got.splitlines()] ==
              ["from-a-container", "marker"], (r.stderr, got))
    finally:
        subprocess.run(ip + ["addr", "del", "168.63.129.16/32", "dev", "up0p"])
        subprocess.run(ip + ["addr", "del", "169.254.169.254/32", "dev", "up0p"])
        subprocess.run(ip + ["-6", "addr", "del", "fd00:ec2::254/128", "dev", "up0p"])
        subprocess.run(ip + ["-6", "addr", "del", "fd20:ce::254/128", "dev", "up0p"])


def dropped(c, outside, host, port):
    """Whether a container's datagram to HOST:PORT (outside) is dropped while the
    host's arrives: True, False, or the evidence when neither."""
    srv = collector(outside, port)
    r = send_udp(c, host, port, "from-a-container")
    send_udp(None, host, port, "marker")
    got = [ln.split()[0] for ln in collected(srv).splitlines()]
    if r.returncode == 0 and got == ["marker"]:
        return True
    if r.returncode == 0 and got == ["from-a-container", "marker"]:
        return False
    return (r.stderr, got)


def test_metadata_moved(c3, outside):
    """wisp.imds= and wisp.wireserver= on the kernel command line move the metadata
    services (a private cloud's proxy, a test's server): what they serve is the same,
    so a container's packets to the moved endpoint are dropped too, at its port only
    when one is named. The command line is /proc/cmdline, bound over in this mount
    namespace; the network's table is made again at the next attach."""
    ip = ["nsenter", "-t", str(outside.pid), "-n", "ip"]
    moved4, moved6 = "192.0.2.77", "2001:db8::77"
    subprocess.run(ip + ["addr", "add", moved4 + "/32", "dev", "up0p"], check=True)
    subprocess.run(ip + ["-6", "addr", "add", moved6 + "/128", "dev", "up0p", "nodad"],
                   check=True)
    with tempfile.NamedTemporaryFile("w", suffix=".cmdline") as f:
        f.write("console=ttyS0 wisp.imds=%s:8080 wisp.wireserver=[%s]\n" % (moved4, moved6))
        f.flush()
        subprocess.run(["mount", "--bind", f.name, "/proc/cmdline"], check=True)
        try:
            r = cl("attach", "--netns", "/proc/%d/ns/net" % c3.pid, "c3")  # the table made again
            check("attach again with the moved endpoints", r.returncode == 0, r.stderr.strip())
            for host, port, want in ((moved4, 8080, True), (moved4, 8081, False),
                                     (moved6, 80, True), (moved6, 53, False)):
                got = dropped(c3, outside, host, port)
                check("wisp.imds/wisp.wireserver moved: a container's datagram to [%s]:%d %s"
                      % (host, port, "dropped; the host's arrives" if want else "arrives"),
                      got is want, got)
        finally:
            subprocess.run(["umount", "/proc/cmdline"])
            subprocess.run(ip + ["addr", "del", moved4 + "/32", "dev", "up0p"])
            subprocess.run(ip + ["-6", "addr", "del", moved6 + "/128", "dev", "up0p"])
            cl("attach", "--netns", "/proc/%d/ns/net" % c3.pid, "c3")


def test_firewall_named(cb):
    """A network is named by its user: its containers get out through the firewall as
    wisp0's do (the forward chain knows the bridges by their interface group)."""
    net = ["--network", "blue", "--subnet", "10.99.8.0/24"]
    r = cl("attach", *net, "--netns", "/proc/%d/ns/net" % cb.pid, "cb")
    try:
        r = inside(cb, BUSYBOX, "ping", "-c", "1", "-W", "5", "192.0.2.1")
        check("a container of network \"blue\" reaches the outside through the firewall",
              r.returncode == 0, r.stdout + r.stderr)
    finally:
        r = cl("detach", *net, "cb")
        check("detach cb: blue goes", r.returncode == 0 and "blue" not in links(), r.stderr)


def test_firewall(c6, c3, cb, outside):
    """The host's firewall (point 5): closed but for what --allow opens,
    established flows, ICMP and published ports; the forward chain closes
    the way to containers' unpublished ports through a route to the subnet."""
    outside_route = ["nsenter", "-t", str(outside.pid), "-n", "ip", "route"]
    subprocess.run(outside_route + ["replace", "10.88.0.0/16", "via", "192.0.2.10"], check=True)
    srvs = [server(None, "tcp", 2222, 2), server(None, "tcp", 2223, 2), server(c6, "tcp", 81, 2),
            server(c6, "tcp", 80, 1), server(None, "tcp", 2224, 1)]
    c6_addr = [ln.split()[0] for ln in cl("ls").stdout.splitlines() if ln.split()[1] == "c6"][0]
    try:
        got = ask(outside, "tcp", "192.0.2.10", 2223)
        check("and any port of the host", got.startswith("peer "), got)
        r = cl("firewall", "--allow", "2222", "--allow", "53/udp")
        check("firewall --allow 2222 --allow 53/udp", r.returncode == 0 and r.stderr == "", r.stderr)
        got = ask(outside, "tcp", "192.0.2.10", 2222)
        check("an allowed port answers", got.startswith("peer 192.0.2.1"), got)
        got = ask(outside, "tcp", "192.0.2.10", 2223)
        check("another port gets no answer at all (dropped, not refused)", "timed out" in got, got)
        got = ask(outside, "tcp", c6_addr, 81)
        check("nor does a container's unpublished port through a route (the network's table "
              "drops it too: test_networks)", "timed out" in got, got)
        got = ask(outside, "tcp", "192.0.2.10", 8080)
        check("a published port does, with the client's address", got == "peer 192.0.2.1", got)
        got = ask(c3, "tcp", "10.88.0.1", 2223)
        check("a container gets no answer from the host's services", "timed out" in got, got)
        r = inside(outside, BUSYBOX, "ping", "-c", "1", "-W", "5", "192.0.2.10")
        check("ICMP echo answers", r.returncode == 0, r.stdout + r.stderr)
        # Polled: after test_conntrack's detaches, a new echo from c3 is now
        # and then left unmasqueraded for some seconds (a null NAT binding in
        # /proc/net/nf_conntrack); cause not found yet (closing note of
        # 2026-12-03). The time it took is printed.
        t0, tries = time.monotonic(), 0
        while True:
            tries += 1
            r = inside(c3, BUSYBOX, "ping", "-c", "1", "-W", "2", "192.0.2.1")
            if r.returncode == 0 or time.monotonic() - t0 > 30:
                break
        check("containers still reach the outside (forward, NAT; %d echo(es), %.1f s)"
              % (tries, time.monotonic() - t0), r.returncode == 0, r.stdout + r.stderr)
        r = sh(BUSYBOX, "ping", "-c", "1", "-W", "5", "192.0.2.1")
        check("and the host (outbound open, answers established)", r.returncode == 0, r.stdout + r.stderr)
        test_firewall_named(cb)
        for args, msg in ((["firewall", "--allow", "0"], "containerd-lite: network firewall: --allow 0: "
                           "not PORT[/tcp|udp] (1-65535)\n"),
                          (["firewall", "--allow", "22", "--off"], "containerd-lite: network firewall: "
                           "--allow or --off, not both\n")):
            r = cl(*args)
            check("%s: one line, nothing changed" % " ".join(args), r.returncode in (1, 2) and
                  r.stderr == msg and "timed out" in ask(outside, "tcp", "192.0.2.10", 2223), r.stderr)
        # provision's most: the image spec's 32, user-data's 32 and SSH's
        ports = [str(2300 + i) for i in range(65)]
        r = cl("firewall", *[a for p in ports for a in ("--allow", p)])
        rules = nft_rules("inet wisp-firewall") or []
        got = ask(outside, "tcp", "192.0.2.10", 2223)
        check("firewall with 65 ports: the table has a rule for each, 2223 still dropped",
              r.returncode == 0 and len(rules) == 20 + 65 and "timed out" in got,
              (r.stderr, len(rules), got))
        r = cl("firewall", *[a for p in ports + ["2400"] for a in ("--allow", p)])
        check("a 66th port: one line, usage", r.returncode == 2 and r.stderr.count("\n") == 1
              and "too many ports (65 at most) at 2400" in r.stderr, r.stderr)
        # --add: provision's second table (an sshd's port) as a rule more
        cl("firewall", "--allow", "2222", "--allow", "53/udp", "--allow", "2224")
        whole = nft_rules("inet wisp-firewall")
        cl("firewall", "--allow", "2222", "--allow", "53/udp")
        r = cl("firewall", "--add", "2224")
        got = ask(outside, "tcp", "192.0.2.10", 2224)
        check("firewall --add 2224: it answers, the table the same as one made with it",
              r.returncode == 0 and r.stderr == "" and got.startswith("peer ")
              and whole and nft_rules("inet wisp-firewall") == whole,
              (r.stderr, got, whole, nft_rules("inet wisp-firewall")))
        r = cl("firewall", "--allow", "22", "--add", "23")
        check("--allow and --add: one line, usage", r.returncode == 2 and r.stderr ==
              "containerd-lite: network firewall: --allow or --add, not both\n", r.stderr)
        r = cl("firewall", "--off")
        got = ask(outside, "tcp", "192.0.2.10", 2223)
        check("firewall --off opens the host again", r.returncode == 0 and got.startswith("peer "),
              (r.stderr, got))
        r = cl("firewall", "--add", "2225")
        check("--add without the table: one line, no table made", r.returncode == 1
              and r.stderr.count("\n") == 1 and r.stderr.startswith(
                  "containerd-lite: firewall: adding to table inet wisp-firewall: ")
              and nft_rules("inet wisp-firewall") is None, r.stderr)
    finally:
        for s in srvs:
            s.kill()
            s.wait()
        subprocess.run(outside_route + ["del", "10.88.0.0/16"])


SINK = r"""
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
n = 0
while True:
    b = c.recv(65536)
    if not b:
        break
    n += len(b)
c.sendall(str(n).encode())
c.close()
"""

SOURCE = r"""
import socket, sys, time
host, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, port), timeout=30)
t0 = time.monotonic()
s.sendall(bytes(size))
s.shutdown(socket.SHUT_WR)
got = s.recv(100).decode()
print(got, time.monotonic() - t0)
"""


def transfer(src, dst, size):
    """SIZE bytes from SRC's namespace to DST's over TCP; bit/s, from the
    sender's connect to the receiver's count of what arrived."""
    addr = inside(dst, "ip", "-o", "-4", "addr", "show", "eth0").stdout.split()[3].split("/")[0]
    sink = subprocess.Popen(["nsenter", "-t", str(dst.pid), "-n", sys.executable, "-c", SINK, "5001"],
                            stdout=subprocess.PIPE, text=True)
    try:
        sink.stdout.readline()
        out = inside(src, sys.executable, "-c", SOURCE, addr, "5001", str(size)).stdout.split()
    finally:
        sink.kill()
        sink.wait()
    if len(out) != 2 or int(out[0]) != size:
        return 0.0
    return size * 8 / float(out[1])


def tc_show(*args):
    return sh("tc", *args).stdout


def test_bandwidth(lim, free, free2, dead):
    """--egress 20mbit --ingress 40mbit: a tbf on the host's end of lim's veth
    (what it receives), an ifb with a tbf fed by a redirect from that end's
    ingress (what it sends), read back with tc; timed transfers run at the
    limits, each way its own, while two unlimited containers go well past
    them; nothing of it is in lim's namespace; a detach takes the ifb, and
    those of containers gone without one; a failed tc step fails the attach
    and leaves nothing."""
    r = cl("attach", "--egress", "20mbit", "--ingress", "40mbit", "--netns",
           "/proc/%d/ns/net" % lim.pid, "lim")
    check("attach lim --egress 20mbit --ingress 40mbit", r.returncode == 0, r.stderr)
    for p, n in ((free, "free"), (free2, "free2")):
        r = cl("attach", "--netns", "/proc/%d/ns/net" % p.pid, n)
        check("attach %s, no limits" % n, r.returncode == 0, r.stderr)
    names = {ln.split(":")[1].strip().split("@")[0] for ln in links().splitlines()}
    hosts = sorted(n for n in names if n.startswith("wv"))
    ifbs = sorted(n for n in names if re.match(r"wi[0-9a-f]{8}$", n))
    check("one ifb device, for lim only", len(ifbs) == 1 and len(hosts) >= 3, (ifbs, hosts))
    ifb = ifbs[0] if ifbs else "none"
    host = "wv" + ifb[2:]
    q = tc_show("qdisc", "show", "dev", host)
    check("lim's host end: root tbf at 40Mbit (what it receives), an ingress qdisc",
          "qdisc tbf 1: root" in q and "rate 40Mbit" in q and "qdisc ingress ffff:" in q, q)
    f = tc_show("filter", "show", "dev", host, "ingress")
    check("its ingress filter redirects everything to the ifb",
          "mirred (Egress Redirect to device %s)" % ifb in f and "protocol all" in f, f)
    q = tc_show("qdisc", "show", "dev", ifb)
    check("the ifb: root tbf at 20Mbit (what lim sends)", "qdisc tbf 1: root" in q and
          "rate 20Mbit" in q, q)
    r = inside(lim, "tc", "qdisc", "show")
    check("nothing of it in lim's namespace", "tbf" not in r.stdout and "ingress" not in r.stdout and
          "wi" not in inside(lim, "ip", "-o", "link").stdout, r.stdout)
    size = 3000000
    for src, dst, limit, what in ((lim, free, 20e6, "lim sends at its egress limit"),
                                  (free, lim, 40e6, "lim receives at its ingress limit")):
        bps = transfer(src, dst, size)
        check("%s: 3 MB at %.1f Mbit/s (limit %d)" % (what, bps / 1e6, limit / 1e6),
              0.75 * limit <= bps <= 1.05 * limit, bps)
    bps = transfer(free, free2, size)
    check("two unlimited containers: %.0f Mbit/s, well past the limits" % (bps / 1e6), bps > 200e6, bps)
    # A container that ends without its detach (PID 1 deletes it only at its
    # next start): its veth goes with its namespace, its ifb stays until the
    # next attach or detach sweeps it.
    r = cl("attach", "--egress", "1mbit", "--netns", "/proc/%d/ns/net" % dead.pid, "dead")
    gone = sorted(set(re.findall(r"\bwi[0-9a-f]{8}\b", links())) - {ifb})
    dead.kill()
    dead.wait()
    deadline = time.monotonic() + 20
    while "wv" + (gone or ["none"])[0][2:] in links() and time.monotonic() < deadline:
        time.sleep(0.1)
    check("a container gone without a detach: its veth goes, its ifb stays",
          r.returncode == 0 and len(gone) == 1 and "wv" + gone[0][2:] not in links() and
          gone[0] in links(), (r.stderr, gone, links()))
    r = cl("detach", "lim")
    check("detach lim takes its ifb, and the dead one's (the sweep)", r.returncode == 0 and
          not re.search(r"\bwi[0-9a-f]{8}\b", links()), (r.stderr, links()))
    # lo renamed to lim's ifb name: a link that cannot be deleted, so the
    # tc step's first move (a stale ifb away) fails
    before = (link_names(), sorted(os.listdir("/run/wisp/net/wisp0")))
    for cmd in (["set", "lo", "down"], ["set", "lo", "name", ifb]):
        subprocess.run(["ip", "link"] + cmd, check=True)
    try:
        r = cl("attach", "--egress", "20mbit", "--netns", "/proc/%d/ns/net" % lim.pid, "lim")
    finally:
        for cmd in (["set", ifb, "name", "lo"], ["set", "lo", "up"]):
            subprocess.run(["ip", "link"] + cmd, check=True)
    check("a failed tc step: one line naming it, exit 1", r.returncode == 1 and
          r.stderr.startswith("containerd-lite: network wisp0: attach lim: delete link %s: " % ifb)
          and r.stderr.count("\n") == 1, r.stderr)
    check("and it left nothing behind", (link_names(), sorted(os.listdir("/run/wisp/net/wisp0")))
          == before, (before, link_names()))
    for n in ("free", "free2"):
        cl("detach", n)
    r = cl("attach", "--egress", "20mb", "--netns", "/proc/%d/ns/net" % lim.pid, "lim")
    check("--egress 20mb: one line, exit 1", r.returncode == 1 and r.stderr ==
          "containerd-lite: network attach lim: --egress: \"20mb\": not a rate (a whole number and "
          "bit, kbit, mbit or gbit)\n", r.stderr)
    r = cl("detach", "--ingress", "1mbit", "lim")
    check("--ingress is for attach", r.returncode == 2, r.stderr)


def nft_rules(table):
    """The rules of TABLE as Debian's nft reads them back from the kernel."""
    r = sh("nft", "-j", "list", "table", *table.split())
    if r.returncode != 0:
        return None
    return [x["rule"]["expr"] for x in json.loads(r.stdout)["nftables"] if "rule" in x]


def test_churn(c3):
    """200 starts and stops of a container with a published port leave what
    was there before: no veth pair, no lease, no rule more (nft reads the
    table back), and the hosts file as it was."""
    before = (link_names(), sorted(os.listdir("/run/wisp/net/wisp0")), nft_rules("ip wisp-wisp0"),
              open(HOSTS).read(), nft_rules("bridge wisp-wisp0"))
    check("nft reads the network's table back", before[2] is not None and len(before[2]) >= 4,
          before[2])
    bad, addrs = None, set()
    for i in range(200):
        p = holder()
        try:
            r = cl("attach", "--publish", "7000:70", "--netns", "/proc/%d/ns/net" % p.pid, "churn")
            addrs.add(r.stdout.split("/")[0])
            addrs.add(ula(r.stdout.split("/")[0]))
            if i % 50 == 0:  # flows to the host and through it
                inside(p, BUSYBOX, "ping", "-c", "1", "-W", "2", "10.88.0.1")
                inside(p, BUSYBOX, "ping", "-c", "1", "-W", "2", "192.0.2.1")
                inside(p, BUSYBOX, "ping", "-6", "-c", "1", "-W", "2", "2001:db8::1")
            if r.returncode != 0:
                bad = ("attach", i, r.stderr)
            elif i == 0 and len(nft_rules("ip wisp-wisp0")) != len(before[2]) + 3:
                bad = ("the port's two rules and the connection limit", nft_rules("ip wisp-wisp0"))
            r = cl("detach", "churn")
            if r.returncode != 0:
                bad = ("detach", i, r.stderr)
        finally:
            p.kill()
            p.wait()
        if bad:
            break
    after = (link_names(), sorted(os.listdir("/run/wisp/net/wisp0")), nft_rules("ip wisp-wisp0"),
             open(HOSTS).read(), nft_rules("bridge wisp-wisp0"))
    check("200 attach/detach cycles with a published port: no veth, lease, rule or name left",
          not bad and after == before, bad or (before, after))
    left = [ln for a in addrs for ln in flows_of(a)]
    check("nor a conntrack entry of the churned container's address", addrs and not left, left)


def test_teardown(ids):
    for i in ids:
        cl("detach", i)
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        fwd = f.read().strip()
    with open("/proc/sys/net/ipv6/conf/all/forwarding") as f:
        fwd6 = f.read().strip()
    check("the last detach takes the bridge away and turns forwarding off (both families)",
          "wisp0" not in links() and fwd == "0" and fwd6 == "0", (links(), fwd, fwd6))
    check("and the tables", nft_rules("ip wisp-wisp0") is None and nft_rules("ip6 wisp-wisp0") is None
          and nft_rules("bridge wisp-wisp0") is None)


def test_many():
    """A network of 24 containers: each attach is one batch of every lease's
    rules (about 8 KiB a container with IPv6), sent whole; past the 64 KiB
    send buffer libnl leaves a socket, the kernel refused it (EMSGSIZE), and
    a network's eighth or ninth container could not start."""
    net = ["--network", "wmany", "--subnet", "10.77.0.0/24"]
    ps = [holder() for _ in range(24)]
    try:
        failed = [(i, r.stderr) for i, r in ((i, cl("attach", *net, "--netns", "/proc/%d/ns/net" % p.pid,
                                                     "m%d" % i)) for i, p in enumerate(ps))
                  if r.returncode != 0]
        check("24 containers attached to one network", failed == [], failed[:1])
        r = inside(ps[23], BUSYBOX, "ping", "-c", "1", "-W", "5", "10.77.0.2")
        check("the 24th reaches the first", r.returncode == 0, r.stdout + r.stderr)
    finally:
        for i, p in enumerate(ps):
            cl("detach", *net, "m%d" % i)
            p.kill()
            p.wait()
    check("and all gone with their detaches", nft_rules("ip wisp-wmany") is None and "wmany" not in links())


def test_config_subnet():
    """The default network's subnet from /run/wisp/bridge (provisioning's)
    or /etc/wisp/bridge (the image spec's bridge.subnet) when no --subnet
    is given; a bad one is one line naming the file."""
    with open("/run/wisp/bridge", "w") as f:
        f.write("subnet 10.77.0.0/24\n")
    p = holder()
    try:
        r = cl("attach", "--netns", "/proc/%d/ns/net" % p.pid, "cfg")
        check("/run/wisp/bridge's subnet is wisp0's", r.stdout == "10.77.0.2/24 10.77.0.1\n",
              (r.stdout, r.stderr))
        r = cl("detach", "cfg")
        check("detach under it", r.returncode == 0 and "wisp0" not in links(), r.stderr)
        with open("/run/wisp/bridge", "w") as f:
            f.write("subnet 10.77.0.1/24\n")
        r = cl("attach", "--netns", "/proc/%d/ns/net" % p.pid, "cfg")
        check("a bad subnet there: one line naming the file",
              r.returncode == 1 and r.stderr == "containerd-lite: /run/wisp/bridge: network wisp0: "
              "subnet 10.77.0.1/24 has host bits set\n", r.stderr)
    finally:
        os.unlink("/run/wisp/bridge")
        p.kill()
        p.wait()


def test_bad_input(c1):
    ns = "/proc/%d/ns/net" % c1.pid
    cases = [
        (["attach", "--netns", "/etc/passwd", "x"], 1, "containerd-lite: netns /etc/passwd: not a network namespace\n"),
        (["attach", "--netns", "/proc/self/ns/uts", "x"], 1, "containerd-lite: netns /proc/self/ns/uts: not a network namespace\n"),
        (["attach", "--netns", "/nonexistent", "x"], 1, "containerd-lite: netns /nonexistent: No such file or directory\n"),
        (["attach", "--subnet", "10.0.0.1/8", "--netns", ns, "x"], 1, "containerd-lite: network wisp0: subnet 10.0.0.1/8 has host bits set\n"),
        (["attach", "--subnet", "10.0.0.0/31", "--netns", ns, "x"], 1, "containerd-lite: network wisp0: subnet 10.0.0.0/31: the prefix must be 8 to 30\n"),
        (["attach", "--network", "../x", "--netns", ns, "x"], 1, "containerd-lite: network \"../x\": a name is 1-15 of [a-z0-9_-]\n"),
        (["attach", "--bogus", "x"], 2, "containerd-lite: network attach: unknown option --bogus\n"),
        (["attach", "x"], 2, "containerd-lite: network attach: --netns PATH is needed\n"),
        (["attach", "--netns", ns, "a b"], 1, "containerd-lite: network attach: invalid container id \"a b\"\n"),
        (["detach", "x\n1.2.3.4 evil"], 1,
         "containerd-lite: network detach: invalid container id \"x?1.2.3.4 evil\"\n"),
    ]
    before = (link_names(), sorted(os.listdir("/run/wisp/net/wisp0")))
    for args, status, msg in cases:
        r = cl(*args)
        check("bad input %s: exit %d, one line" % (" ".join(args[:3]).replace("\n", "\\n"), status),
              r.returncode == status and r.stderr == msg and r.stdout == "", (r.returncode, r.stderr))
    after = (link_names(), sorted(os.listdir("/run/wisp/net/wisp0")))
    check("bad input left nothing behind", after == before, (before, after))


def inner():
    if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWNET) != 0:
        print("FAIL net: unshare(CLONE_NEWNET): errno %d" % ctypes.get_errno())
        return 1
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run"], check=True)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    # An uplink with a default route and an MTU of its own, as a host has;
    # its other end in "outside", a namespace that knows only 192.0.2.0/24.
    outside = holder()
    for cmd in (["link", "add", "up0", "mtu", "1400", "type", "veth", "peer", "name", "up0p"],
                ["link", "set", "up0p", "netns", str(outside.pid)], ["link", "set", "up0", "up"],
                ["addr", "add", "192.0.2.10/24", "dev", "up0"]):
        subprocess.run(["ip"] + cmd, check=True)
    for cmd in (["link", "set", "up0p", "up"], ["addr", "add", "192.0.2.1/24", "dev", "up0p"]):
        subprocess.run(["nsenter", "-t", str(outside.pid), "-n", "ip"] + cmd, check=True)
    subprocess.run(["ip", "route", "add", "default", "via", "192.0.2.1"], check=True)
    # IPv6 too: 2001:db8::10 here, 2001:db8::1 outside, which has no route to the ULA
    subprocess.run(["ip", "addr", "add", "2001:db8::10/64", "dev", "up0", "nodad"], check=True)
    subprocess.run(["nsenter", "-t", str(outside.pid), "-n", "ip", "addr", "add", "2001:db8::1/64",
                    "dev", "up0p", "nodad"], check=True)
    subprocess.run(["ip", "-6", "route", "add", "default", "via", "2001:db8::1"], check=True)
    ps = [holder() for _ in range(16)] + [outside]
    try:
        test_attach(ps[0], ps[1], 1400)
        test_ipv6(ps[0], ps[1], outside)
        test_nat(ps[0])
        test_l2_pinning(ps[0], ps[1])
        test_neigh_flood(ps[0])
        test_restart_and_detach(ps[0], ps[2])
        test_stale_and_hook(ps[1], ps[3], ps[4])
        test_bad_input(ps[0])
        test_ports(ps[5], ps[6], ps[2], outside)
        test_loopback_hole(ps[2])
        test_metadata(ps[2], outside)
        test_metadata_moved(ps[2], outside)
        test_conntrack(ps[7], ps[8], ps[9], outside)
        test_ct_limit(ps[15], outside)
        test_networks(ps[5], ps[2], ps[14], outside)
        test_firewall(ps[5], ps[2], ps[14], outside)
        test_bandwidth(ps[10], ps[11], ps[12], ps[13])
        test_churn(ps[2])
        test_many()
        test_teardown(["c3", "c4", "c6"])
        test_config_subnet()
    finally:
        for p in ps:
            p.kill()
            p.wait()
    return check.status("net")


if __name__ == "__main__":
    sys.exit(main_as_root("net", inner, needs=(CL, BUSYBOX), hint="make"))
