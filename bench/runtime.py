#!/usr/bin/env python3
"""containerd-lite against Debian's crun and runc (issue 4, point 8).

Same busybox bundle for the three runtimes: `containerd-lite spec`'s
config.json (pid, mount, ipc, uts, network namespaces, Docker's default
capabilities and seccomp allowlist, runc's masked and read-only paths),
process /bin/true, cgroupsPath /wisp-bench. The linux.resources.devices
rules are removed for all three: Debian's crun cannot load its BPF device
filter on these build machines (it insists on raising RLIMIT_MEMLOCK).
runc and containerd-lite still attach their default device program (only
runc's default devices allowed) to a bundle without rules.
"containerd-lite (cold)" is timed with its
seccomp cache (ROOT/.seccomp@) removed before each run: libseccomp
compiles the filter every time, as on a first run.
With WISP_BENCH_DEVICES=1 containerd-lite alone is also timed with a
"deny all" device rule: the same program as without rules since the
default policy, so both columns should agree.
With WISP_BENCH_USERNS=1 `run` is also timed, for the three runtimes,
with a user namespace added to the same bundle (container root mapped to
host 100000, 65536 ids, as Wisp's `userns: auto` does) and its own copy
of the rootfs owned by the mapped root, interleaved with the bundle
without one.
With WISP_BENCH_CL_OTHER=PATH a second containerd-lite binary (a build
before a change) is timed too, interleaved with the rest as
"containerd-lite (other)", and the ratio of this build's to it printed.

Two operations, interleaved (cl, crun, runc, cl, ...), N runs each
(WISP_BENCH_RUNS, default 50): `run`, and `create` + `start` +
`delete --force`. For each: median wall time, median CPU time (user +
system of the runtime and the processes it waited for, from wait4), and
printed with ratios to crun and runc. Peak RSS of `run` apart, through
/usr/bin/time (a child of this Python would inherit its high-water mark
at exec): the largest of 5 runs, runtime and its waited-for children.

containerd-lite re-executes itself from a sealed memfd copy for create,
run and exec (docs/containerd-lite.md, Hardening): included.

Needs root. Runs in a private mount namespace with cgroup2 mounted on
/sys/fs/cgroup (the build hosts' cgroups are hybrid).
    B=build python3 bench/runtime.py
"""
import copy
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "system"))
from hostroot import main_as_root  # noqa: E402

B = os.environ.get("B", "build")
# the static musl binary of the image by default; CL_BIN=build/host/containerd-lite for glibc
CL = os.path.abspath(os.environ.get("CL_BIN") or os.path.join(B, "containerd-lite", "containerd-lite"))
BUSYBOX = os.path.abspath(os.path.join(B, "busybox", "busybox"))
RUNS = int(os.environ.get("WISP_BENCH_RUNS", "50"))


def spawn(argv):
    """(wall s, cpu s, status) of one command."""
    devnull = os.open(os.devnull, os.O_RDWR)
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ,
                         file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 0),
                                       (os.POSIX_SPAWN_DUP2, devnull, 1),
                                       (os.POSIX_SPAWN_DUP2, devnull, 2)])
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    os.close(devnull)
    return wall, ru.ru_utime + ru.ru_stime, os.waitstatus_to_exitcode(status)


def op_run(exe, root, bundle, cid):
    return [spawn([exe, "--root", root, "run", "--bundle", bundle, cid])]


def op_lifecycle(exe, root, bundle, cid):
    return [spawn([exe, "--root", root, "create", "--bundle", bundle, cid]),
            spawn([exe, "--root", root, "start", cid]),
            spawn([exe, "--root", root, "delete", "--force", cid])]


def make_bundle(top, name, cfg):
    b = os.path.join(top, name)
    os.makedirs(b)
    with open(os.path.join(b, "config.json"), "w") as f:
        json.dump(cfg, f)
    return b


