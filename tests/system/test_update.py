"""An update end to end (docs/update.md): the build's image (Wisp WISP_VERSION) and the
bundle of Wisp 0.2.0 (tests/update/update.mk: the same image with init and the updater
built as 0.2.0, signed with the test key that the image trusts).

One disk (a qcow2 overlay of the image) through every boot:
1. v1: `wispctl update apply http://...` streams the bundle from the host (a URL that
   is not there fails in one line);
   `update status` names slot B, 0.2.0, as next; the running slot is not touched.
2. reboot: GRUB boots slot B on trial, the banner says 0.2.0, the command line names
   ROOT-B and the bundle's root hash, / is the verity device over partition 4; the
   trial ends (provision's boot-good unit runs mark-good): status says B is good, A
   previous. The v1 bundle is refused as a downgrade, a bundle with one byte changed as
   untrusted, and nothing is written for either.
3. `update rollback`, reboot: slot A, v1 again.
4. Wisp 0.3.0, whose init fails, into slot B: three failed boots, then GRUB takes the
   host back to slot A without help, and the console and status say B was rolled back,
   and why: none of its boots came up as far as update-watch (init/update/trial.c).
"""

import os
import functools
import http.server
import re
import shutil
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "registry"))
from pki import Pki  # noqa: E402
from slots import partitions  # noqa: E402
from test_boot import boot_good, read_verity, verified_root  # noqa: E402
from wispvm import (  # noqa: E402
    BANNER, BOOT_TIMEOUT, VM, check, make_overlay, nocloud_seed, run_test, wait_sh)

V2 = "0.2.0"


def disk_of(path, dst):
    """PATH padded with zeros to whole sectors (a raw disk for QEMU); its length."""
    size = os.path.getsize(path)
    shutil.copyfile(path, dst)
    with open(dst, "ab") as f:
        f.write(b"\0" * (-size % 512))
    return size


def drive(path, index):
    return ["-drive", "file=%s,format=raw,if=virtio,readonly=on,index=%d" % (path, index)]


def status(vm):
    rc, out = vm.sh("wispctl update status", timeout=60)
    check(rc == 0, "wispctl update status: %r" % out)
    return out


def serve(path, tls=None):
    """PATH over HTTP, or HTTPS with tls's (certificate, key), on the host's loopback (the
    guest's 10.0.2.2, QEMU's user network): the server and the guest's URL of PATH."""
    directory, name = os.path.split(os.path.abspath(path))
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    handler = functools.partial(Quiet, directory=directory)
    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # a client that stops reading (nothing newer to apply) is not an error
    server = Server(("127.0.0.1", 0), handler)
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*tls)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, "%s://10.0.2.2:%d/%s" % ("https" if tls else "http",
                                           server.server_address[1], name)


def apply_v2(vm, url, slot_a):
    rc, before = vm.sh("sha256sum /dev/%s" % slot_a, timeout=120)
    rc, out = vm.sh("wispctl update apply %s/missing 2>&1" % url.rsplit("/", 1)[0], timeout=120)
    lines = out.strip().splitlines()
    missing = url.rsplit("/", 1)[0] + "/missing"
    check(rc == 1 and len(lines) == 1 and "GET %s: HTTP 404" % missing in lines[0],
          "a URL that is not there: one line with the URL and the HTTP status: %r"
          % out.strip())
    rc, out = vm.sh("wispctl update apply %s" % url, timeout=600)
    check(rc == 0 and "update: writing Wisp %s to slot B" % V2 in out,
          "apply streamed the bundle from %s into slot B: %r" % (url, out))
    _, after = vm.sh("sha256sum /dev/%s" % slot_a, timeout=120)
    check(before.split()[0] == after.split()[0], "the running slot's partition is unchanged")
    out = status(vm)
    check(re.search(r"slot B: %s\s+next" % re.escape(V2), out)
          and re.search(r"slot A: \S+\s+booted\s+previous", out)
          and "trial: slot B, 3 tries left" in out, "status after apply: %r" % out)


def refused(vm, cmd, why, name):
    rc, out = vm.sh(cmd, timeout=300)
    check(rc == 1 and why in out, "%s refused: %r" % (name, out.strip()))


