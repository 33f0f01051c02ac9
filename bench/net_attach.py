#!/usr/bin/env python3
"""The time to put one container on a bridge with a published port
(issue 13's held-out peer): `containerd-lite network attach --publish
8080:80` against Debian's containernetworking-plugins `bridge` (with
host-local IPAM and ipMasq) followed by `portmap`, called as a CNI
runtime calls them (libcni's chaining: portmap gets the bridge's result as
prevResult and the port in runtimeConfig).

Both run as root in a private network and mount namespace of this script
(a tmpfs on /run; a veth uplink with a default route, as in
tests/containerd-lite/net.py), each on its own bridge and subnet, with
one container attached first (so each bridge exists and the timed attach
is a steady-state one). N rounds (WISP_BENCH_RUNS, default 20), the two
interleaved; each round: a new network namespace (a process of its own,
as a container's), the attach timed (wall time of the process(es)), a
ping from it to its bridge to prove the attach worked, then the detach
(CNI DEL in reverse order), not timed. Prints the medians and Wisp's
ratio (issue 13: at least 5x faster). First it shows both give the same
reachability: a container reaches a namespace behind the uplink (which has
no route back: masquerade), and that namespace reaches the container's
published port, the server seeing the client's own address.

    B=build python3 bench/net_attach.py
"""
import ctypes
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(HERE, "..", "tests", "system"))
from hostroot import main_as_root  # noqa: E402

B = os.environ.get("B", "build")
CL = os.path.abspath(os.environ.get("CL_BIN") or os.path.join(B, "containerd-lite", "containerd-lite"))
BUSYBOX = os.path.abspath(os.path.join(B, "busybox", "busybox"))
CNI = "/usr/lib/cni"
RUNS = int(os.environ.get("WISP_BENCH_RUNS", "20"))
CLONE_NEWNET = 0x40000000
BRIDGE = {"cniVersion": "1.0.0", "name": "bench", "type": "bridge", "bridge": "cni0",
          "isGateway": True, "ipMasq": True,
          "ipam": {"type": "host-local", "subnet": "10.89.0.0/16", "routes": [{"dst": "0.0.0.0/0"}],
                   "dataDir": "/run/cni-ipam"}}
PORTMAP = {"cniVersion": "1.0.0", "name": "bench", "type": "portmap",
           "capabilities": {"portMappings": True}}


def holder():
    """A process in a network namespace of its own."""
    p = subprocess.Popen(["unshare", "-n", "sleep", "600"])
    me = os.readlink("/proc/self/ns/net")
    deadline = time.monotonic() + 10
    while os.readlink("/proc/%d/ns/net" % p.pid) == me:
        if time.monotonic() > deadline:
            raise RuntimeError("unshare -n did not make its namespace")
        time.sleep(0.005)
    return p


def must(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd[:4]), r.returncode,
                                                (r.stderr or r.stdout).strip()[-300:]))
    return r.stdout


def cni(cmd, conf, p, cid):
    env = dict(os.environ, CNI_COMMAND=cmd, CNI_CONTAINERID=cid, CNI_IFNAME="eth0",
               CNI_NETNS="/proc/%d/ns/net" % p.pid, CNI_PATH=CNI)
    return must([os.path.join(CNI, conf["type"])], input=json.dumps(conf), env=env)


def cni_add(p, cid, port):
    res = json.loads(cni("ADD", BRIDGE, p, cid))
    pm = dict(PORTMAP, prevResult=res,
              runtimeConfig={"portMappings": [{"hostPort": port, "containerPort": 80,
                                               "protocol": "tcp"}]})
    cni("ADD", pm, p, cid)
    return pm


def cni_del(p, cid, pm):
    cni("DEL", pm, p, cid)
    cni("DEL", BRIDGE, p, cid)


def wisp_add(p, cid, port):
    must([CL, "network", "attach", "--publish", "%d:80" % port, "--netns",
          "/proc/%d/ns/net" % p.pid, cid])


def wisp_del(p, cid, _):
    must([CL, "network", "detach", cid])


def ping(p, gw):
    must(["nsenter", "-t", str(p.pid), "-n", BUSYBOX, "ping", "-c", "1", "-W", "5", gw])