def make_rootfs(path):
    os.makedirs(os.path.join(path, "bin"))
    shutil.copy(BUSYBOX, os.path.join(path, "bin", "busybox"))
    os.symlink("busybox", os.path.join(path, "bin", "true"))
    os.symlink("busybox", os.path.join(path, "bin", "sh"))
    for d in ("proc", "sys", "dev", "tmp", "etc"):
        os.makedirs(os.path.join(path, d))


def base_config(top):
    subprocess.run([CL, "spec", "--bundle", top], check=True)
    with open(os.path.join(top, "config.json")) as f:
        c = json.load(f)
    os.unlink(os.path.join(top, "config.json"))
    c["root"]["path"] = os.path.join(top, "rootfs")
    c["process"]["args"] = ["/bin/true"]
    c["process"]["terminal"] = False
    c["linux"]["cgroupsPath"] = "/wisp-bench"
    kinds = {n["type"] for n in c["linux"]["namespaces"]}
    for t in ("pid", "mount", "ipc", "uts", "network"):
        if t not in kinds:
            c["linux"]["namespaces"].append({"type": t})
    c["linux"].setdefault("resources", {}).pop("devices", None)
    return c


def measure(runtimes, op, bundles):
    res = {name: [] for name, _ in runtimes}
    for i in range(RUNS):
        for name, exe in runtimes:
            if name.endswith("(cold)"):  # compiles its seccomp filter every time
                shutil.rmtree(os.path.join(ROOTS[name], ".seccomp@"), ignore_errors=True)
            steps = op(exe, ROOTS[name], bundles[name], "b%d" % i)
            if any(s[2] != 0 for s in steps):
                sys.exit("bench: %s %s failed: %s" % (name, op.__name__, steps))
            res[name].append((sum(s[0] for s in steps), sum(s[1] for s in steps)))
    return res


def peak_rss(exe, root, bundle):
    """KiB, the largest of 5 `run`s."""
    out = os.path.join(root + ".rss")
    peak = 0
    for i in range(5):
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out, exe, "--root", root, "run",
                        "--bundle", bundle, "rss%d" % i], check=True, stdout=subprocess.DEVNULL)
        with open(out) as f:
            peak = max(peak, int(f.read().split()[-1]))
    return peak


def report(title, res):
    print("== %s (median of %d, interleaved)" % (title, RUNS))
    med = {n: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v))
           for n, v in res.items()}
    for n, (w, c) in med.items():
        print("  %-24s wall %7.2f ms  cpu %7.2f ms" % (n, w * 1e3, c * 1e3))
    for us in ("containerd-lite", "containerd-lite (cold)"):
        for n in ("crun", "runc", "containerd-lite (other)"):
            if us in med and n in med and not (us.endswith("(cold)") and n.endswith("(other)")):
                print("  %s / %-5s wall %.2fx  cpu %.2fx"
                      % (us, n, med[us][0] / med[n][0], med[us][1] / med[n][1]))
    print(flush=True)


ROOTS = {}


def userns_config(top, cfg):
    """cfg with a user namespace mapping 0 -> 100000 (65536 ids) and a
    rootfs of its own owned by the mapped root."""
    rootfs = os.path.join(top, "rootfs-userns")
    subprocess.run(["cp", "-a", os.path.join(top, "rootfs"), rootfs], check=True)
    subprocess.run(["chown", "-R", "-h", "100000:100000", rootfs], check=True)
    u = copy.deepcopy(cfg)
    u["root"]["path"] = rootfs
    u["linux"]["namespaces"].append({"type": "user"})
    m = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    u["linux"]["uidMappings"], u["linux"]["gidMappings"] = m, copy.deepcopy(m)
    return u


