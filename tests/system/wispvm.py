"""Boot a Wisp disk image under QEMU and talk to it over the serial console;
and what every system test shares: its main (run_test), check(), the boot
up to the console shell (VM.boot), waiting for a shell command's output
(wait_sh), for anything else (poll) or for a console line's Nth time
(VM.seen_times), the units by name (units, wait_units), test images
(build_test_image, without the default image's demo container), NoCloud
seeds (nocloud_seed) and OCI images made with umoci (OciImage) or, small
and reproducible, as the build makes its demo image (busybox_oci_tar).

The disk image itself is never written: each VM gets a qcow2 overlay backed
by it, so tests can run in parallel and build/wisp.img stays pristine.
TCG is the default (KVM hangs on the build hosts); WISP_KVM=1 opts in.
Guests have one vCPU; WISP_SMP=N gives them N (benches: under TCG, N
threads on the host's cores). Under TCG, for benches: WISP_CPU=MODEL is
QEMU's -cpu (default qemu64, without SSSE3 or AVX2; "max": what TCG can
emulate, as a cloud's CPUs have), and WISP_ICOUNT=1 makes the guest's clocks
count instructions (one a nanosecond) instead of the host's time: TCG's
translation and the host's load then cost the guest nothing, and a boot
takes the same guest time every run (waits for I/O still pass in host time).
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
# Secure Boot: OVMF with SMM (so that the firmware's variables are out of the OS's
# reach) and variables that enroll Debian's snakeoil test key in PK, KEK and db
# (tests/system/test_secureboot.py signs with it).
OVMF_CODE_SB = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"
OVMF_VARS_SB = "/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd"

BANNER = re.compile(r"Wisp (\S+) init: started at uptime ([0-9]+\.[0-9]{3}) s")
BOOT_TIMEOUT = 180  # from QEMU's start to the banner, under TCG on a loaded host
# PID 1's line when provisioning has ended, well or not (the units then start).
PROVISIONED = re.compile(r"init: provision(?: --safe)? done \(\d+ ms\)|; booting with /etc/wisp only")
# What a failed test with containers prints (VM(diagnose=...)): units and their logs' ends.
DIAGNOSE = "wispctl ps; tail -n 20 /var/log/wisp/*.log"


# init and provision (its own program, whose lines start "provision: ") write
# their messages to the console themselves when the kernel would not (after
# `dmesg -n 1`), so they can land in the middle of a command's output; so can
# cloud-final's default final_message at the end of a boot with a datasource
# (cloud-init prints it on the console too; docs/cloud-config.md).
# PID 1 relays its records (init/pid1/klog.c) when the console has room, so a line of
# init's with the kernel's stamp can come after a later command's output began too.
INIT_LINE = re.compile(r"^(\[ *\d+\.\d+\] )?(init: |provision: |Cloud-init v\. \S+ finished at )"
                       r".*\n?", re.M)


def strip_init_lines(text):
    return INIT_LINE.sub("", text)


class BootError(Exception):
    pass


def check(cond, what):
    """One check: printed as passed, or the test fails naming it."""
    if not cond:
        raise BootError(what)
    print("  ok: " + what, flush=True)


def run_test(name, body, errors=(BootError,)):
    """The main of a system test: prints NAME:, runs body() (its checks), then
    PASS NAME, or FAIL NAME: why for an exception of ERRORS. Returns the exit
    status. VMs are closed by body's `with VM(...)` blocks, on failure too."""
    print(name + ":", flush=True)
    try:
        body()
    except errors as e:
        print("FAIL %s: %s" % (name, e), flush=True)
        return 1
    print("PASS %s" % name, flush=True)
    return 0


def smp():
    n = os.environ.get("WISP_SMP", "1")
    if not n.isdigit() or not 1 <= int(n) <= 64:
        sys.exit("wispvm: WISP_SMP=%r: not a number of vCPUs from 1 to 64" % n)
    return n