def on_v2(vm, img, sizes):
    vm.expect(r"Booting `Wisp \(slot B\)'", BOOT_TIMEOUT)
    vm.expect(r"Wisp %s, slot B" % re.escape(V2), 30)
    m = vm.expect(BANNER, BOOT_TIMEOUT)
    check(m.group(1) == V2, "the banner shows Wisp %s (%s)" % (V2, m.group(1)))
    vm.boot(banner=False, shell_timeout=120)
    verified_root(vm, partitions(img)["ROOT-B"].partuuid, "4", read_verity("build/v2/wisp.img"))
    out = boot_good(vm)
    check("wisp-update: slot B is good" in out, "boot-good marked slot B good: %r" % out)
    out = status(vm)
    check(re.search(r"slot B: %s\s+booted\s+next" % re.escape(V2), out)
          and re.search(r"slot A: \S+\s+previous", out) and "trial: none (slot B is good)" in out,
          "status: B booted and good, A previous: %r" % out)
    _, before = vm.sh("sha256sum /dev/vda3", timeout=120)
    for dev, why, name in (("vdc", "is not newer than the running %s" % V2, "v1 (a downgrade)"),
                           ("vdd", "does not match its signature", "one changed manifest byte"),
                           ("vde", "which is not a trusted key", "signed by another key"),
                           ("vdf", "expired at", "expired")):
        refused(vm, "head -c %d /dev/%s | wispctl update apply - 2>&1" % (sizes[dev], dev), why,
                "the bundle %s" % name)
    _, after = vm.sh("sha256sum /dev/vda3", timeout=120)
    check(before.split()[0] == after.split()[0], "the inactive slot A is unchanged")
    out = status(vm)
    check("trial: none (slot B is good)" in out, "nothing changed by the refusals: %r" % out)


def main(image="build/wisp.img", bundle="build/v2/wisp-update.bundle"):
    work = os.path.join(os.environ.get("B", "build"), "tests", "update")
    os.makedirs(work, exist_ok=True)
    disk = os.path.join(work, "disk.qcow2")
    make_overlay(image, disk)
    disks = (("vdb", bundle), ("vdc", "build/wisp-update.bundle"), ("vdd", bundle),
             ("vde", "build/v2/other-key.bundle"), ("vdf", "build/v2/expired.bundle"),
             ("vdg", "build/v3/wisp-update.bundle"))
    sizes, extra = {}, []
    for i, (dev, path) in enumerate(disks):
        sizes[dev] = disk_of(path, os.path.join(work, dev))
        extra += drive(os.path.join(work, dev), i + 1)
    with open(os.path.join(work, "vdd"), "r+b") as f:
        head = f.read(256)
        i = head.index(b"variant: ") + len(b"variant: ")
        f.seek(i)
        f.write(bytes([head[i] ^ 0x20]))  # "wisp" -> "Wisp": signed bytes changed
    server, url = serve(bundle)
    with VM(image, firmware="bios", name="update", overlay=disk, extra=extra, nic="user") as vm:
        vm.boot(shell_timeout=120)
        apply_v2(vm, url, "vda3")
        server.shutdown()
        vm.send("reboot\n")
        on_v2(vm, image, sizes)
        rc, out = vm.sh("wispctl update rollback", timeout=60)
        check(rc == 0 and "the next boot is slot A" in out, "rollback: %r" % out)
        vm.send("reboot\n")
        vm.expect(r"Booting `Wisp \(slot A\)'", BOOT_TIMEOUT)
        m = vm.expect(BANNER, BOOT_TIMEOUT)
        check(m.group(1) == os.environ.get("WISP_VERSION", ""),
              "after the rollback the banner shows Wisp %s again" % m.group(1))
        vm.boot(banner=False, shell_timeout=120)
        # slot B holds a system: every boot of A is counted; the operator chose A, a good
        # slot (wisp_good), marked once the system is up
        wait_sh(vm, "dmesg | grep 'is good'",
                lambda rc, o: "wisp-update: slot A is good (marked good before)" in o,
                "slot A, chosen by rollback, was marked good as a good slot", 120)
        out = status(vm)
        check(re.search(r"slot A: \S+\s+booted\s+next", out)
              and re.search(r"slot B: %s\s+previous" % re.escape(V2), out),
              "status after the rollback: %r" % out)
        failing(vm, sizes["vdg"])


