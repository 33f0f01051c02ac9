"""Control socket, wispctl and the power button (issue 3: wispctl, shutdown).

A test image (build/tests/control.img) adds a ticking service and the
test-only helper /bin/ctlprobe (tests/system/ctlprobe.c), which sends raw
bytes to the control socket and can connect as another uid: what wispctl
itself cannot do. Checks: ps/status/start/stop/restart/logs -n/logs -f,
--json, errors; a non-root client is refused; garbage is rejected and init
keeps serving; QEMU's system_powerdown ends in an orderly poweroff (QEMU
exits 0) with /var clean at the next boot; a console stopped by Ctrl-S (ixon)
with PID 1's lines waiting for it does not hold the poweroff: QEMU exits, and
at the next boot /var is clean with a file written just before; the time from
`wispctl poweroff` to QEMU's exit is printed (bench/init_numbers.py measures it).
"""

import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from wispvm import (  # noqa: E402
    BANNER, BOOT_TIMEOUT, VM, BootError, build_test_image, check, poll, run_test, wait_sh)

# A bound that catches a hang, not a performance claim (bench/init_numbers.py
# times the shutdown): two TCG guests and a build may share the 2 cores.
POWERDOWN_LIMIT = 60
STALL_LIMIT = 240  # 100 restarts of ticker, then the poweroff

SERVICES = """\
  - name: ticker
    command: 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 1; done'
    restart: always
"""

PS = "5750010100000000"  # a valid "ps" request: magic WP, version 1, type 1, no payload


def field(out, name):
    m = re.search(r"(?m)^%s:\s+(\S+)" % name, out)
    return m.group(1) if m else None


def ps_and_json(vm):
    # The units start once provisioning has ended (VM.boot waits for that): hello, a
    # program that runs once, may still be running.
    out = wait_sh(vm, "wispctl ps",
                  lambda rc, o: re.search(r"(?m)^hello\s+service\s+done\b", o),
                  "wispctl ps: hello has run")
    check(re.search(r"(?m)^ticker\s+service\s+running\s+\d+", out),
          "wispctl ps lists ticker running with a pid")
    check(re.search(r"(?m)^hello\s+service\s+done\s+-\s+\S+\s+0\s+exit 0", out),
          "wispctl ps shows hello done with its last exit status")
    rc, out = vm.sh("wispctl --json ps")
    units = json.loads(out.strip())
    names = {u["name"]: u for u in units}
    check(rc == 0 and "ticker" in names and names["ticker"]["pid"] > 0
          and names["hello"]["last_exit"] == {"code": 0},
          "wispctl --json ps parses (%d units)" % len(units))
    rc, out = vm.sh("wispctl --json status ticker")
    check(rc == 0 and json.loads(out.strip())["state"] == "running",
          "wispctl --json status parses")
    # Options after the command, as docker and kubectl take them.
    rc, out = vm.sh("wispctl ps --format json")
    check(rc == 0 and "ticker" in {u["name"] for u in json.loads(out.strip())},
          "wispctl ps --format json parses")


def status_json(vm, name):
    """wispctl --json status NAME as a dict; None when it failed or init's
    console lines broke the JSON (a poll then asks again)."""
    rc, out = vm.sh("wispctl --json status " + name)
    try:
        return json.loads(out.strip()) if rc == 0 else None
    except ValueError:
        return None


def actions(vm):
    rc, out = vm.sh("wispctl status ticker")
    pid1 = field(out, "pid")
    check(rc == 0 and field(out, "state") == "running" and pid1, "status ticker: running")
    rc, out = vm.sh("wispctl stop ticker && wispctl status ticker")
    check(rc == 0 and field(out, "state") in ("stopped", "stopping"),
          "stop ticker: %s" % field(out, "state"))
    wait_sh(vm, "wispctl status ticker", lambda rc, o: field(o, "state") == "stopped",
            "stop ticker: stopped")
    # An absence: ten times restart: always's first delay (100 ms) without a
    # restart, by init's own clock (its uptime is the time in this state).
    st = poll(lambda: status_json(vm, "ticker"), lambda st: st and (
        st["state"] != "stopped" or (st["uptime_ms"] or 0) >= 1000),
        "ticker: 1 s after its stop", 30)
    check(st["state"] == "stopped", "ticker stays stopped for %d ms (no restart after stop)"
          % st["uptime_ms"])
    rc, out = vm.sh("wispctl start ticker")
    check(rc == 0, "start ticker accepted")
    out = wait_sh(vm, "wispctl status ticker",
                  lambda rc, o: field(o, "state") == "running" and field(o, "pid") != pid1,
                  "start ticker: running again with a new pid")
    pid2 = field(out, "pid")
    rc, out = vm.sh("wispctl restart ticker")
    check(rc == 0, "restart ticker accepted")
    wait_sh(vm, "wispctl status ticker",
            lambda rc, o: field(o, "state") == "running" and field(o, "pid") not in (pid2, None),
            "restart ticker: running with a new pid (was %s)" % pid2)


