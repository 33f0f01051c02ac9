#!/usr/bin/env python3
"""`ctr run` with containerd-lite against Debian's runc and crun as the
runtime of containerd's runc v2 shim (issue 16 point 6).

Debian's containerd 1.6, set up as tests/containerd-lite/ctr.py does (a
private mount namespace, cgroup2, a temporary root), the Debian minbase
image; N runs of each runtime interleaved (WISP_BENCH_RUNS, default 20):
`ctr run --rm --cpu-shares 0 --runc-binary RUNTIME IMAGE ID /bin/true`,
the wall time of the whole ctr command (the shim's start, create, start,
wait, delete). Prints each runtime's median and containerd-lite's ratio
to each peer. A runtime that cannot run the container on this host fails
the bench with its error (Debian's crun insists on raising
RLIMIT_MEMLOCK for its device filter, which these build machines refuse:
bench/runtime.py removes the device rules for it; ctr's spec cannot be
edited that way, so crun is reported as failing rather than left out
silently unless WISP_BENCH_NO_CRUN=1 names the omission).

Needs root.
    B=build python3 bench/ctr_run.py
"""
import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(HERE, "..", "tests", "containerd-lite"))
sys.path.append(os.path.join(HERE, "..", "tests", "system"))
import ctr as T  # noqa: E402
from hostroot import main_as_root  # noqa: E402

B = os.environ.get("B", "build")
CL = os.path.abspath(os.path.join(B, "containerd-lite", "containerd-lite"))
RUNS = int(os.environ.get("WISP_BENCH_RUNS", "20"))


def runtimes():
    rts = [("containerd-lite", CL), ("runc", shutil.which("runc"))]
    if os.environ.get("WISP_BENCH_NO_CRUN") != "1":
        rts.append(("crun", shutil.which("crun")))
    return rts


def one(ctr, exe, i):
    t = time.monotonic()
    r = ctr("run", "--rm", "--cpu-shares", "0", "--runc-binary", exe, T.IMAGE,
            "bench-%d" % i, "/bin/true")
    dt = (time.monotonic() - t) * 1000
    if r.returncode != 0:
        raise RuntimeError("%s: ctr run failed: %s" % (exe, r.stderr.strip()[-300:]))
    return dt


def inner():
    T.host_mounts()
    top = tempfile.mkdtemp(prefix="wisp-ctr-bench-")
    proc = None
    try:
        proc, ctr = T.start_containerd(top)
        r = ctr("image", "import", "--index-name", T.IMAGE, T.ARCHIVE, timeout=300)
        if r.returncode != 0:
            raise RuntimeError("image import: " + r.stderr.strip())
        rts = runtimes()
        times = {name: [] for name, _ in rts}
        for name, exe in rts:  # one warm-up each: page cache, the shim's first start
            one(ctr, exe, 0)
        for i in range(RUNS):
            for name, exe in rts:
                times[name].append(one(ctr, exe, i + 1))
        med = {name: statistics.median(v) for name, v in times.items()}
        for name, _ in rts:
            print("ctr_run_ms %s %.1f (median of %d)" % (name, med[name], RUNS))
        for name, _ in rts[1:]:
            print("ctr_run_ratio containerd-lite/%s %.2f" % (name, med["containerd-lite"] / med[name]))
        if os.environ.get("WISP_BENCH_NO_CRUN") == "1":
            print("ctr_run: crun left out (WISP_BENCH_NO_CRUN=1)")
        return 0
    except RuntimeError as e:
        print("ctr_run FAILED: %s" % e)
        return 1
    finally:
        if proc:
            T.stop_containerd(proc)
        # A runtime that failed half-way may leave its container's cgroup.
        for d, _, _ in sorted(os.walk("/sys/fs/cgroup/" + T.NS), key=lambda w: -len(w[0])):
            os.rmdir(d)
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main_as_root("ctr_run", inner, needs=(CL, T.ARCHIVE), hint="make && make debian-image"))
