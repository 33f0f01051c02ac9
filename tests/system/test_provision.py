"""PID 1 and provision apart (issue 11, docs/provisioning.md).

Provision is its own program and its parsers run in an unprivileged
child: whatever happens to either, the boot completes with the units of
ROOT, and the console and `wispctl config` say what failed. Faults come
from real user-data on seeds made by Debian's `cloud-localds`, no test
build:
  1. a good seed (and an empty CD-ROM drive, probed without an I/O error
     on the console): provision's units are declaration files in
     /run/wisp/units (0600 in 0700), the time zone reaches units through
     00-environment.yaml, provision is not resident once done;
  2. bootcmd kills provision with SIGSEGV (`kill -SEGV $PPID`: the parent
     of bootcmd's shell): PID 1 logs it, safe mode runs, the baked unit runs,
     the user-data's unit is not declared;
  3. bootcmd hangs past `wisp.provision_timeout=20`: PID 1 kills
     provision's cgroup (bootcmd with it) at the deadline, safe mode, the
     baked unit runs, `wispctl boot` shows the 20 s;
  4. a user-data past every limit (nine gzip+base64 write_files of 1 MiB of
     zeros: a plan over provision's 8 MiB): the parser child's plan is
     refused whole, one warning names the datasource, nothing of that
     user-data is applied, meta-data's host name, the baked units run.
(A parser child that crashes, hangs or breaks its seccomp filter: the
unit test tests/unit/test_init_plan.c, with faults compiled into that
test binary only.)
"""

import base64
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from wispvm import (  # noqa: E402
    BANNER, BOOT_TIMEOUT, build_test_image, check, direct_vm, run_test, wait_sh)

# Declared in ROOT: runs at every boot whatever provision does; early-say
# starts first, before /var is mounted, and its output must still reach its log;
# early-var, early too, works in /var: it waits for STATE.
BAKED = """\
  - name: baked
    kind: oneshot
    command: 'echo baked-ran > /run/baked'
  - name: early-say
    kind: oneshot
    early: true
    command: 'echo said-early rcu_expedited=$(cat /sys/kernel/rcu_expedited)'
  - name: early-var
    kind: oneshot
    early: true
    working_dir: /var/log
    command: 'pwd > early-var.txt'
"""
UD_UNIT = "wisp:\n  services:\n    - {name: ud-unit, command: 'sleep 1000'}\n"


def seed(tmp, name, user_data, host=None):
    ud = os.path.join(tmp, name + ".user-data")
    md = os.path.join(tmp, name + ".meta-data")
    with open(ud, "w") as f:
        f.write(user_data)
    with open(md, "w") as f:
        f.write("instance-id: iid-%s\nlocal-hostname: %s\n" % (name, host or name))
    out = os.path.join(tmp, name + ".iso")
    subprocess.run(["cloud-localds", out, ud, md], check=True)
    return out


def vm_for(image, name, iso, extra_cmdline="", extra=()):
    """A direct -kernel boot (for extra_cmdline) of image with the seed ISO."""
    return direct_vm(image, extra_cmdline, name="provision-" + name,
                     extra=["-cdrom", iso] + list(extra))


def after_failure(vm, why):
    """The common half of cases 2 and 3: safe mode, the baked unit, the report."""
    vm.expect(r"init: provision " + why + r"[^\n]*; running it in safe mode", 120)
    print("  ok: PID 1 logged: provision " + why + ", running it in safe mode", flush=True)
    vm.expect(r"init: provision --safe done", 120)
    vm.boot(banner=False)
    # The units start once provisioning has ended: the baked one may still be on its way.
    wait_sh(vm, "cat /run/baked", lambda rc, o: "baked-ran" in o, "the unit declared in ROOT ran")
    rc, out = vm.sh("wispctl config")
    check(re.search(r"(?m)^error: provision " + why, out), "wispctl config says what failed")
    check("safe mode" in out, "wispctl config says safe mode ran")
    rc, out = vm.sh("ls /run/wisp/units; wispctl ps")
    check("ud-unit" not in out, "the failed user-data's unit is not declared")