def accel_args():
    if os.environ.get("WISP_KVM") == "1":
        return ["-accel", "kvm", "-cpu", "host"]
    args = ["-accel", "tcg"]
    cpu = os.environ.get("WISP_CPU")
    if cpu is not None:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.,=+-]*", cpu):
            sys.exit("wispvm: WISP_CPU=%r: not a QEMU CPU model" % cpu)
        args += ["-cpu", cpu]
    icount = os.environ.get("WISP_ICOUNT", "0")
    if icount not in ("0", "1"):
        sys.exit("wispvm: WISP_ICOUNT=%r: 0 or 1" % icount)
    if icount == "1":  # one instruction a nanosecond; idle time passes as the host's
        args += ["-icount", "shift=0,sleep=on"]
    return args


# QEMU's format of a disk image by its name's ending (image-builder convert's outputs); raw else
DISK_FORMATS = {".qcow2": "qcow2", ".vhd": "vpc", ".vmdk": "vmdk"}


def make_overlay(base, path, size=None):
    """A new qcow2 overlay at PATH over BASE (a raw image, a qcow2 overlay of one, or a
    cloud format of one: DISK_FORMATS), optionally SIZE large ("1G": STATE grows into it at
    the first boot); PATH."""
    if os.path.exists(path):
        os.unlink(path)
    fmt = DISK_FORMATS.get(os.path.splitext(base)[1], "raw")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", fmt, "-b",
                    os.path.abspath(base), path] + ([size] if size else []), check=True)
    return path