def uplink(outside):
    """A veth uplink whose far end, 192.0.2.1, is in OUTSIDE's namespace."""
    for cmd in (["link", "set", "lo", "up"],
                ["link", "add", "up0", "type", "veth", "peer", "name", "up0p"],
                ["link", "set", "up0p", "netns", str(outside.pid)],
                ["link", "set", "up0", "up"], ["addr", "add", "192.0.2.10/24", "dev", "up0"],
                ["route", "add", "default", "via", "192.0.2.1"]):
        must(["ip"] + cmd)
    for cmd in (["link", "set", "up0p", "up"], ["addr", "add", "192.0.2.1/24", "dev", "up0p"]):
        must(["nsenter", "-t", str(outside.pid), "-n", "ip"] + cmd)


SERVER = ("import socket\ns = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
          "s.bind(('0.0.0.0', 80))\ns.listen(1)\nprint('ready', flush=True)\nc, peer = s.accept()\n"
          "c.sendall(('peer %s' % peer[0]).encode())\n")
CLIENT = ("import socket, sys\nc = socket.create_connection(('192.0.2.10', int(sys.argv[1])), 5)\n"
          "print(c.recv(100).decode())\n")


def reachable(p, outside, port, gw):
    """The same reachability for both: the container reaches the outside
    (masquerade), and the outside reaches its published port, the server
    seeing the client's own address."""
    must(["nsenter", "-t", str(p.pid), "-n", BUSYBOX, "ping", "-c", "1", "-W", "5", "192.0.2.1"])
    srv = subprocess.Popen(["nsenter", "-t", str(p.pid), "-n", sys.executable, "-c", SERVER],
                           stdout=subprocess.PIPE, text=True)
    try:
        srv.stdout.readline()
        got = must(["nsenter", "-t", str(outside.pid), "-n", sys.executable, "-c", CLIENT,
                    str(port)]).strip()
    finally:
        srv.kill()
        srv.wait()
    if got != "peer 192.0.2.1":
        raise RuntimeError("published port %d from outside: %r" % (port, got))
    return "outside -> %d: %s, container -> outside: ok" % (port, got)


def inner():
    if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWNET) != 0:
        print("net_attach: unshare(CLONE_NEWNET): errno %d" % ctypes.get_errno())
        return 1
    must(["mount", "-t", "tmpfs", "tmpfs", "/run"])
    outside = holder()
    procs = [outside]
    uplink(outside)
    sides = {"wisp": (wisp_add, wisp_del, "10.88.0.1"), "cni": (cni_add, cni_del, "10.89.0.1")}
    times = {k: [] for k in sides}
    try:
        for k, (add, _, gw) in sides.items():  # one each first: the bridges exist
            p = holder()
            procs.append(p)
            port = 9000 if k == "wisp" else 9001
            add(p, "first-" + k, port)
            ping(p, gw)
            print("net_attach: %-4s reachability: %s" % (k, reachable(p, outside, port, gw)))
        for i in range(RUNS):
            for k, (add, rm, gw) in sides.items():
                p = holder()
                cid = "c%d-%s" % (i, k)
                t0 = time.perf_counter()
                extra = add(p, cid, 8080 + (k == "cni"))
                times[k].append((time.perf_counter() - t0) * 1000)
                ping(p, gw)
                rm(p, cid, extra)
                p.kill()
                p.wait()
    finally:
        for p in procs:
            p.kill()
            p.wait()
    w, c = statistics.median(times["wisp"]), statistics.median(times["cni"])
    print("net_attach: %d rounds, attach of one container with a published port (median ms)" % RUNS)
    print("  containerd-lite network attach   %7.1f ms" % w)
    print("  CNI bridge + portmap ADD         %7.1f ms" % c)
    print("  ratio CNI / containerd-lite      %7.1fx" % (c / w))
    return 0


if __name__ == "__main__":
    sys.exit(main_as_root("net_attach", inner, needs=(CL, BUSYBOX, os.path.join(CNI, "bridge")),
                          hint="make; apt-get install containernetworking-plugins"))
