"""Supervision test (issue 3): one boot of a test image with extra units.

Builds build/tests/supervise.img from image-builder/wisp.yaml plus the
units below (the default image stays as it is), boots it under TCG and
checks through the console: restarts with growing delays, restart count
and last exit, a dependant waiting for a healthy dependency, a oneshot
gating its dependant, 10 000 orphans leaving no zombie, memory.max
killing a hog while the rest lives, timestamped and rotated log files,
user switching, a unit ignoring SIGTERM killed after its stop_timeout
(by `wispctl stop` when wispctl is in the image, and at shutdown), and
an orderly poweroff within the shutdown bound.
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from wispvm import VM, build_test_image, check, run_test, wait_sh  # noqa: E402

UNITS = r"""  - name: crasher
    command: echo "crash $(date +%s)"; exit 3
    restart: always
    restart_delay: {initial: 200ms, max: 3200ms}
  - name: gate
    kind: oneshot
    command: sleep 3; touch /run/gate-done
  - name: gated
    command: test -f /run/gate-done && echo gate-ok > /run/gated; exec sleep 100000
    depends_on: [gate]
  - name: sick
    command: [sleep, "100000"]
    healthcheck: {command: test -f /run/ok, interval: 1s, timeout: 2s, retries: 1}
  - name: needy
    command: [sleep, "100000"]
    depends_on:
      sick: {condition: healthy}
  - name: orphans
    kind: oneshot
    command: i=0; while [ $i -lt 10000 ]; do ( true & ); i=$((i+1)); done
  - name: hog
    command: [dd, if=/dev/zero, of=/dev/null, bs=64M, count=1]
    resources: {memory_max: 16M, pids_max: 20, cpu_weight: 50, cpu_max: "0.5"}
  - name: logger
    command: yes "a log line that is long enough to fill a megabyte quickly, 0123456789" | head -n 20000; exec sleep 100000
  - name: whoami
    kind: oneshot
    user: nobody
    command: [id]
  - name: flood
    command: [yes, "flood 0123456789 0123456789 0123456789 0123456789 0123456789"]
  - name: stubborn
    command: trap "" TERM; while :; do sleep 1; done
    stop_timeout: 2s
  - name: broken
    command: x
    colour: red
  - name: orphaned-dep
    command: x
    depends_on: [broken]
