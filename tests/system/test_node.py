"""A Wisp host as a container node (issue 16 point 6; docs/kubernetes.md), one TCG boot.

The image `node:1` holds Debian's containerd 1.6, its runc v2 shim and ctr
(the build host's package, with the glibc they link) and busybox; the
image's own /etc/wisp declares it as a container with host access
(docs/declarations.md, "Host access"):

  node   privileged, pid: host, network: host, volumes: the host's
         /var/lib/node-containerd as containerd's root and the host's
         /bin/containerd-lite bound as the shim's runtime (read-only);
         its command (/node.sh) moves itself into a child cgroup (its own
         cgroup is the namespace's root, which hands its controllers
         down), starts containerd, imports a busybox OCI archive, and has
         `ctr run --runc-binary /usr/local/bin/containerd-lite` run one
         container to its end and one (`sleeper`, 64 MiB memory limit)
         detached;
  plain  a busybox container with a read-only bind of a host directory and
         nothing else of the above.

Checks: containerd's container ran through the host's containerd-lite and
printed its output (its pid 1 its own command); the detached one runs in a
cgroup below the node's (/containers/node/ctr/...), with its memory limit in the
guest's cgroup v2 tree; Kubernetes' CRI from the build host (cri.py's
kubelet, Python's grpc, through QEMU's hostfwd to containerd's TCP
address): a pod and a container through their whole life; plain reads the
bind, cannot write it, and keeps the defaults (seccomp filter, its own pid
namespace); `wispctl stop node` ends everything containerd started (its
cgroup emptied).
"""

import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from wispvm import (  # noqa: E402
    DIAGNOSE, VM, OciImage, build_test_image, check, free_port, poll, run_test, wait_sh,
    wait_units)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "containerd-lite"))
import cri  # noqa: E402  (its kubelet: the CRI calls and their checks)

B = os.environ.get("B", "build")
OUT = os.path.join(B, "tests", "node")
CL_IN = "/usr/local/bin/containerd-lite"
CRI_PORT = 10010
PAUSE_CMD = "sleep 1000000"

SERVICES = """\
  - name: node
    kind: container
    image: "node:1"
    privileged: true
    pid: host
    network: host
    volumes: [/var/lib/node-containerd:/var/lib/containerd, /run/node-containerd:/run/containerd,
              /var/lib/node-pods:/var/log/pods, "/bin/containerd-lite:%(cl)s:ro"]
  - name: plain
    kind: container
    image: "bb:1"
    network: private
    volumes: ["/etc/wisp:/hostconf:ro"]
    command: [sh, -c, 'grep -E "^(Seccomp|CapEff):" /proc/self/status; echo "pid1=$(cat /proc/1/comm)";
              test -s /hostconf/image.yaml && echo plain: bind read;
              touch /hostconf/x 2>/dev/null && echo plain: wrote || echo plain: ro;
              exec sleep 100000']
""" % {"cl": CL_IN}

# containerd's configuration: its root and state the host's binds; its
# gRPC API (CRI included) also on TCP, for the test's kubelet through
# QEMU's hostfwd (no TLS: a test's loopback only); CRI's runtime
# containerd-lite, its pods' network the node's (no CNI plugin here).
CRI = 'plugins."io.containerd.grpc.v1.cri"'
CONFIG = """\
version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
[grpc]
  address = "/run/containerd/containerd.sock"
  tcp_address = "0.0.0.0:%(port)d"
[debug]
  level = "warn"
[%(cri)s]
  sandbox_image = "wisp.test/pause:bb"
  disable_apparmor = true
  disable_tcp_service = false
  [%(cri)s.containerd]
    default_runtime_name = "wisp"
    [%(cri)s.containerd.runtimes.wisp]
      runtime_type = "io.containerd.runc.v2"
      [%(cri)s.containerd.runtimes.wisp.options]
        BinaryName = "%(cl)s"
""" % {"cri": CRI, "cl": CL_IN, "port": CRI_PORT}