def logs(vm):
    wait_sh(vm, "wispctl logs ticker -n 3 | grep -c tick", lambda rc, o: o.strip() == "3",
            "ticker has logged 3 lines")
    rc, out = vm.sh("wispctl logs ticker -n 3")
    lines = [ln for ln in out.splitlines() if "tick" in ln]
    check(rc == 0 and len(lines) == 3, "logs -n 3 gives 3 lines: %r" % lines)
    vm.sh("wispctl logs ticker -f -n 0 > /tmp/follow & echo $! > /tmp/follow.pid")
    wait_sh(vm, "grep -c tick /tmp/follow", lambda rc, o: o.strip().isdigit() and int(o) >= 2,
            "logs -f follows new lines (2 seen)")
    rc, _ = vm.sh("kill $(cat /tmp/follow.pid)")
    check(rc == 0, "logs -f was still following")
    rc, out = vm.sh("wispctl --json logs ticker -n 2")
    objs = [json.loads(ln) for ln in out.strip().splitlines()]
    check(rc == 0 and len(objs) == 2 and "tick" in objs[0]["line"], "logs --json: NDJSON")
    rc, out = vm.sh("wispctl logs -n 2 ticker --json")
    objs = [json.loads(ln) for ln in out.strip().splitlines()]
    check(rc == 0 and len(objs) == 2, "logs -n 2 ticker --json: options before the name")


def errors(vm):
    rc, out = vm.sh("wispctl status nope")
    check(rc == 1 and 'wispctl: no unit named "nope"' in out, "unknown name: exit 1, one line")
    rc, out = vm.sh("wispctl stop nope")
    check(rc == 1 and "no unit named" in out, "stop of an unknown name: exit 1")
    for cmd in ("wispctl frob", "wispctl status", "wispctl logs ticker -n x",
                "wispctl ps extra", "wispctl status Bad/Name", "wispctl ps --bogus",
                "wispctl ps -n 3"):
        rc, out = vm.sh(cmd)
        check(rc == 2 and out.count("wispctl:") == 1,
              "%s: exit %d, %r" % (cmd, rc, out.strip()))


def hostile_clients(vm):
    rc, out = vm.sh("ctlprobe -u 65534 %s" % PS)
    check("reply 84 permission denied" in out and "eof" in out,
          "a non-root client (uid 65534) is refused and closed: %r" % out.strip())
    # wispctl as that user hears why, however its request and init's refusal cross
    for _ in range(3):
        rc, out = vm.sh("ctlprobe -u 65534 -x /bin/wispctl ps")
        check(rc == 1 and re.search(r"(?m)^wispctl: permission denied: only root may use the"
                                    r" control socket$", out),
              "wispctl as uid 65534: exit 1, the refusal's reason: %r" % out.strip())
    garbage = ["deadbeef", "5750020100000000", "5750010100000005", "5750016300000000",
               "575001020000000501000377", "ffffffffffffffffffffffff"]
    rc, out = vm.sh("ctlprobe -z 6000 %s %s" % (" ".join(garbage), PS))
    errs = re.findall(r"reply 84 (.*)", out)
    check(len(errs) == len(garbage) + 1, "every garbage message gets an error reply: %r" % errs)
    check(any("version 2" in e for e in errs), "a version mismatch is named as such")
    check("reply 81" in out and "reply 83" in out,
          "the same connection still answers a valid request afterwards")
    # An idle client holding a connection does not block anyone: ctlprobe
    # says when its connect() returned (queued ahead of wispctl's, so init
    # takes it first), then is silent for up to 60 s.
    vm.sh("ctlprobe -s 60 > /tmp/idle & echo $! > /tmp/idle.pid")
    wait_sh(vm, "cat /tmp/idle", lambda rc, o: re.search(r"(?m)^connected$", o),
            "an idle client connected")
    rc, out = vm.sh("wispctl ps > /dev/null; echo ps=$?")
    check("ps=0" in out, "init serves others while an idle client is connected")
    rc, out = vm.sh("kill $(cat /tmp/idle.pid) && echo killed; cat /tmp/idle")
    check("killed" in out and not re.search(r"(?m)^(eof|silent)$", out),
          "the idle client was still connected: %r" % out.strip())