class VM:
    """One QEMU process; console output is collected by a reader thread."""

    def __init__(self, image, firmware="bios", name="vm", logdir="build/tests", mem=512,
                 extra=None, kernel=None, cmdline=None, qmp=False, disk_size=None, nic=None,
                 overlay=None, diagnose=None, command=None, env=None, disk_bus="virtio",
                 tpm=None):
        """command: a program that starts QEMU itself (tests/system/qemu-run.sh,
        as `make run` does) instead of the arguments made here; image, firmware
        and the options that shape QEMU's arguments are then unused. tpm: "tis" or
        "crb", a TPM 2.0 (swtpm, fresh for this VM) on that interface."""
        if firmware not in ("bios", "uefi", "uefi-secureboot"):
            raise ValueError("firmware must be bios, uefi or uefi-secureboot")
        self.name = name
        self.diagnose = diagnose  # a command whose output a failed test prints
        self.tmp = tempfile.mkdtemp(prefix="wispvm-")
        os.makedirs(logdir, exist_ok=True)
        self.logpath = os.path.join(logdir, name + ".console.log")
        self.qmp_path = os.path.join(self.tmp, "qmp.sock") if qmp else None
        self.swtpm_pid = None
        if command:
            self.overlay = None
            args = list(command)
        else:
            args = self._qemu_args(image, firmware, mem, extra, kernel, cmdline, qmp,
                                   disk_size, nic, overlay, disk_bus)
            args += self._swtpm(tpm) if tpm else []
        self.args = args
        self.buf = ""
        self.pos = 0
        self.lock = threading.Condition()
        self.log = open(self.logpath, "w", encoding="utf-8", errors="replace")
        self.started = time.monotonic()
        # Its own process group: a command (make run) starts QEMU as a child,
        # and close() must not leave that QEMU behind.
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _qemu_args(self, image, firmware, mem, extra, kernel, cmdline, qmp, disk_size, nic,
                   overlay, disk_bus):
        # overlay: boot the disk of an earlier VM again (close that VM last).
        # disk_bus=None: no disk (a live CD boots from its extra arguments' CD drives)
        self.overlay = None if disk_bus is None else (
            overlay or os.path.join(self.tmp, "disk.qcow2"))
        if disk_bus is not None and not overlay:
            make_overlay(image, self.overlay)
        if disk_size:  # a larger disk than the image: STATE grows at first boot
            subprocess.run(["qemu-img", "resize", "-q", self.overlay, str(disk_size)], check=True)
        args = ["qemu-system-x86_64", "-m", str(mem), "-smp", smp(), "-nodefaults",
                "-display", "none", "-serial", "stdio", "-monitor", "none",
                # the watchdog of trial boots (docs/update.md)
                "-device", "i6300esb"] + (DISK_BUS[disk_bus](self.overlay) if disk_bus else [])
        args += accel_args()
        if qmp:  # for system_powerdown: the ACPI power button
            args += ["-qmp", "unix:%s,server=on,wait=off" % self.qmp_path]
        if nic:  # e.g. "user": QEMU's user network, guest 10.0.2.15, DNS 10.0.2.3
            args += ["-nic", "%s,model=virtio-net-pci" % nic]
        if firmware.startswith("uefi"):
            secure = firmware == "uefi-secureboot"
            vars_copy = os.path.join(self.tmp, "OVMF_VARS.fd")
            shutil.copyfile(OVMF_VARS_SB if secure else OVMF_VARS, vars_copy)
            if secure:
                args += ["-machine", "q35,smm=on",
                         "-global", "driver=cfi.pflash01,property=secure,value=on"]
            args += ["-drive", "if=pflash,format=raw,readonly=on,file=" +
                     (OVMF_CODE_SB if secure else OVMF_CODE),
                     "-drive", "if=pflash,format=raw,file=" + vars_copy]
        if kernel:
            args += ["-kernel", kernel, "-append", cmdline or ""]
        args += extra or []
        return args

    def _swtpm(self, interface):
        """A TPM 2.0 emulator for this VM alone: swtpm listens on a socket in tmp before
        it daemonises (so QEMU finds it at once) and ends when QEMU disconnects."""
        if interface not in ("tis", "crb"):
            raise ValueError("tpm must be tis or crb")
        state = os.path.join(self.tmp, "tpm")
        os.mkdir(state)
        sock, pid = os.path.join(self.tmp, "swtpm.sock"), os.path.join(self.tmp, "swtpm.pid")
        subprocess.run(["swtpm", "socket", "--tpm2", "--tpmstate", "dir=" + state,
                        "--ctrl", "type=unixio,path=" + sock, "--terminate", "--daemon",
                        "--pid", "file=" + pid], check=True)
        with open(pid) as f:
            self.swtpm_pid = int(f.read())
        return ["-chardev", "socket,id=chrtpm,path=" + sock,
                "-tpmdev", "emulator,id=tpm0,chardev=chrtpm",
                "-device", "tpm-%s,tpmdev=tpm0" % interface]

    def _read(self):
        while True:
            data = self.proc.stdout.read1(4096)
            if not data:
                break
            text = data.decode("utf-8", errors="replace").replace("\r", "")
            self.log.write(text)
            self.log.flush()
            with self.lock:
                self.buf += text
                self.lock.notify_all()
        with self.lock:
            self.lock.notify_all()

    def expect(self, pattern, timeout=60, panic_ok=False):
        """Wait for pattern after the last match; return the match object. A kernel
        panic on the way fails it, unless panic_ok (a test that expects one)."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                m = rx.search(self.buf, self.pos)
                if m:
                    self.pos = m.end()
                    return m
                panic = -1 if panic_ok else self.buf.find("Kernel panic", self.pos)
                if panic >= 0:
                    raise BootError("%s: kernel panic: %s" % (self.name,
                                    self.buf[panic:panic + 200].strip()))
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.reader.is_alive()):
                    tail = self.buf[-600:]
                    raise BootError("%s: timed out waiting for %r (see %s); last output:\n%s"
                                    % (self.name, rx.pattern, self.logpath, tail))
                self.lock.wait(min(left, 1.0))

    def qmp(self, command, **arguments):
        """Run one QMP command on the monitor socket (VM(qmp=True)); return its reply."""
        import json
        import socket
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(self.qmp_path)
            f = s.makefile("rw")
            json.loads(f.readline())  # greeting
            for cmd in ({"execute": "qmp_capabilities"},
                        {"execute": command, "arguments": arguments}):
                f.write(json.dumps(cmd) + "\n")
                f.flush()
                while True:
                    reply = json.loads(f.readline())
                    if "return" in reply or "error" in reply:
                        break
            return reply

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def sh(self, cmd, timeout=30):
        """Run cmd in the console shell; return (status, output).

        The markers are built by the shell's arithmetic so that the echo of
        the typed line never matches them.
        """
        tag = "%x" % int(time.monotonic() * 1e6)
        self.send("echo @B%s$((0)); %s; echo @E%s$((0)) rc=$?\n" % (tag, cmd, tag))
        self.expect(r"@B%s0\n" % tag, timeout)
        start = self.pos
        m = self.expect(r"@E%s0 rc=(\d+)" % tag, timeout)
        return int(m.group(1)), strip_init_lines(self.buf[start:m.start()])

    def dmesg(self, pattern, timeout=30):
        """The kernel log's lines (stamp and all) that match the ERE pattern. Each
        gets a prefix of its own on the way: PID 1 relays the same records to the
        console, and sh() drops those from a command's output, which would take
        dmesg's own init: lines with them."""
        _, out = self.sh("dmesg | grep -E '%s' | sed 's/^/dmesg /'" % pattern.replace("'", "'\\''"),
                         timeout)
        return [l[6:] for l in out.splitlines() if re.match(r"dmesg \[\s*[0-9.]+\] ", l)]

    def wait_shell(self, timeout=60):
        """Wait until the console shell answers."""
        deadline = time.monotonic() + timeout
        while True:
            self.send("\n")
            try:
                self.sh("true", timeout=3)
                return
            except BootError:
                if time.monotonic() > deadline:
                    raise

    def boot(self, after=None, banner=True, shell_timeout=120, provisioned=True):
        """Wait for a boot up to the console shell: the banner (banner=False:
        already seen), the pattern AFTER if given (within 60 s; its match is
        returned), the shell (an early unit: it may answer while provision
        runs), and unless provisioned=False the end of provisioning (its
        line, anywhere since this boot's banner); then the kernel's messages
        leave the console (dmesg -n 1; init's own lines are stripped from
        sh's output)."""
        if banner:
            self.expect(BANNER, BOOT_TIMEOUT)
        m = self.expect(after, 60) if after else None
        self.wait_shell(shell_timeout)
        if provisioned:
            self.seen_since_banner(PROVISIONED, 400)
        self.sh("dmesg -n 1")
        return m

    def exits_0(self, timeout, what):
        """A check: QEMU ends (an orderly poweroff) with status 0 within timeout."""
        status = self.wait_exit(timeout)
        check(status == 0, "%s: QEMU exits 0 (got %s)" % (what, status))

    def seen_since_banner(self, pattern, timeout):
        """Wait until pattern is in the output since the last banner, wherever
        the last expect() left off; return the match."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                starts = [b.start() for b in BANNER.finditer(self.buf)]
                m = pattern.search(self.buf, starts[-1] if starts else 0)
                if m:
                    return m
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise BootError("%s: no %r since the boot's banner (see %s)"
                                    % (self.name, pattern.pattern, self.logpath))
                self.lock.wait(min(left, 1.0))

    def seen_times(self, pattern, n, timeout):
        """Wait until pattern has matched N times in all this VM's console
        output (every boot); return how many times it has then (more if
        more came at once). Fails naming the pattern and its count."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                got = len(rx.findall(self.buf))
                if got >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.reader.is_alive()):
                    raise BootError("%s: %r seen %d times on the console, not %d, within %d s"
                                    " (see %s)" % (self.name, rx.pattern, got, n, timeout,
                                                   self.logpath))
                self.lock.wait(min(left, 1.0))

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise BootError("%s: QEMU still running %ds after shutdown was requested"
                            % (self.name, timeout))

    def close(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        if self.swtpm_pid:  # gone with QEMU (--terminate), unless QEMU never connected
            try:
                os.kill(self.swtpm_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.reader.join(timeout=5)
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        """Closes the VM; on a failure first prints what the diagnose command says."""
        if kind is not None and self.diagnose and self.proc.poll() is None:
            try:
                print(self.sh(self.diagnose, timeout=120)[1], flush=True)
            except BootError:
                pass
        self.close()
        return False


# The system disk on the controllers clouds give: virtio-blk, AHCI (SATA), NVMe.
DISK_BUS = {
    "virtio": lambda f: ["-drive", "file=%s,format=qcow2,if=virtio" % f],
    "ahci": lambda f: ["-drive", "file=%s,format=qcow2,if=none,id=sys" % f,
                       "-device", "ahci,id=ahci", "-device", "ide-hd,drive=sys,bus=ahci.0"],
    "nvme": lambda f: ["-drive", "file=%s,format=qcow2,if=none,id=sys" % f,
                       "-device", "nvme,drive=sys,serial=wisp0"],
}


def free_port():
    """A TCP port of this machine's loopback free now: for QEMU's hostfwd."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def host_port_text(port, timeout=10):
    """What a connection to PORT on this machine's loopback (a guest's hostfwd)
    gets within TIMEOUT s, or "no answer: WHY"."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as c:
            c.settimeout(timeout)
            return c.recv(100).decode(errors="replace")
    except OSError as e:
        return "no answer: %s" % e


def poll(get, done, what, timeout, every=0.5, show=repr):
    """get() every EVERY s until done(value) holds; returns that value, or
    fails naming WHAT and the last value (show(value)) when the deadline
    passes. The system tests' one poll of something that cannot wake them
    (a guest's state, a host port): never a blind sleep, never unbounded."""
    deadline = time.monotonic() + timeout
    while True:
        value = get()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise BootError("%s: not within %d s; last: %s" % (what, timeout, show(value)))
        time.sleep(every)


def wait_sh(vm, cmd, want, what, timeout=60):
    """Run cmd in the console shell until want(rc, out) holds (every half
    second): a check of what, passed (returns the output) or failed when the
    deadline passes, with the last output. The system tests' one wait on a
    guest command: a pattern is lambda rc, o: re.search(PATTERN, o)."""
    rc, out = poll(lambda: vm.sh(cmd), lambda r: want(*r), what, timeout,
                   show=lambda r: "%r gave %d: %r" % (cmd, r[0], r[1].strip()[-200:]))
    print("  ok: " + what, flush=True)
    return out


def units(vm, timeout=30):
    """The units by name (wispctl --json ps). init's own console messages can
    land inside the JSON line (only whole lines are stripped): then it is
    asked again."""
    for _ in range(5):
        rc, out = vm.sh("wispctl --json ps", timeout=timeout)
        try:
            return {u["name"]: u for u in json.loads(out.strip())} if rc == 0 else {}
        except ValueError:
            time.sleep(0.5)
    raise BootError("wispctl --json ps: no clean JSON in 5 tries: %r" % out)


def wait_units(vm, what, pred, timeout=120):
    """The units once pred(units) holds, polled every second; fails after timeout s."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        u = units(vm)
        if pred(u):
            return u
        time.sleep(1)
    raise BootError("timed out waiting for %s: %s" % (what, units(vm)))


def direct_vm(image, extra_cmdline, **kw):
    """A VM of IMAGE booted by QEMU's -kernel with the kernel and command line
    image-builder wrote next to it (the root's PARTUUID is the image's own),
    plus EXTRA_CMDLINE (" key=value ..."); KW go to VM."""
    base = os.path.splitext(image)[0]
    with open(base + ".cmdline") as f:
        cmdline = f.read().strip() + extra_cmdline
    return VM(image, kernel=base + ".kernel", cmdline=cmdline, **kw)


def build_test_image(name, manifest_lines=(), services_yaml="", files=None, ctlprobe=False,
                     spec_extra="", state_size=None, decl_errors=False):
    """Build build/tests/NAME.img: the default spec and ROOT, less the demo
    container and its image (without_demo: a test's containers, images and
    user namespace ranges are its own), plus test-only additions.

    manifest_lines are appended to an including manifest; files maps a path
    under build/tests/NAME/ to its text (for `file` lines); services_yaml is
    appended under the spec's services list; spec_extra after it (top-level
    keys, e.g. images:); ctlprobe adds the test helper as /bin/ctlprobe;
    state_size replaces the spec's (room for baked images); decl_errors builds
    declarations init refuses (to test how init reports them).
    Returns the image path. Run from the source tree root.
    """
    b = os.environ.get("B", "build")
    outdir = os.path.join(b, "tests", name)
    os.makedirs(outdir, exist_ok=True)
    lines = ["include rootfs/manifest"] + list(manifest_lines)
    for path, text in (files or {}).items():
        with open(os.path.join(outdir, path), "w") as f:
            f.write(text)
    if ctlprobe:
        probe = os.path.join(outdir, "ctlprobe")
        subprocess.run(["musl-gcc", "-std=c11", "-Os", "-Wall", "-Wextra", "-Werror",
                        "-D_GNU_SOURCE", "-isystem", os.path.join(b, "sysroot", "include"),
                        "-Iinit", "-static", "-s", "-o", probe, "tests/system/ctlprobe.c",
                        "init/lib/proto.c", "init/lib/err.c", "init/lib/util.c"], check=True)
        lines.append("file /bin/ctlprobe %s 0755" % probe)
    manifest = os.path.join(outdir, "manifest")
    with open(manifest, "w") as f:
        f.write("\n".join(lines) + "\n")
    with open("image-builder/wisp.yaml") as f:
        spec = without_demo(f.read())
    spec = re.sub(r"(?m)^name: wisp\b", "name: wisp-test-" + name, spec)
    if state_size:
        spec = re.sub(r"(?m)^(\s*state_size:) \S+", r"\1 " + state_size, spec)
    spec = spec.replace("manifest: rootfs/manifest", "manifest: " + manifest)
    spec = spec.rstrip("\n") + "\n" + services_yaml + spec_extra
    spec_path = os.path.join(outdir, "spec.yaml")
    with open(spec_path, "w") as f:
        f.write(spec)
    image = os.path.join(b, "tests", name + ".img")
    subprocess.run([os.path.join(b, "host", "image-builder"), "-C", ".", "--tmpdir", outdir,
                    "-o", image, spec_path] + (["--allow-declaration-errors"] if decl_errors else []),
                   check=True, stdout=subprocess.DEVNULL)
    return image


def without_demo(spec):
    """The default spec's text without its images: block and its unit demo
    (the demo container and what it runs); an error if either is still
    named, so that a new layout of wisp.yaml cannot slip it into tests."""
    spec = re.sub(r"(?m)^images:.*\n(?:  .*\n)*", "", spec)
    spec = re.sub(r"(?m)^  - name: demo\b.*\n(?:    .*\n)*", "", spec)
    if re.search(r"(?m)^images:|wisp/demo:1|name: demo\b", spec):
        raise BootError("image-builder/wisp.yaml: the demo container or image is left after "
                        "removing them; update without_demo() in tests/system/wispvm.py")
    return spec


def nocloud_seed(outdir, user_data, instance_id, images=None):
    """A NoCloud seed as cloud-localds makes it (iso9660, volume cidata) at
    OUTDIR/seed.iso, made from OUTDIR/seed/: user-data, meta-data naming
    INSTANCE_ID and wisp-images/ with each archive of IMAGES (file name ->
    (archive path, image name)) and its .name file, for image-import.
    Returns the ISO's path."""
    root = os.path.join(outdir, "seed")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(root, "wisp-images"))
    with open(os.path.join(root, "user-data"), "w") as f:
        f.write(user_data)
    with open(os.path.join(root, "meta-data"), "w") as f:
        f.write("instance-id: %s\n" % instance_id)
    for file, (archive, name) in (images or {}).items():
        shutil.copy(archive, os.path.join(root, "wisp-images", file))
        with open(os.path.join(root, "wisp-images", file + ".name"), "w") as f:
            f.write(name + "\n")
    seed = os.path.join(outdir, "seed.iso")
    subprocess.run(["genisoimage", "-quiet", "-o", seed, "-V", "cidata", "-J", "-R", root],
                   check=True)
    return seed