def bench_userns(top, cfg, runtimes):
    """`run` with and without a user namespace, the three runtimes
    interleaved in one measurement."""
    ubundle = make_bundle(top, "userns", userns_config(top, cfg))
    plain = make_bundle(top, "plain", cfg)
    rts, bs = [], {}
    for n, exe in runtimes:
        if n.endswith("(cold)"):
            continue
        for label, b in (("", plain), (" +userns", ubundle)):
            rts.append((n + label, exe))
            bs[n + label] = b
            ROOTS[n + label] = os.path.join(top, (n + label).replace(" ", "_") + "-root")
    res = measure(rts, op_run, bs)
    report("run /bin/true with and without a user namespace", res)
    med = {n: statistics.median(r[0] for r in v) for n, v in res.items()}
    for n, _ in runtimes:
        if n + " +userns" in med:
            print("  %-24s userns / none wall %.2fx" % (n, med[n + " +userns"] / med[n]))
    if "containerd-lite +userns" in med and "crun +userns" in med:
        print("  containerd-lite +userns / crun +userns wall %.2fx"
              % (med["containerd-lite +userns"] / med["crun +userns"]))
    print(flush=True)


def inner():
    if subprocess.run(["stat", "-f", "-c", "%T", "/sys/fs/cgroup"], capture_output=True,
                      text=True).stdout.strip() != "cgroup2fs":
        subprocess.run(["mount", "-t", "cgroup2", "none", "/sys/fs/cgroup"], check=True)
    top = tempfile.mkdtemp(prefix="cl-bench.")
    os.chmod(top, 0o755)
    try:
        make_rootfs(os.path.join(top, "rootfs"))
        cfg = base_config(top)
        runtimes = [("containerd-lite", CL), ("containerd-lite (cold)", CL)]
        other = os.environ.get("WISP_BENCH_CL_OTHER")
        if other:
            runtimes.append(("containerd-lite (other)", os.path.abspath(other)))
        for n in ("crun", "runc"):
            if not shutil.which(n):  # no ratio is a failure, not a shorter table
                sys.exit("runtime.py: %s not found (make deps installs it)" % n)
            runtimes.append((n, shutil.which(n)))
        for n, _ in runtimes:
            ROOTS[n] = os.path.join(top, n + "-root")
        bundle = make_bundle(top, "nodev", cfg)
        bundles = {n: bundle for n, _ in runtimes}
        print("device rules removed from the bundle for all three (Debian's crun cannot load")
        print("its BPF device filter here: it insists on raising RLIMIT_MEMLOCK); runc and")
        print("containerd-lite attach their default device program anyway\n")
        report("run /bin/true", measure(runtimes, op_run, bundles))
        report("create + start + delete --force", measure(runtimes, op_lifecycle, bundles))
        print("== peak RSS of `run` (max of 5; runtime and the processes it waited for)")
        for n, exe in [r for r in runtimes if not r[0].endswith("(cold)")]:
            print("  %-24s %6d KiB" % (n, peak_rss(exe, ROOTS[n], bundle)))
        print(flush=True)
        if os.environ.get("WISP_BENCH_DEVICES") == "1":
            dev = copy.deepcopy(cfg)
            dev["linux"]["resources"]["devices"] = [{"allow": False, "access": "rwm"}]
            ROOTS["containerd-lite+devices"] = os.path.join(top, "cl-dev-root")
            rts = [("containerd-lite", CL), ("containerd-lite+devices", CL)]
            bs = {"containerd-lite": bundle,
                  "containerd-lite+devices": make_bundle(top, "dev", dev)}
            report("run /bin/true, containerd-lite with its BPF device policy",
                   measure(rts, op_run, bs))
        if os.environ.get("WISP_BENCH_USERNS") == "1":
            bench_userns(top, cfg, runtimes)
    finally:
        shutil.rmtree(top, ignore_errors=True)
        try:
            os.rmdir("/sys/fs/cgroup/wisp-bench")
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main_as_root("bench/runtime.py", inner, needs=(CL, BUSYBOX),
                          hint="make containerd-lite busybox"))