# As a docker-in-docker entrypoint does: the container's own cgroup (the
# root of its namespace) keeps no process, so that it may hand its
# controllers to the cgroups containerd-lite makes for containerd.
NODE_SH = """\
#!/bin/sh
set -e
mkdir -p /sys/fs/cgroup/node
echo $$ > /sys/fs/cgroup/node/cgroup.procs
sed 's/[^ ][^ ]*/+&/g' /sys/fs/cgroup/cgroup.controllers > /sys/fs/cgroup/cgroup.subtree_control
containerd &
i=0
until ctr version >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 1200 ] || { echo "node: containerd did not answer"; exit 1; }
	sleep 0.1
done
echo "node: containerd up"
ctr image import --index-name wisp.test/bb:1 /images/bb.tar
# CRI's images: in containerd's namespace for Kubernetes
# (--base-name: each named NAME:TAG, TAG the archive's ref.name, "bb", and
# nothing else, as CRI wants every name of an image to be one it can parse)
ctr -n k8s.io image import --base-name wisp.test/bb /images/bb.tar
ctr -n k8s.io image import --base-name wisp.test/pause /images/pause.tar
ctr run --rm --runc-binary %(cl)s wisp.test/bb:1 hello \\
	sh -c 'echo "hello-from-containerd pid1=$(cat /proc/1/comm)"'
ctr run -d --memory-limit 67108864 --runc-binary %(cl)s wisp.test/bb:1 sleeper sleep 100001
echo "node: ready"
wait
""" % {"cl": CL_IN}


def glibc_files():
    """The build host's dynamic loader and libc (package libc6), which
    Debian's containerd, shim and ctr link: {path in the image: host path}."""
    out = {}
    for path in ("/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6"):
        out[path.lstrip("/")] = os.path.realpath(path)
    return out


def make_images():
    """bb.tar (busybox) and node.tar (busybox, glibc, containerd, its
    shim, ctr, bb.tar inside, /node.sh); returns their paths."""
    bb = OciImage(os.path.join(OUT, "bb"), "bb", dirs=("etc", "tmp"),
                  applets=("sh", "cat", "echo", "grep", "test", "touch", "sleep", "tr"),
                  files={"etc/passwd": "root:x:0:0:root:/root:/bin/sh\n"})
    bb.config("--config.cmd", "sh")
    bb_tar = bb.tar(os.path.join(OUT, "bb.tar"))
    cmd = []
    for word in PAUSE_CMD.split():
        cmd += ["--config.cmd", word]
    bb.config(*cmd)  # a pod's pause container: it only waits
    pause_tar = bb.tar(os.path.join(OUT, "pause.tar"))
    node = OciImage(os.path.join(OUT, "node"), "node",
                    dirs=("etc/containerd", "tmp", "run", "images", "var/lib/containerd",
                          "usr/bin", "usr/local/bin", "lib64", "lib/x86_64-linux-gnu"),
                    applets=("sh", "mkdir", "sed", "sleep", "cat", "echo"),
                    files={"etc/containerd/config.toml": CONFIG, "node.sh": NODE_SH,
                           CL_IN.lstrip("/"): ""})
    bundle = os.path.join(OUT, "node", "bundle2")
    node.umoci("unpack", "--image", node.ref, bundle)
    root = os.path.join(bundle, "rootfs")
    files = glibc_files()
    for prog in ("containerd", "containerd-shim-runc-v2", "ctr"):
        files["usr/bin/" + prog] = shutil.which(prog) or "/usr/bin/" + prog
    for rel, src in files.items():
        if not os.path.exists(src):
            raise SystemExit("FAIL node: %s missing (package containerd, libc6)" % src)
        shutil.copy(src, os.path.join(root, rel))
    shutil.copy(bb_tar, os.path.join(root, "images", "bb.tar"))
    shutil.copy(pause_tar, os.path.join(root, "images", "pause.tar"))
    os.chmod(os.path.join(root, "node.sh"), 0o755)
    os.chmod(os.path.join(root, "tmp"), 0o1777)
    node.umoci("repack", "--image", node.ref, bundle)
    node.config("--config.cmd", "/node.sh", "--config.env",
                "PATH=/usr/local/bin:/usr/bin:/bin")
    return bb_tar, node.tar(os.path.join(OUT, "node.tar"))


def log_of(vm, name):
    return vm.sh("cat /var/log/wisp/%s.log" % name)[1]


def nested(vm):
    out = wait_sh(vm, "cat /var/log/wisp/node.log", lambda rc, o: "node: ready" in o
                  or "node: containerd did not answer" in o,
                  "node: containerd answered and ran its containers", timeout=600)
    ok = "hello-from-containerd pid1=sh" in out
    check(ok, "containerd's container ran through the host's containerd-lite (its pid 1 its "
          "own command)" + ("" if ok else ": %r" % out[-600:]))
    ok = "node: ready" in out
    check(ok, "the detached container started" + ("" if ok else ": %r" % out[-400:]))
    _, out = vm.sh("for p in $(pidof sleep); do grep -q 100001 /proc/$p/cmdline && "
                   "cat /proc/$p/cgroup; done")
    cg = out.strip().split("::")[-1]
    check(cg.startswith("/containers/node/ctr/"),
          "the detached container's cgroup is below the node's, in the containers' pool: %r" % cg)
    _, mem = vm.sh("cat /sys/fs/cgroup%s/memory.max" % cg)
    check(mem.strip() == "67108864",
          "its memory limit (ctr --memory-limit) is in the guest's cgroup tree: %r" % mem)