class OciImage:
    """A one-layer image of busybox made with umoci in the layout WORK/lay
    (tag TAG), unpacked (--rootless if rootless) to add DIRS, /bin/busybox
    with a link per applet of APPLETS and FILES (path under / -> text), and
    repacked. config() changes its configuration, tar() writes the layout
    as an OCI layout tar."""

    def __init__(self, work, tag, dirs=(), applets=(), files=None, rootless=False):
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        self.lay, bundle = os.path.join(work, "lay"), os.path.join(work, "bundle")
        self.ref = self.lay + ":" + tag
        unpack = ["unpack"] + (["--rootless"] if rootless else []) + ["--image", self.ref, bundle]
        for args in (["init", "--layout", self.lay], ["new", "--image", self.ref], unpack):
            self.umoci(*args)
        root = os.path.join(bundle, "rootfs")
        for d in ("bin",) + tuple(dirs):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        b = os.environ.get("B", "build")
        shutil.copy(os.path.join(b, "busybox", "busybox"), os.path.join(root, "bin", "busybox"))
        for a in applets:
            os.symlink("busybox", os.path.join(root, "bin", a))
        for path, text in (files or {}).items():
            with open(os.path.join(root, path), "w") as f:
                f.write(text)
        self.umoci("repack", "--image", self.ref, bundle)

    @staticmethod
    def umoci(*args):
        subprocess.run(["umoci"] + list(args), check=True, stdout=subprocess.DEVNULL)

    def config(self, *args):
        """umoci config of the tag: ARGS are its options (--config.cmd sh ...)."""
        self.umoci("config", "--image", self.ref, *args)

    def tar(self, path):
        """The layout (unreferenced blobs collected first) as a tar at PATH."""
        self.umoci("gc", "--layout", self.lay)
        subprocess.run(["tar", "-C", self.lay, "-cf", path, "."], check=True)
        return path

    def digest(self):
        """The manifest digest of the layout's (first) image."""
        with open(os.path.join(self.lay, "index.json")) as f:
            return json.load(f)["manifests"][0]["digest"]


def busybox_applets_tar(outdir, applets):
    """busybox with APPLETS linked and PATH=/bin, made as the build makes its
    demo image (image-builder/busybox_image.py). Returns OUTDIR/bb.tar."""
    out = os.path.join(outdir, "bb.tar")
    cmd = [sys.executable, "image-builder/busybox_image.py", "-o", out, "--busybox",
           os.path.join(os.environ.get("B", "build"), "busybox", "busybox"), "--env", "PATH=/bin"]
    for a in applets:
        cmd += ["--applet", a]
    subprocess.run(cmd, check=True)
    return out


def busybox_oci_tar(outdir, name, marker):
    """A one-layer image of busybox and /etc/marker (so that images of
    different markers share no layer), made as the build makes its demo
    image (image-builder/busybox_image.py). Returns OUTDIR/NAME.tar, an
    OCI layout tar."""
    out = os.path.join(outdir, name + ".tar")
    subprocess.run([sys.executable, "image-builder/busybox_image.py", "-o", out, "--busybox",
                    os.path.join(os.environ.get("B", "build"), "busybox", "busybox"),
                    "--text", "etc/marker=%s\n" % marker], check=True)
    return out
