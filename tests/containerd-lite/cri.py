#!/usr/bin/python3
"""Kubernetes' runtime interface (CRI) with containerd-lite as the runtime
(issue 16 point 6), as root, with Debian's python3 (python3-grpcio and
python3-grpc-tools: the stubs are generated from cri/runtime.proto, the
part of k8s.io/cri-api runtime.v1 a kubelet uses for a pod).

Debian's containerd 1.6 runs its CRI plugin in a private mount namespace
(hostroot.py) with cgroup2 on /sys/fs/cgroup and a tmpfs on
/run/containerd; its runc v2 shim calls containerd-lite (BinaryName).
The test is the kubelet: a pod sandbox (its pause container: the Debian
minbase image with `sleep infinity` as its command), a container in it
started, its log in CRI's format, exec'd into (the pod's pid namespace:
its pid 1 is the pause process), stopped, removed; the pod stopped and
removed; nothing left in containerd-lite's state.

The build hosts' cgroup v2 has no cpu or memory controller (hybrid
cgroups), and CRI gives every sandbox cpu shares: `disable_cgroup` keeps
CRI from asking for limits these hosts cannot apply (runc and crun refuse
them too); the pod runs on the host's network (CRI's NODE mode: no CNI
plugin). Inside a Wisp guest both are there (docs/kubernetes.md). The
build machines' root also lacks CAP_SYS_RESOURCE, which a sandbox's
oom_score_adj of -998 needs: `restrict_oom_score_adj` keeps it no lower
than containerd's own.

Prints ok/FAIL per check; exits 1 on any failure.
"""
import io
import json
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(HERE, "..", "system"))
from hostroot import main_as_root  # noqa: E402
import ctr as T  # noqa: E402
from harness import Checks, poll  # noqa: E402

CL, ARCHIVE = T.CL, T.ARCHIVE
# `ctr import --base-name B` names each manifest B:TAG, TAG its
# org.opencontainers.image.ref.name ("bookworm" in the Debian archive)
IMAGE = "wisp.test/debian:bookworm"
PAUSE = "wisp.test/pause:1"
NS = "k8s.io"  # CRI's containerd namespace
check = Checks("cri: ")


def stubs(top):
    """runtime_pb2 and runtime_pb2_grpc, generated into TOP."""
    from grpc_tools import protoc
    out = os.path.join(top, "stubs")
    os.makedirs(out)
    if protoc.main(["protoc", "-I" + os.path.join(HERE, "cri"), "--python_out=" + out,
                    "--grpc_python_out=" + out, os.path.join(HERE, "cri", "runtime.proto")]):
        raise RuntimeError("protoc failed on cri/runtime.proto")
    sys.path.insert(0, out)
    import runtime_pb2
    import runtime_pb2_grpc
    return runtime_pb2, runtime_pb2_grpc