def plain(vm):
    out = wait_sh(vm, "cat /var/log/wisp/plain.log", lambda rc, o: "plain: " in o
                  and ("plain: ro" in o or "plain: wrote" in o), "plain started")
    ok = "plain: bind read" in out and "plain: ro" in out
    check(ok, "plain reads its read-only bind of /etc/wisp and cannot write it"
          + ("" if ok else ": %r" % out))
    ok = "Seccomp:\t2" in out and "pid1=sh" in out
    check(ok, "plain keeps the defaults (a seccomp filter, its own pid namespace)"
          + ("" if ok else ": %r" % out))


def stop(vm):
    rc, out = vm.sh("wispctl stop node", timeout=120)
    check(rc == 0, "wispctl stop node: %r" % out)
    # the node's cgroup stays (init made it): its cgroup.procs read, not a missing file's 0
    wait_sh(vm, "echo procs:$(wc -l </sys/fs/cgroup/containers/node/cgroup.procs); "
            "for p in $(pidof sleep containerd); do tr '\\0' ' ' </proc/$p/cmdline; echo; done",
            lambda rc, o: "procs:0" in o and "100001" not in o and "containerd" not in o,
            "stopping node ended containerd and everything it started")


class GuestSite:
    """containerd in the guest's node container, as cri.kubelet() sees it:
    the pods' logs in its /var/log/pods (the guest's /var/lib/node-pods),
    containerd-lite's state for CRI in its /run/containerd/runc/k8s.io (the
    guest's /run/node-containerd/...), its shims host processes (pid: host)."""
    log_dir = "/var/log/pods"

    def __init__(self, vm):
        self.vm = vm

    def read_log(self, name):
        rc, out = self.vm.sh("cat /var/lib/node-pods/%s 2>/dev/null" % name)
        return out if rc == 0 else ""

    def cl_list(self):
        rc, out = self.vm.sh("containerd-lite --root /run/node-containerd/runc/k8s.io list -q")
        return out.split() if rc == 0 else None

    def shims(self):
        _, out = self.vm.sh("for p in $(pidof containerd-shim-runc-v2); do "
                            "grep -q k8s.io /proc/$p/cmdline && echo $p; done")
        return out.split()


def kubelet(vm, port):
    """The build host's CRI client (cri.py: Python's grpc) through QEMU's
    hostfwd to containerd's TCP address in the guest: a pod and a container
    through their whole life, run by the guest's containerd-lite."""
    import grpc
    with tempfile.TemporaryDirectory(prefix="wisp-node-cri-") as top:
        pb, pbg = cri.stubs(top)
        with grpc.insecure_channel("127.0.0.1:%d" % port) as ch:
            rs = pbg.RuntimeServiceStub(ch)

            def version():
                try:
                    return rs.Version(pb.VersionRequest(version="v1"), timeout=10)
                except grpc.RpcError as e:
                    return "no answer: %s" % e.code()
            poll(version, lambda v: not isinstance(v, str),
                 "CRI answers through the hostfwd", 120)
            try:
                cri.kubelet(pb, rs, GuestSite(vm), image="wisp.test/bb:bb", pause_cmd=PAUSE_CMD)
            except grpc.RpcError as e:
                cri.check("CRI call", False, "%s: %s" % (e.code(), e.details()))
    check(cri.check.failures == 0, "the kubelet's CRI calls, each as the checks above say")


def main():
    os.makedirs(OUT, exist_ok=True)
    bb_tar, node_tar = make_images()
    spec = ("images:\n  - {archive: %s, name: 'node:1'}\n"
            "  - {archive: %s, name: 'bb:1'}\n"
            "firewall:\n  allow: [%d/tcp]\n" % (node_tar, bb_tar, CRI_PORT))
    image = build_test_image("node", services_yaml=SERVICES, spec_extra=spec,
                             state_size="512MiB")
    port = free_port()
    nic = "user,hostfwd=tcp:127.0.0.1:%d-:%d" % (port, CRI_PORT)
    with VM(image, name="node", mem=768, disk_size="2G", nic=nic, diagnose=DIAGNOSE) as vm:
        vm.boot()
        wait_units(vm, "node and plain running",
                   lambda u: all(u.get(n, {}).get("state") == "running"
                                 for n in ("node", "plain")), timeout=600)
        plain(vm)
        nested(vm)
        kubelet(vm, port)
        stop(vm)


if __name__ == "__main__":
    sys.exit(run_test("node", main))
