"""Host setup at boot (issue 3: network, hostname, /etc, STATE).

Boot 1 (build/wisp.img on a 2 GiB overlay, QEMU user network): STATE grows
to the disk size; /etc is writable; lo is up; eth0 gets 10.0.2.15 by DHCP
and resolv.conf names 10.0.2.3; the sysctl hardening baseline holds
(docs/hardening.md). After a reboot the /etc write is gone and
STATE keeps its size without growing again. Boot 2 (build/tests/netstatic.img,
a test image with a `network:` file in /etc/wisp): the static addresses,
routes, interface name and name servers are applied, and no DHCP runs.
Boot 3 (a copy of build/wisp.img whose STATE e2fsck -p cannot repair):
reported loudly, not reformatted, mounted read-only on /run/wisp/state,
/var on a tmpfs, and the units still run.
"""

import os
import re
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from wispvm import (  # noqa: E402
    BANNER, BOOT_TIMEOUT, VM, BootError, build_test_image, check, run_test, wait_sh)

DISK = 2 * 1024 ** 3

NETWORK = """\
# Test-only: a static configuration in the netplan v2 subset (docs/network.md).
network:
  version: 2
  ethernets:
    lan:
      match:
        macaddress: "52:54:00:12:34:57"
      set-name: lan0
      addresses: [10.0.2.50/24]
      gateway4: 10.0.2.2
      routes:
        - to: 192.168.77.0/24
          via: 10.0.2.2
      nameservers:
        addresses: [10.0.2.3, 192.0.2.53]
        search: [example.test]
"""


def var_kib(vm):
    rc, out = vm.sh("df -k /var | tail -1")
    return int(out.split()[1])


def storage_log(vm, said):
    """e2fsck's and resize2fs's output is in /run/wisp/storage.log, not on the console (it
    landed in the console shell's line; e2fsck quotes file names a container chose)."""
    check(not re.search(r"(resize2fs|e2fsck) \d+\.\d+\S* \(", vm.buf),
          "no banner of resize2fs or e2fsck on the console (before the cat below)")
    rc, out = vm.sh("cat /run/wisp/storage.log")
    check(rc == 0 and re.search(said, out), "/run/wisp/storage.log has %r: %r"
          % (said, out.strip()[-200:]))