"""


def stamp(line):
    m = re.match(r"\[\s*([0-9.]+)\]", line)
    return float(m.group(1)) if m else None


def restarts(vm):
    # Starts of crasher must be further and further apart.
    wait_sh(vm, "dmesg | grep -c 'crasher restarts in 3.200 s'", lambda rc, o: o.strip() != "0",
            "crasher reached the 3.2 s restart delay", 60)
    lines = vm.dmesg("init: crasher (started|exited|restarts in)")
    # The delays init announces double; the kernel log's timestamps show that
    # each restart really waited at least that long (under TCG, often more).
    delays = [float(m.group(1)) for m in
              (re.search(r"restarts in ([0-9.]+) s", l) for l in lines) if m]
    gaps, ended = [], None
    for l in lines:
        if "exited" in l:
            ended = stamp(l)
        elif "started" in l and ended is not None:
            gaps.append(stamp(l) - ended)
    check(delays[:5] == [0.2, 0.4, 0.8, 1.6, 3.2],
          "crasher's restart delays double: %s" % delays[:6])
    check(len(gaps) >= 4 and all(g >= d - 0.01 for g, d in zip(gaps, delays)),
          "and the log's timestamps agree: %s" % ", ".join("%.2f" % g for g in gaps))
    last = [l for l in lines if "restarts in" in l][-1]
    m = re.search(r"restarts so far (\d+), last exit status 3", last)
    check(m and int(m.group(1)) >= 4, "restart count and last exit logged: %r" % last)
    # The pid column and the last exit are separate columns, whatever the state.
    out = wait_sh(vm, "wispctl ps 2>&1 | grep '^crasher '",
                  lambda rc, o: rc == 0 and re.search(r"\s(\d+)\s+exit 3\b", o),
                  "wispctl ps has a row for crasher with its last exit", 30)
    row = out.strip().splitlines()[0]
    print("  wispctl ps: %s" % row.strip())
    m = re.search(r"\s(\d+)\s+exit 3\b", row)
    check(m and int(m.group(1)) >= 4, "wispctl ps shows crasher's restart count and last exit")


def health(vm):
    check(vm.dmesg("init: needy waits for sick") and not vm.dmesg("init: needy started"),
          "needy waits while sick has not passed its health check")
    vm.sh("touch /run/ok")
    wait_sh(vm, "dmesg | grep -c 'init: needy started'", lambda rc, o: o.strip() == "1",
            "needy started, once", 20)
    check(vm.dmesg("init: sick is healthy"), "needy started once sick became healthy")
    rc, out = vm.sh("wispctl ps 2>&1 | grep -E '^(sick|needy) '")
    rows = out.strip().splitlines()
    print("  wispctl ps:\n    " + "\n    ".join(r.strip() for r in rows))
    check(rc == 0 and any(r.startswith("sick") and "healthy" in r for r in rows),
          "wispctl ps shows sick healthy")


def oneshot(vm):
    out = wait_sh(vm, "cat /run/gated", lambda rc, o: rc == 0, "gated wrote /run/gated", 30)
    check(out.strip() == "gate-ok", "gated found the oneshot's result")
    gate = stamp(vm.dmesg("init: gate exited with status 0")[0])
    gated = stamp(vm.dmesg("init: gated started")[0])
    crash = stamp(vm.dmesg("init: crasher started")[0])
    check(gate <= gated and crash < gate,
          "the oneshot gated its dependant only (crasher %.2f, gate done %.2f, gated %.2f)"
          % (crash, gate, gated))


def orphans(vm):
    # 10 000 forks under TCG: about 2 min alone, several times that on a
    # loaded 2-core host (two QEMUs and builds): the bound is for a hang
    wait_sh(vm, "dmesg | grep -c 'init: orphans exited with status 0'",
            lambda rc, o: o.strip() == "1", "the orphans oneshot exited with status 0", 600)
    wait_sh(vm, "cat /proc/[0-9]*/stat 2>/dev/null | awk '$3==\"Z\"' | wc -l",
            lambda rc, o: o.strip() == "0", "10 000 orphans left no zombie", 10)


def oom(vm):
    wait_sh(vm, "dmesg | grep -c 'init: hog killed by signal 9'", lambda rc, o: o.strip() == "1",
            "init: hog killed by signal 9, once", 30)
    _, out = vm.sh("cat /sys/fs/cgroup/wisp/hog/memory.events")
    check(re.search(r"oom_kill [1-9]", out), "memory.max killed the hog (%s)"
          % " ".join(out.split()))
    _, out = vm.sh("cat /sys/fs/cgroup/wisp/hog/cpu.max /sys/fs/cgroup/wisp/hog/pids.max")
    check(out.split() == ["50000", "100000", "20"], "cpu.max and pids.max set: %r" % out.split())
    rc, out = vm.sh("wispctl ps")
    check(rc == 0 and re.search(r"(?m)^logger\s+service\s+running\b", out),
          "init answers and the other units survived (logger running)")
    _, out = vm.sh("cat /proc/1/cgroup; cat /sys/fs/cgroup/wisp/sick/cgroup.procs | wc -l")
    check("0::/init" in out, "init lives in its own leaf cgroup")


def logs(vm):
    out = wait_sh(vm, "ls /var/log/wisp/", lambda rc, o: "logger.log.1" in o,
                  "logger's log rotated (logger.log.1)", 60)
    print("  /var/log/wisp: %s" % " ".join(out.split()))
    # logger goes on writing: a file renamed by a rotation between the shell's glob and
    # ls's stat is an error line on stderr ("No such file"), not a size
    _, out = vm.sh("ls -l /var/log/wisp/logger.log* 2>/dev/null | awk '{print $5}'")
    sizes = [int(s) for s in out.split() if s.isdigit()]
    check(sizes and max(sizes) <= 1 << 20, "log files stay within 1 MiB: %s" % sizes)
    _, out = vm.sh("head -n 1 /var/log/wisp/logger.log.1")
    check(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z a log line", out.strip()),
          "log lines are timestamped: %r" % out.strip()[:60])
    _, out = vm.sh("cat /var/log/wisp/whoami.log")
    check("uid=65534" in out, "user: nobody ran as uid 65534: %r" % out.strip())
    _, out = vm.sh("cat /var/log/wisp/crasher.log | tail -n 1")
    check(re.search(r"Z crash \d+", out), "crasher's output is in its log")


def flood(vm):
    """A unit writing as fast as it can must not stall init; its logs stay bounded."""
    for i in range(3):
        t0 = time.monotonic()
        rc, out = vm.sh("wispctl ps >/dev/null && echo served", timeout=30)
        took = time.monotonic() - t0
        # sh's 30 s is the bound (a stalled init); not a performance claim.
        check(rc == 0 and "served" in out,
              "init answers wispctl while flood writes (%.1f s)" % took)
    # One listing gives names and sizes together. A rotation renames .1 to .2
    # and then the log to .1, so a listing can fall between the two: list again
    # until the three files are seen at once (never more files or bigger ones).
    for _ in range(10):
        _, out = vm.sh("ls -l /var/log/wisp/ | awk '$9 ~ /^flood/ {print $9, $5}'")
        # only awk's "NAME SIZE" lines: ls says on stderr (which sh's output holds) that
        # a file it listed was renamed before its stat, "ls: .../flood.log.1: No such
        # file or directory" (a CI run read that line here)
        files = dict(l.split() for l in out.splitlines() if re.fullmatch(r"flood\S* \d+", l.strip()))
        sizes = [int(v) for v in files.values()]
        check(len(files) <= 3 and max(sizes, default=0) <= 1 << 20,
              "flood's logs stay within 3 files of at most 1 MiB: %s" % files)
        if sorted(files) == ["flood.log", "flood.log.1", "flood.log.2"]:
            break
    check(sorted(files) == ["flood.log", "flood.log.1", "flood.log.2"],
          "flood's logs rotate through flood.log, .1 and .2: %s" % files)
    rc, out = vm.sh("wispctl stop flood 2>&1")
    check(rc == 0, "wispctl stop flood: %r" % out.strip()[:100])


def broken(vm):
    check(vm.dmesg(r'image.yaml:[0-9]+:[0-9]+: service "broken": unknown field'),
          "a bad declaration is reported with file:line:col")
    check(vm.dmesg(r'image.yaml:[0-9]+:[0-9]+: service "orphaned-dep": depends on "broken"'),
          "its dependant is reported and not started")


def stubborn(vm):
    rc, out = vm.sh("wispctl stop stubborn 2>&1")
    check(rc == 0, "wispctl stop stubborn accepted: %r" % out.strip()[:200])
    wait_sh(vm, "dmesg | grep -c 'init: stubborn killed by signal 9'",
            lambda rc, o: o.strip() == "1", "init: stubborn killed by signal 9, once", 15)
    lines = vm.dmesg("init: stubborn (did not stop|killed)")
    check(any("did not stop within 2.000 s" in l for l in lines),
          "wispctl stop: stubborn ignored SIGTERM and was killed after 2 s")
    vm.sh("wispctl start stubborn")
    wait_sh(vm, "dmesg | grep -c 'init: stubborn started'", lambda rc, o: o.strip() == "2",
            "wispctl start: stubborn started again", 15)
    # Its shell must ignore SIGTERM before the shutdown sends it: SigIgn's
    # bit 14 (SIGTERM) in the unit's shell.
    wait_sh(vm, "for p in $(cat /sys/fs/cgroup/wisp/stubborn/cgroup.procs); do"
            " awk '/^SigIgn:/ {print $2}' /proc/$p/status; done",
            lambda rc, o: any(int(w, 16) & (1 << 14) for w in re.findall(r"\b[0-9a-f]{16}\b", o)),
            "stubborn's shell ignores SIGTERM (SigIgn bit 14)", 15)
    return True


def shutdown(vm, version):
    vm.send("poweroff\n")
    t0 = time.monotonic()
    vm.expect(r"init: stubborn did not stop within 2.000 s: SIGKILL", 30)
    vm.expect(r"init: unmounted /var", 30)
    vm.expect(r"init: reached shutdown target: poweroff", 30)
    status = vm.wait_exit(30)
    took = time.monotonic() - t0
    check(status == 0 and took < 20, "poweroff killed stubborn after its stop_timeout and "
          "ended QEMU in %.1f s" % took)


def main():
    version = os.environ.get("WISP_VERSION", "")
    image = build_test_image("supervise", services_yaml=UNITS, decl_errors=True)
    with VM(image, name="supervise", mem=256) as vm:
        vm.boot()
        broken(vm)
        oneshot(vm)
        health(vm)
        restarts(vm)
        oom(vm)
        logs(vm)
        orphans(vm)
        flood(vm)
        stubborn(vm)
        shutdown(vm, version)


if __name__ == "__main__":
    sys.exit(run_test("supervise", main))