def powerdown(vm):
    t0 = time.monotonic()
    reply = vm.qmp("system_powerdown")
    check("return" in reply, "QMP system_powerdown accepted")
    status = vm.wait_exit(POWERDOWN_LIMIT)
    took = time.monotonic() - t0
    check(status == 0, "system_powerdown -> QEMU exit 0 in %.2f s (bound %d s)"
          % (took, POWERDOWN_LIMIT))
    vm.expect(r"init: power button pressed", 1)
    vm.expect(r"reached shutdown target: poweroff", 1)


def clean_boot(vm):
    vm.expect(BANNER, BOOT_TIMEOUT)
    m = vm.expect(r"(\S+): (clean|recovering journal)", 120)
    check(m.group(2) == "clean", "/var clean at the next boot (%s)" % m.group(0))
    vm.boot(banner=False)


def stalled_console(vm):
    """Ctrl-S on the console (a terminal with ixon: the tty stops its output), then,
    typed blind, `dmesg -n 1` (every line of init's is then written to the console by
    PID 1 itself, not relayed from kmsg), 100 restarts of ticker (init logs each: more
    than the tty's 4 KiB of room), a file on /var and a poweroff. Before, init's own
    lines were blocking writes: PID 1 stopped in one, the restarts never ended and
    QEMU never exited."""
    clean_boot(vm)
    rc, out = vm.sh("stty -a")
    check(rc == 0 and re.search(r"(?<![-\w])ixon\b", out), "the console has ixon: %r" % out)
    vm.send("\x13")  # XOFF
    vm.send("dmesg -n 1; for i in $(seq 100); do wispctl restart ticker; done > /dev/null 2>&1;"
            " echo written-before-poweroff > /var/lib/console-stall;"
            " wispctl poweroff > /dev/null 2>&1\n")
    t0 = time.monotonic()
    status = vm.wait_exit(STALL_LIMIT)
    check(status == 0, "100 restarts and a poweroff with the console stopped -> QEMU exit 0"
          " in %.2f s (bound %d s)" % (time.monotonic() - t0, STALL_LIMIT))


def second_boot(vm):
    clean_boot(vm)
    rc, out = vm.sh("cat /var/lib/console-stall")
    check(rc == 0 and "written-before-poweroff" in out,
          "the file written before the stalled console's poweroff is on /var: %r" % out)
    vm.send("wispctl poweroff\n")
    t0 = time.monotonic()
    status = vm.wait_exit(30)
    took = time.monotonic() - t0
    check(status == 0, "wispctl poweroff -> QEMU exit in %.2f s" % took)
    print("  number: wispctl poweroff to QEMU exit: %.2f s" % took, flush=True)


def main():
    image = build_test_image("control", services_yaml=SERVICES, ctlprobe=True)
    with VM(image, name="control", qmp=True) as vm:
        vm.boot()
        ps_and_json(vm)
        actions(vm)
        logs(vm)
        errors(vm)
        hostile_clients(vm)
        powerdown(vm)
        with VM(image, name="control-2", overlay=vm.overlay) as vm2:
            stalled_console(vm2)
        with VM(image, name="control-3", overlay=vm.overlay) as vm3:
            second_boot(vm3)


if __name__ == "__main__":
    sys.exit(run_test("control", main, errors=(BootError, ValueError)))
