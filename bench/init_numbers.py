"""init's numbers (issues 3 and 11): PID 1's size, its RSS with 50 units
running, and the boot's critical path: from init's start to the first
unit's exec, on a test image with 50 services (TREE/build/tests/bench50.img;
the default image is left alone; the first unit is declared early where the
tree's init knows early units). Several source trees (each already built
with `make`) are measured in one run, boots interleaved, so that a ratio
compares like with like on a loaded host:

    python3 bench/init_numbers.py                      this tree, 3 boots
    python3 bench/init_numbers.py -n 5 /work/wt/before .

Per tree: init_size_bytes, then the medians of first_exec_ms (init's start
to the first unit's exec: that unit is bench/first_exec.c, which prints
CLOCK_BOOTTIME in microseconds as it starts), first_exec_per_kernel_ms (the same
per second of the kernel's own time to init: steadier on a host whose speed
drifts between boots), first_started_log_ms (the banner line
to the first "started" line of the kernel log) and init_rss_kib_50_units;
with two trees, the ratio of the last to the first for each. Every boot
ends with a timed poweroff (host wall clock to QEMU's exit): `wispctl
poweroff` typed on the console for the even boots (0, 2...), QMP's
system_powerdown (the ACPI power button) for the odd ones; medians of
each. The first boot of a tree also prints `wispctl boot` (the boot's
timeline, step by step).
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "system"))
from wispvm import VM, BANNER  # noqa: E402


KEYS = ("first_exec_ms", "first_exec_per_kernel_ms", "first_started_log_ms", "rss_kib")


def has_early(tree):
    """Whether tree's init knows early units (issue 11): its first unit is then
    declared early, as a unit that does not wait for provisioning would be."""
    with open(os.path.join(tree, "init", "lib", "decl.c")) as f:
        return '{"early", field_early}' in f.read()


def build_image(tree):
    """bench50.img from tree's own spec, manifest, image-builder and binaries,
    with this tree's bench/first_exec.c as its first unit."""
    out = os.path.abspath(os.path.join(tree, "build", "tests", "bench50"))
    os.makedirs(out, exist_ok=True)
    probe = os.path.join(out, "first_exec")
    subprocess.run(["musl-gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-static", "-s",
                    "-o", probe, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                              "first_exec.c")], check=True)
    manifest = os.path.join(out, "manifest")
    with open(manifest, "w") as f:
        f.write("include rootfs/manifest\nfile /bin/first_exec %s 0755\n" % probe)
    with open(os.path.join(tree, "image-builder", "wisp.yaml")) as f:
        spec = f.read().replace("name: wisp ", "name: wisp-bench50 ", 1)
    if "manifest: rootfs/manifest" not in spec:
        sys.exit("init_numbers.py: %s's spec names no rootfs/manifest" % tree)
    spec = spec.replace("manifest: rootfs/manifest", "manifest: " + manifest)
    # The first unit declared, before the console; early where the tree's init knows
    # early units.
    first = "  - {name: first, kind: oneshot, command: [/bin/first_exec]%s}\n" % (
        ", early: true" if has_early(tree) else "")
    spec, n = re.subn(r"(?m)^services:.*\n", lambda m: m.group(0) + first, spec, count=1)
    if n != 1:
        sys.exit("init_numbers.py: %s's spec has no services: list" % tree)
    units = "".join("  - {name: s%02d, command: [sleep, '100000'], restart: always}\n" % i
                    for i in range(50))
    path = os.path.join(out, "bench50.yaml")
    with open(path, "w") as f:
        f.write(spec.rstrip("\n") + "\n" + units)
    image = os.path.join(tree, "build", "tests", "bench50.img")
    subprocess.run([os.path.join(tree, "build", "host", "image-builder"), "-C", tree,
                    "--tmpdir", out, "-o", image, path], check=True, stdout=subprocess.DEVNULL)
    return image