def pause_archive(top):
    """The Debian minbase OCI archive with `sleep infinity` as its command
    (the sandbox's pause container) and PAUSE as its name."""
    blobs = {}
    with tarfile.open(ARCHIVE) as t:
        for m in t.getmembers():
            if m.isfile():
                blobs[os.path.normpath(m.name)] = t.extractfile(m).read()

    def blob(desc):
        return blobs[os.path.join("blobs", *desc["digest"].split(":"))]

    def put(obj, media):
        data = json.dumps(obj, separators=(",", ":")).encode()
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[os.path.join("blobs", "sha256", digest[7:])] = data
        return {"mediaType": media, "digest": digest, "size": len(data)}

    index = json.loads(blobs["index.json"])
    manifest = json.loads(blob(index["manifests"][0]))
    config = json.loads(blob(manifest["config"]))
    config.setdefault("config", {}).update({"Entrypoint": None, "Cmd": ["sleep", "infinity"]})
    manifest["config"] = put(config, manifest["config"]["mediaType"])
    desc = put(manifest, "application/vnd.oci.image.manifest.v1+json")
    desc["annotations"] = {"org.opencontainers.image.ref.name": PAUSE.split(":")[1]}
    blobs["index.json"] = json.dumps({"schemaVersion": 2, "manifests": [desc]}).encode()
    path = os.path.join(top, "pause.oci.tar")
    with tarfile.open(path, "w") as t:
        for name, data in sorted(blobs.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return path


def start_containerd(top):
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    for d in ("cni/bin", "cni/net.d", "logs"):
        os.makedirs(os.path.join(top, d))
    return T.start_containerd(top, f'''[{cri}]
  sandbox_image = "{PAUSE}"
  disable_cgroup = true
  disable_apparmor = true
  restrict_oom_score_adj = true
  [{cri}.cni]
    bin_dir = "{top}/cni/bin"
    conf_dir = "{top}/cni/net.d"
  [{cri}.containerd]
    default_runtime_name = "wisp"
    [{cri}.containerd.runtimes.wisp]
      runtime_type = "io.containerd.runc.v2"
      [{cri}.containerd.runtimes.wisp.options]
        BinaryName = "{CL}"
''', NS)


def cl_list():
    r = subprocess.run([CL, "--root", "/run/containerd/runc/" + NS, "list", "-q"],
                       capture_output=True, text=True)
    return r.stdout.split() if r.returncode == 0 else None


class Site:
    """Where containerd runs, as the kubelet sees it: the build host here;
    tests/system/test_node.py has a Wisp guest's. log_dir is containerd's
    path for the pods' logs; read_log(NAME) a log's text ("" while none);
    cl_list() containerd-lite's containers (None if it cannot say);
    shims() the shims serving it."""

    def __init__(self, top):
        self.top = top
        self.log_dir = os.path.join(top, "logs")

    def read_log(self, name):
        path = os.path.join(self.log_dir, name)
        return open(path).read() if os.path.exists(path) else ""

    def cl_list(self):
        return cl_list()

    def shims(self):
        return shims(self.top)


def kubelet(pb, rs, site, image=IMAGE, pause_cmd="sleep infinity"):
    """One pod and one container through their whole life, as a kubelet;
    the pod's pause container runs PAUSE_CMD."""
    v = rs.Version(pb.VersionRequest(version="v1"))
    check("Version: containerd answers CRI v1", v.runtime_name == "containerd" and
          v.runtime_api_version == "v1", v)
    pod = pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name="web", uid="wisp-pod-1", namespace="default"),
        log_directory=site.log_dir,
        linux=pb.LinuxPodSandboxConfig(security_context=pb.LinuxSandboxSecurityContext(
            namespace_options=pb.NamespaceOption(network=pb.NODE, pid=pb.POD, ipc=pb.POD))))
    sid = rs.RunPodSandbox(pb.RunPodSandboxRequest(config=pod)).pod_sandbox_id
    st = rs.PodSandboxStatus(pb.PodSandboxStatusRequest(pod_sandbox_id=sid)).status
    check("RunPodSandbox: the pod is READY", st.state == pb.SANDBOX_READY, st)
    check("RunPodSandbox: its pause container is containerd-lite's",
          sid in (site.cl_list() or []), site.cl_list())
    cfg = pb.ContainerConfig(metadata=pb.ContainerMetadata(name="app"),
                             image=pb.ImageSpec(image=image), log_path="app.log",
                             command=["sh", "-c", "echo hello from the pod; exec sleep 1000"])
    cid = rs.CreateContainer(pb.CreateContainerRequest(
        pod_sandbox_id=sid, config=cfg, sandbox_config=pod)).container_id
    state = lambda: rs.ContainerStatus(pb.ContainerStatusRequest(container_id=cid)).status
    check("CreateContainer: CREATED", state().state == pb.CONTAINER_CREATED, state())
    rs.StartContainer(pb.StartContainerRequest(container_id=cid))
    check("StartContainer: RUNNING", poll(lambda: state().state == pb.CONTAINER_RUNNING), state())
    line = poll(lambda: site.read_log("app.log"))
    check("the container's stdout in its CRI log (TIME stdout F LINE)",
          line and line.split(" ", 1)[1] == "stdout F hello from the pod\n", line)
    r = rs.ExecSync(pb.ExecSyncRequest(container_id=cid, timeout=30, cmd=[
        "sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline; echo; echo to stderr >&2; exit 3"]))
    check("ExecSync: its status, stdout and stderr back", r.exit_code == 3 and
          r.stdout == (pause_cmd + " \n").encode() and r.stderr == b"to stderr\n", r)
    rs.StopContainer(pb.StopContainerRequest(container_id=cid, timeout=10))
    s = state()
    check("StopContainer: EXITED, killed by SIGTERM (143)", s.state == pb.CONTAINER_EXITED and
          s.exit_code == 143, s)
    rs.RemoveContainer(pb.RemoveContainerRequest(container_id=cid))
    check("RemoveContainer: gone from containerd-lite", cid not in (site.cl_list() or [cid]),
          site.cl_list())
    rs.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=sid))
    st = rs.PodSandboxStatus(pb.PodSandboxStatusRequest(pod_sandbox_id=sid)).status
    check("StopPodSandbox: NOTREADY", st.state == pb.SANDBOX_NOTREADY, st)
    rs.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=sid))
    check("RemovePodSandbox: nothing left in containerd-lite's state", site.cl_list() == [],
          site.cl_list())
    check("RemovePodSandbox: its shim is gone", poll(lambda: not site.shims(), 10), site.shims())


def shims(top):
    """The pids of the shims serving this test's containerd."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv[0].endswith(b"containerd-shim-runc-v2") and any(a.startswith(top.encode())
                                                                 for a in argv):
            found.append(int(pid))
    return found


def cleanup(top):
    """After a failure: no container, process or shim outlives the test
    (CRI's containers are in the host's cgroup2 tree, disable_cgroup)."""
    for cid in cl_list() or []:
        subprocess.run([CL, "--root", "/run/containerd/runc/" + NS, "delete", "--force", cid],
                       capture_output=True)
    for pid in shims(top):
        try:
            os.kill(pid, 9)
        except OSError:
            pass


def inner():
    import grpc
    T.host_mounts()
    top = tempfile.mkdtemp(prefix="wisp-cri-")
    proc = None
    try:
        pb, pbg = stubs(top)
        proc, ctr = start_containerd(top)
        for arch, name in ((ARCHIVE, IMAGE), (pause_archive(top), PAUSE)):
            r = ctr("image", "import", "--base-name", name.split(":")[0], arch, timeout=300)
            if not check("image import of %s into %s" % (name, NS), r.returncode == 0, r.stderr):
                return 1
        with grpc.insecure_channel("unix://" + ctr.sock) as ch:
            try:
                kubelet(pb, pbg.RuntimeServiceStub(ch), Site(top))
            except grpc.RpcError as e:
                check("CRI call", False, "%s: %s" % (e.code(), e.details()))
    finally:
        if proc:
            T.stop_containerd(proc)
        if check.failures:  # what containerd said, for whoever reads the failure
            with open(os.path.join(top, "containerd.log")) as f:
                print("".join(f.readlines()[-25:]), flush=True)
            cleanup(top)
        shutil.rmtree(top, ignore_errors=True)
    return check.status("cri")


if __name__ == "__main__":
    sys.exit(main_as_root("cri", inner, needs=(CL, ARCHIVE, shutil.which("containerd") or
                                                 "containerd (package containerd)"),
                          hint="make deps && make debian-image"))