def good(image, tmp):
    iso = seed(tmp, "good", "#cloud-config\ntimezone: EST5EDT\n" + UD_UNIT)
    # and a second CD-ROM drive without a disc: probed, not read
    with vm_for(image, "good", iso, extra=["-drive", "if=ide,index=3,media=cdrom"]) as vm:
        vm.boot(after=r"cloud-init: applied [^\n]*\(\d+ ms\)")
        rc, out = vm.sh("ls /sys/block | grep -c '^sr'; dmesg | grep -c 'I/O error, dev sr'")
        check(out.split()[-2:] == ["2", "0"],
              "two CD-ROM drives, no I/O error from the one without a disc")
        rc, out = vm.sh("stat -c '%a %U %n' /run/wisp/units /run/wisp/units/*.yaml")
        check(re.search(r"(?m)^700 root /run/wisp/units$", out), "/run/wisp/units is 0700")
        files = re.findall(r"(?m)^(\d+) root /run/wisp/units/(\S+)$", out)
        check(files and all(m == "600" for m, _ in files),
              "its declaration files are 0600: " + " ".join(n for _, n in files))
        wait_sh(vm, "cat /var/log/wisp/early-say.log",
                lambda rc, o: re.search(r"(?m)Z said-early rcu_expedited=1$", o),
                "an early unit's output, printed before /var was mounted, is in its log; "
                "RCU grace periods were expedited then (init's boot, init/pid1/rcu.c)")
        rc, out = vm.sh("cat /sys/kernel/rcu_expedited; dmesg | grep -c rcu_expedited")
        check(out.split()[-2:] == ["0", "0"],
              "once the units have started, init gave the setting back, without an error")
        rc, out = vm.sh("wispctl boot")
        steps = dict((w, float(t)) for t, w in re.findall(r"(?m)^\s*[0-9.]+s\s+([0-9.]+)s\s+(.+?)\s*$", out))
        check(steps.get("early-say", 1e9) <= steps.get("STATE: check, grow, mount", 0),
              "wispctl boot: the early unit started before STATE's step: %r" % out)
        check("early-var (waited for STATE)" in out, "wispctl boot: the early unit that works "
              "in /var/log waited for STATE: %r" % out)
        rc, out = vm.sh("cat /var/log/early-var.txt")
        check(out.strip() == "/var/log", "and ran there, on STATE: %r" % out)
        rc, out = vm.sh("cat /run/wisp/units/00-environment.yaml")
        check("TZ=EST5EDT" in out, "the time zone is a declaration: 00-environment.yaml")
        rc, out = vm.sh("wispctl ps; tr '\\0' '\\n' </proc/$(pidof -s sleep)/environ")
        check(re.search(r"(?m)^ud-unit\s+service\s+running", out), "user-data's unit runs")
        check("TZ=EST5EDT" in out, "with TZ in its environment")
        rc, out = vm.sh("ls -l /proc/[0-9]*/exe 2>/dev/null | grep -c wisp/provision")
        check(out.strip().endswith("0"), "provision is not resident once done")


def crash(image, tmp):
    iso = seed(tmp, "crash", "#cloud-config\nbootcmd:\n  - kill -SEGV $PPID\n" + UD_UNIT)
    with vm_for(image, "crash", iso) as vm:
        vm.expect(BANNER, BOOT_TIMEOUT)
        after_failure(vm, r"killed by signal 11")


def hang(image, tmp):
    iso = seed(tmp, "hang", "#cloud-config\nbootcmd:\n  - sleep 1000\n" + UD_UNIT)
    with vm_for(image, "hang", iso, " wisp.provision_timeout=20") as vm:
        vm.expect(BANNER, BOOT_TIMEOUT)
        # The console shell is an early unit: it answers while provision hangs,
        # and the image's other units wait.
        vm.wait_shell(20)
        vm.sh("dmesg -n 1")
        # The shell may answer before STATE is mounted and provision started: polled.
        wait_sh(vm, "ls -l /proc/[0-9]*/exe 2>/dev/null | grep -c wisp/provision",
                lambda rc, o: re.search(r"(?m)^[1-9]", o), "provision running", 20)
        rc, out = vm.sh("echo provisions=$(ls -l /proc/[0-9]*/exe 2>/dev/null | grep -c wisp/provision);"
                        " cat /run/baked 2>&1; wispctl ps")
        check(re.search(r"provisions=[1-9]", out) and "baked-ran" not in out
              and re.search(r"(?m)^console\s+service\s+running", out),
              "during provisioning: the console (early) answers, the baked unit waits: %r"
              % out.strip()[:300])
        after_failure(vm, r"passed its deadline of 20 s")
        rc, out = vm.sh("pidof sleep || echo none")
        check(out.strip().endswith("none"), "the hung bootcmd was killed with provision's cgroup")
        rc, out = vm.sh("wispctl boot")
        m = re.search(r"(?m)^\s*([0-9.]+)s\s+[0-9.]+s\s+provision$", out)
        check(m and 20 <= float(m.group(1)) < 30,
              "wispctl boot: provision took its 20 s deadline (%s)" % (m and m.group(1)))
        check(re.search(r"(?m)^\s*[0-9.]+s\s+[0-9.]+s\s+provision --safe", out),
              "wispctl boot: then provision --safe")


def past_limits(image, tmp):
    zeros = base64.b64encode(gzip.compress(b"\0" * (1 << 20), mtime=0)).decode()
    ud = "#cloud-config\nhostname: from-user-data\nwrite_files:\n"
    ud += "".join("  - {path: /var/fault-%d, encoding: gz+b64, content: %s}\n" % (i, zeros)
                  for i in range(9))
    iso = seed(tmp, "limits", ud, host="meta-host")
    with vm_for(image, "limits", iso) as vm:
        vm.expect(BANNER, BOOT_TIMEOUT)
        vm.expect(r"cloud-init: user-data parser wrote more than 8388608 bytes; user-data of "
                  r"NoCloud \([^)\n]*\) not applied", 120)
        print("  ok: the console names the failure and the datasource", flush=True)
        m = vm.boot(banner=False, after=r"cloud-init: applied ([^\n]*)\(\d+ ms\)")
        check("0 parts, 1 warning" in m.group(1), "nothing applied, one warning")
        rc, out = vm.sh("wispctl config")
        check(re.search(r"warning: user-data parser wrote more than 8388608 bytes; user-data of "
                        r"NoCloud .* not applied", out), "wispctl config says what failed")
        rc, out = vm.sh("hostname; ls /var/fault-0 2>&1; cat /run/baked")
        check(re.search(r"(?m)^meta-host$", out), "the host name is meta-data's")
        check("No such file" in out, "no write_files of the refused user-data")
        check("baked-ran" in out, "the image's baked unit ran")


def body():
    image = build_test_image("provision", services_yaml=BAKED)
    tmp = tempfile.mkdtemp(prefix="wisp-provision-")
    try:
        good(image, tmp)
        crash(image, tmp)
        hang(image, tmp)
        past_limits(image, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(run_test("provision", body))