def boot(tree, image, i):
    """One boot: {first_exec_ms, first_started_log_ms, rss_kib, poweroff_s or
    powerdown_s[, timeline]}."""
    r = {}
    vm = VM(image, name="bench50-%d-%s" % (i, os.path.basename(os.path.abspath(tree))), mem=256,
            qmp=True)
    try:
        vm.expect(BANNER, 180)
        vm.wait_shell(120)
        vm.sh("dmesg -n 1")
        vm.sh("while [ $(dmesg | grep -c 'init: s[0-9]* started') -lt 50 ]; do sleep 1; done",
              timeout=120)
        _, out = vm.sh("grep VmRSS /proc/1/status")
        r["rss_kib"] = int(out.split()[1])
        out = "\n".join(vm.dmesg("init: started at uptime|init: [a-z0-9]+ started")[:2])
        t = [float(x) for x in re.findall(r"^\[\s*([0-9.]+)\]", out, re.M)]
        r["first_started_log_ms"] = (t[1] - t[0]) * 1000
        _, first = vm.sh("cat /var/log/wisp/first.log")
        out = "\n".join(vm.dmesg("init: started at uptime")) + "\n" + first
        start = float(re.search(r"started at uptime ([0-9.]+) s", out).group(1))
        execd = float(re.search(r"exec at ([0-9.]+) s", out).group(1))
        r["first_exec_ms"] = (execd - start) * 1000
        # The build machines' speed drifts by up to half between boots (shared
        # hosts); the kernel's own time to init, CPU bound under TCG like the path
        # measured, drifts with it: their quotient compares trees more steadily.
        r["first_exec_per_kernel_ms"] = 1000 * (execd - start) / start
        if i == 0:
            _, r["timeline"] = vm.sh("wispctl boot")
        t0 = time.monotonic()
        if i % 2 == 0:
            vm.send("wispctl poweroff\n")
        elif "return" not in vm.qmp("system_powerdown"):
            sys.exit("init_numbers.py: QMP system_powerdown refused")
        if vm.wait_exit(30) != 0:
            sys.exit("init_numbers.py: QEMU did not exit 0 after the poweroff")
        r["poweroff_s" if i % 2 == 0 else "powerdown_s"] = time.monotonic() - t0
    finally:
        vm.close()
    return r


def steps_only(timeline):
    """`wispctl boot`'s lines but those of the services s00..s49."""
    return "\n".join(l for l in timeline.rstrip().splitlines()
                     if not re.search(r"\ss\d\d$", l))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=3, help="boots per tree")
    ap.add_argument("trees", nargs="*", default=["."])
    a = ap.parse_args()
    images = {t: build_image(t) for t in a.trees}
    runs = {t: [] for t in a.trees}
    for i in range(a.n):
        for t in a.trees:
            runs[t].append(boot(t, images[t], i))
    med = {}
    for t in a.trees:
        size = os.path.getsize(os.path.join(t, "build", "init", "init"))
        med[t] = {k: statistics.median(r[k] for r in runs[t])
                  for k in KEYS}
        print("%s: init_size_bytes %d; first unit early: %s" % (t, size, has_early(t)))
        for k, v in med[t].items():
            print("%s: %s %.0f (median of %d; all: %s)" % (
                t, k, v, a.n, " ".join("%.0f" % r[k] for r in runs[t])))
        for k, what in (("poweroff_s", "wispctl_poweroff_to_qemu_exit_s"),
                        ("powerdown_s", "qmp_system_powerdown_to_qemu_exit_s")):
            v = [r[k] for r in runs[t] if k in r]
            print("%s: %s %s" % (t, what, "%.2f (median of %d; all: %s)" % (
                statistics.median(v), len(v), " ".join("%.2f" % x for x in v))
                if v else "not measured (odd boots only: -n 2 or more)"))
        print("%s: wispctl boot (first boot; the 50 services' lines left out):\n%s"
              % (t, steps_only(runs[t][0]["timeline"])))
    if len(a.trees) == 2:
        first, last = a.trees
        for k in KEYS:
            print("%s ratio %s/%s: %.2f" % (k, last, first, med[last][k] / med[first][k]))


if __name__ == "__main__":
    main()