def first_boot(vm):
    vm.boot()
    kib = var_kib(vm)
    # 2 GiB disk - 1 (BIOS boot) - 32 (ESP) - 2 x 64 (ROOT) - 2 (alignment, GPT) MiB, less ext4's own.
    check(kib > 1700 * 1024, "STATE grew to the disk: /var has %d MiB" % (kib // 1024))
    storage_log(vm, r"The filesystem on /dev/vda5 is now \d+ \(4k\) blocks long")
    rc, out = vm.sh("echo probe > /etc/wisp-probe && cat /etc/wisp-probe")
    check(rc == 0 and "probe" in out, "/etc is writable")
    rc, out = vm.sh("grep ' /etc ' /proc/mounts")
    check(out.startswith("overlay /etc overlay"), "/etc is an overlay: %r" % out.strip())
    rc, out = vm.sh("grep 127.0.1.1 /etc/hosts; ls /run/wisp/etc/upper")
    check("wisp" in out, "/etc/hosts names the host: %r" % out.strip())
    check(not re.search(r"(?m)^hosts$", out),
          "it is ROOT's (image-builder wrote it): init wrote none into /etc's upper layer")
    rc, out = vm.sh("ip addr show lo")
    check("UP" in out and "inet 127.0.0.1/8" in out, "lo is up with 127.0.0.1")
    wait_sh(vm, "ip -4 addr show eth0", lambda rc, o: "inet 10.0.2.15/24" in o,
            "eth0 got 10.0.2.15 by DHCP")
    # The lease script writes resolv.conf just after the address and routes.
    out = wait_sh(vm, "cat /etc/resolv.conf; ip route", lambda rc, o: "nameserver 10.0.2.3" in o,
                  "resolv.conf names 10.0.2.3", 20)
    check("default via 10.0.2.2" in out, "default route via 10.0.2.2")
    check("6.6.6.6" not in out and "search" not in out,
          "a DHCP search list with a newline adds no line to resolv.conf: %r" % out)
    rc, out = vm.sh("grep -c 'search list offered is not host names' /var/log/wisp/dhcp-eth0.log")
    check(re.search(r"(?m)^[1-9]", out), "the unit's log says why the search list was left out")
    rc, out = vm.sh("wispctl status dhcp-eth0")
    check("state:    running" in out, "udhcpc runs as the supervised unit dhcp-eth0")
    check_sysctls(vm)
    check_fault_report(vm)
    check_var_dirs(vm, "a new STATE")
    # Kept across the reboot (a file in /var/tmp), made again when missing (/var/cache).
    rc, _ = vm.sh("echo kept > /var/tmp/probe && rmdir /var/cache")
    check(rc == 0, "a file written to /var/tmp, /var/cache removed")
    return kib


# What programs expect under /var (docs/state.md), made by init at every boot when missing.
VAR_DIRS = {"/var/tmp": "1777", "/var/lib": "755", "/var/cache": "755", "/var/spool": "755",
            "/var/log": "755"}


def check_var_dirs(vm, what):
    rc, out = vm.sh("stat -c '%%n %%a %%U' %s" % " ".join(sorted(VAR_DIRS)))
    got = {m[0]: m[1] for m in re.findall(r"(?m)^(/var/\w+) (\d+) root$", out)}
    check(got == VAR_DIRS, "%s has /var's hierarchy, root's: %r" % (what, out.strip()))


# The hardening baseline init sets at boot (init/pid1/sysctl.c, docs/hardening.md).
SYSCTLS = {
    "fs/protected_symlinks": "1", "fs/protected_hardlinks": "1", "fs/protected_fifos": "2",
    "fs/protected_regular": "2", "fs/suid_dumpable": "0", "kernel/kptr_restrict": "2",
    "kernel/dmesg_restrict": "1", "kernel/unprivileged_bpf_disabled": "1",
    "kernel/perf_event_paranoid": "3", "kernel/yama/ptrace_scope": "1",
    "kernel/randomize_va_space": "2", "debug/exception-trace": "0",
}


def check_sysctls(vm):
    rc, out = vm.sh("for f in %s; do echo \"$f=$(cat /proc/sys/$f)\"; done"
                    % " ".join(sorted(SYSCTLS)))
    got = dict(re.findall(r"(?m)^([a-z_/-]+)=(\d*)$", out))
    check(got == SYSCTLS, "sysctl baseline in /proc/sys: %s" % " ".join(
        "%s=%s" % kv for kv in sorted(got.items())))
    rc, out = vm.sh("dmesg | grep -c 'init: sysctl '")
    check(re.search(r"(?m)^0$", out), "no sysctl warning at boot")


# A process whose name is an escape sequence (anyone's, a container's, can set its own
# name) overflows its stack; a marker logged after it proves the console printed what the
# kernel had to say by then (the console prints in order; the typed line holds $((1+1)),
# not the marker's 2).
FAULTER = ("awk 'function f(x) { return f(x + 1) + 1 } BEGIN { printf \"\\033[7mfaulter\" > "
           "\"/proc/self/comm\"; close(\"/proc/self/comm\"); f(0) }'; "
           "echo \"<6>fault-probe-$((1+1))\" > /dev/kmsg")


def check_fault_report(vm):
    """debug.exception-trace=0: no fault report naming the process on the console."""
    vm.sh("dmesg -n 8")
    start = vm.pos
    vm.sh(FAULTER, timeout=120)
    m = vm.seen_since_banner(re.compile(r"fault-probe-2\n"), 30)
    shown = vm.buf[start:m.start()]
    vm.sh("dmesg -n 1")
    check("Segmentation fault" in shown, "the probe's process faulted (the shell says so)")
    check("segfault at" not in shown and "\x1b[7m" not in shown,
          "a faulting process's chosen name (an escape sequence) is not printed on the "
          "console: %r" % shown[-400:])


def second_boot(vm, kib):
    vm.send("wispctl reboot\n")
    vm.expect(r"reached shutdown target: reboot", 30)
    vm.boot()
    rc, out = vm.sh("cat /etc/wisp-probe")
    check(rc != 0, "the /etc write is gone after the reboot")
    rc, out = vm.sh("cat /var/tmp/probe")
    check(rc == 0 and "kept" in out, "/var/tmp keeps its files across the reboot")
    check_var_dirs(vm, "the rebooted STATE (/var/cache made again)")
    check(var_kib(vm) == kib, "STATE keeps its size after the reboot")
    rc, out = vm.sh("dmesg | grep -c 'grown to'")
    check(out.strip() == "0", "and is not grown again")
    vm.send("poweroff\n")
    vm.exits_0(30, "poweroff")


def static_boot(vm):
    vm.boot()
    wait_sh(vm, "wispctl status net-lan0", lambda rc, o: re.search(r"state:\s+done", o),
            "the one-shot net-lan0 ran and succeeded", 30)
    rc, out = vm.sh("ip -4 addr show lan0")
    check("inet 10.0.2.50/24" in out, "lan0 (renamed by MAC match) has 10.0.2.50/24")
    rc, out = vm.sh("ip route")
    check("default via 10.0.2.2 dev lan0" in out and "192.168.77.0/24 via 10.0.2.2" in out,
          "gateway4 and routes applied: %r" % out.strip())
    rc, out = vm.sh("cat /etc/resolv.conf")
    check("search example.test" in out and "nameserver 10.0.2.3" in out
          and "nameserver 192.0.2.53" in out, "nameservers and search in resolv.conf")
    rc, out = vm.sh("wispctl ps")
    check("dhcp-" not in out, "no DHCP client on a statically configured host")
    rc, out = vm.sh("ping -c 1 -W 5 10.0.2.2")
    check(rc == 0, "the gateway answers a ping")
    vm.send("poweroff\n")
    vm.exits_0(30, "poweroff")


def broken_state_image(tmp):
    """A copy of build/wisp.img whose STATE e2fsck -p cannot repair but that still mounts:
    two files claiming the same blocks (e2fsck -p: UNEXPECTED INCONSISTENCY, status 4)."""
    image = os.path.join(tmp, "broken.img")
    data = os.path.join(tmp, "data")
    with open(data, "w") as f:
        f.write("wisp\n" * 4000)
    subprocess.run(["cp", "--sparse=always", "build/wisp.img", image], check=True)
    with open(image, "rb") as f:
        f.seek(2 * 512 + 4 * 128 + 32)  # GPT entry 5 (STATE): first LBA
        first = struct.unpack("<Q", f.read(8))[0]
    fs = "%s?offset=%d" % (image, first * 512)

    def debugfs(cmd):
        return subprocess.run(["debugfs", "-w", "-R", cmd, fs], check=True, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout

    debugfs("write %s a" % data)
    debugfs("write %s b" % data)
    start = int(re.search(r"\(0-\d+\):(\d+)", debugfs("stat a")).group(1))
    debugfs("set_inode_field b block[5] %d" % start)  # b's first extent -> a's blocks
    debugfs("ssv state 0")  # not clean, or e2fsck -p would trust the flag and not look
    return image


# init's report of an unrepairable STATE (init/pid1/state.c): its lines in
# order, as regular expressions and as text dmesg's lines are picked by.
BROKEN_REPORT = [(r"STATE: e2fsck -p /dev/vda5 left errors uncorrected \(status [4-9]\d*\)",
                  "left errors uncorrected"),
                 (r"STATE is NOT reformatted; it is mounted read-only on /run/wisp/state",
                  "is NOT reformatted"),
                 (r"/var is a tmpfs this boot: NOTHING written there will persist",
                  "NOTHING written there will persist")]
RULE = r"init: \*{64}\n"


def broken_boot(vm):
    vm.expect(BANNER, BOOT_TIMEOUT)
    # Each expect is a check (it fails the test when its line does not come):
    # the report's lines in order between two rules of stars.
    vm.expect(RULE, 120)
    for rx, _ in BROKEN_REPORT:
        vm.expect(rx, 10)
    vm.expect(RULE, 10)
    vm.boot(banner=False)
    storage_log(vm, r"UNEXPECTED INCONSISTENCY")
    # and at priority crit in the kernel log (facility daemon: <26>)
    rc, out = vm.sh("dmesg -r | grep -F%s" % "".join(" -e '%s'" % t for _, t in BROKEN_REPORT))
    prios = re.findall(r"(?m)^<(\d+)>", out)
    check(rc == 0 and len(prios) == len(BROKEN_REPORT) and set(prios) == {"26"},
          "an unrepairable STATE is reported loudly: framed by stars on the console (above),"
          " every line at priority crit: %r" % out.strip()[-300:])
    rc, out = vm.sh("grep -E ' (/var|/run/wisp/state) ' /proc/mounts")
    check("tmpfs /var tmpfs rw" in out, "/var is a tmpfs")
    check("/dev/vda5 /run/wisp/state ext4 ro" in out, "STATE is mounted read-only for rescue")
    check_var_dirs(vm, "the tmpfs /var")
    rc, out = vm.sh("wispctl status hello")
    check(rc == 0 and "done" in out, "the units still run (hello done)")
    vm.send("poweroff\n")
    vm.exits_0(30, "poweroff")


def main():
    # a search list whose label holds a newline and a line of the server's choosing
    with VM("build/wisp.img", name="host", disk_size=DISK,
            nic="user,dnssearch=wisp.example,dnssearch=x.example\nnameserver 6.6.6.6") as vm:
        kib = first_boot(vm)
        second_boot(vm, kib)
    image = build_test_image(
        "netstatic", files={"network.yaml": NETWORK},
        manifest_lines=["file /etc/wisp/50-network.yaml %s 0644" % os.path.join(
            os.environ.get("B", "build"), "tests", "netstatic", "network.yaml")])
    with VM(image, name="host-static", nic="user,mac=52:54:00:12:34:57") as vm:
        static_boot(vm)
    with tempfile.TemporaryDirectory(prefix="wisp-host-", ignore_cleanup_errors=True) as tmp:
        with VM(broken_state_image(tmp), name="host-broken") as vm:
            broken_boot(vm)


if __name__ == "__main__":
    sys.exit(run_test("host", main, errors=(BootError, ValueError)))