def failing(vm, size):
    """Wisp 0.3.0, whose init fails, into slot B: three boots end in a kernel panic (init
    exits) and a reboot (panic=10), each taking a try; then GRUB rolls back to slot A by
    itself, and status says so."""
    vm.send("head -c %d /dev/vdg | wispctl update apply --reboot - 2>&1\n" % size)
    vm.expect(r"update: writing Wisp 0\.3\.0 to slot B", 600)
    vm.expect(r"reboot: Restarting system", 300)
    print("  ok: apply --reboot wrote 0.3.0 to slot B and rebooted", flush=True)
    for n in range(3):
        vm.expect(r"Booting `Wisp \(slot B\)'", BOOT_TIMEOUT, panic_ok=True)
        vm.expect(r"wisp test: this init fails on purpose", BOOT_TIMEOUT, panic_ok=True)
        vm.expect(r"Kernel panic - not syncing: Attempted to kill init", 60, panic_ok=True)
        print("  ok: boot %d of slot B on trial: init failed, the kernel panicked" % (n + 1),
              flush=True)
    vm.expect(r"wisp: slot B used its tries without a good boot: rolling back to slot A",
              BOOT_TIMEOUT, panic_ok=True)
    vm.expect(r"Booting `Wisp \(slot A\)'", 30)
    why = ("slot B used its tries and was rolled back (Wisp 0.3.0): none of its boots came up "
           "as far as update-watch on STATE")
    vm.boot(shell_timeout=120)
    vm.seen_since_banner(re.compile(r"wisp-update: slot B \(Wisp 0\.3\.0\) was rolled back: none "
                                    r"of its boots came up as far as update-watch on STATE"), 60)
    print("  ok: the console of the boot after the rollback says why", flush=True)
    out = status(vm)
    check(re.search(r"slot A: \S+\s+booted\s+next", out) and "last result: " + why in out,
          "status after GRUB's rollback says why: %r" % out)


def window():
    """A maintenance window (HH:MM UTC) at least 100 s from now, by the host's clock,
    which QEMU gives the guest's RTC: its time as seconds since the epoch, and its text."""
    at = (int(time.time()) + 100 + 59) // 60 * 60
    return at, time.strftime("%H:%M", time.gmtime(at))


def from_userdata(image="build/wisp.img", bundle="build/v2/wisp-update.bundle"):
    """user-data's wisp.update (docs/update.md): a NoCloud seed names the 0.2.0 bundle by
    its https:// URL on the host (a certificate of this run's own CA, which user-data's
    ca_certs adds to the trusted ones) and its SHA-256, reboot at a maintenance window (the
    next whole minute at least 100 s away). The first boot's update-apply unit applies it
    well before the window and reboots into slot B at it, not before (the host's clock);
    the second boot, with the same user-data, finds nothing newer and stays on 0.2.0."""
    work = os.path.join(os.environ.get("B", "build"), "tests", "update-userdata")
    os.makedirs(work, exist_ok=True)
    digest = subprocess.run(["sha256sum", bundle], check=True, stdout=subprocess.PIPE,
                            text=True).stdout.split()[0]
    pki = Pki(os.path.join(work, "pki"))
    server, url = serve(bundle, tls=(pki.server, pki.server_key))
    ca = "".join("    " + line for line in open(pki.ca).read().splitlines(True))
    at, hhmm = window()
    seed = nocloud_seed(work, "#cloud-config\nca_certs:\n  trusted:\n  - |\n%s"
                        "wisp:\n  update:\n    url: %s\n    sha256: %s\n"
                        "    reboot: \"%s\"\n" % (ca, url, digest, hhmm), "update-userdata")
    disk = os.path.join(work, "disk.qcow2")
    make_overlay(image, disk)
    with VM(image, firmware="bios", name="update-userdata", overlay=disk, nic="user",
            extra=["-cdrom", seed]) as vm:
        vm.expect(BANNER, BOOT_TIMEOUT)
        vm.expect(r"wisp-update: Wisp %s is in slot B" % re.escape(V2), 300)
        written = time.time()
        check(written < at - 30, "the bundle was written %.0f s before the window %s UTC"
              % (at - written, hhmm))
        vm.expect(r"Booting `Wisp \(slot B\)'", at - written + 120)
        check(time.time() >= at - 2, "the reboot came at the window %s UTC, not before "
              "(%.1f s after it)" % (hhmm, time.time() - at))
        m = vm.expect(BANNER, BOOT_TIMEOUT)
        check(m.group(1) == V2, "user-data's update rebooted into Wisp %s (%s)" % (V2, m.group(1)))
        vm.boot(banner=False, shell_timeout=120)
        out = boot_good(vm)
        check("wisp-update: slot B is good" in out, "the new slot was marked good: %r" % out)
        rc, out = vm.sh("for i in $(seq 120); do wispctl status update-apply | "
                        "grep -q 'state: *done' && break; sleep 1; done; "
                        "cat /var/log/wisp/update-apply.log", timeout=150)
        check("rebooting into it at %s UTC, in " % hhmm in out
              and "is not newer than the running %s: nothing to do" % V2 in out,
              "the same user-data at the next boot: nothing to do: %r" % out[-800:])
    server.shutdown()


if __name__ == "__main__":
    if sys.argv[1:2] == ["userdata"]:
        sys.exit(run_test("update-userdata", from_userdata))
    sys.exit(run_test("update", lambda: main(*sys.argv[1:3])))
