"""Measured boot (docs/security.md, "Measured boot"): build/wisp.img booted by OVMF with
a TPM 2.0 (swtpm), on the two interfaces a hypervisor offers, TIS and CRB.

- The kernel finds the TPM (tpm0, major version 2) and PID 1 has mounted securityfs,
  where the firmware's event log is (tpm0/binary_bios_measurements).
- The event log, read in the format of the TCG PC Client Platform Firmware Profile
  (crypto-agile: a Spec ID event, then TCG_PCR_EVENT2 records) and replayed on the build
  host, gives the SHA-256 PCRs 0-9 that the TPM itself reports (the kernel's
  pcr-sha256/N): the log is the measurement, not a story beside it.
- GRUB measured what it loaded and ran (its tpm module): in PCR 9 the slot's kernel,
  whose event digest is the SHA-256 of build/wisp.kernel, slot A's slot.cfg and
  grub.cfg; in PCR 8 the kernel's command line with dm-mod.create's verity table and
  the build's root hash (build/wisp.verity), so that the measurements name the root
  the kernel verifies; grubenv is not measured (boot counting writes it).
- A second boot of the same disk gives the same PCRs 8 and 9 (a verifier's baseline
  holds from one boot to the next).
- The CRB interface (q35, as Hyper-V's vTPM) gives the same PCRs 8 and 9 again.
- The live CD (build/cloud/wisp.iso) under OVMF is measured too: its grub.cfg and
  kernel (/boot/vmlinuz, the same SHA-256) in PCR 9, its command line with the root
  hash in PCR 8, the log replayed to the TPM's PCRs.
"""

import base64
import hashlib
import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
from test_boot import read_verity  # noqa: E402
from test_iso import ISO, cds  # noqa: E402
from wispvm import VM, check, run_test  # noqa: E402

B = os.environ.get("B", "build")
IMAGE = os.path.join(B, "wisp.img")
KERNEL = os.path.join(B, "wisp.kernel")
LOG = "/sys/kernel/security/tpm0/binary_bios_measurements"
SHA256 = 0x000B  # TPM_ALG_SHA256
EV_NO_ACTION = 0x3  # not extended into any PCR (the Spec ID event, locality)
EV_IPL = 0xD  # GRUB's events: a file's or a command's


def parse_log(data):
    """[(pcr, type, {alg: digest}, event data)] of a crypto-agile event log: a first
    TCG_PCR_EVENT (SHA-1 form) holding the Spec ID Event03 with each algorithm's digest
    size, then TCG_PCR_EVENT2 records."""
    _, typ = struct.unpack_from("<II", data, 0)
    size = struct.unpack_from("<I", data, 28)[0]
    spec = data[32:32 + size]
    check(typ == EV_NO_ACTION and spec.startswith(b"Spec ID Event03\0"),
          "the event log is crypto-agile (its first event: Spec ID Event03)")
    sizes = {}
    for i in range(struct.unpack_from("<I", spec, 24)[0]):
        alg, n = struct.unpack_from("<HH", spec, 28 + 4 * i)
        sizes[alg] = n
    events, off = [], 32 + size
    while off + 12 <= len(data):
        pcr, typ, count = struct.unpack_from("<III", data, off)
        off += 12
        digests = {}
        for _ in range(count):
            alg = struct.unpack_from("<H", data, off)[0]
            digests[alg] = data[off + 2:off + 2 + sizes[alg]]
            off += 2 + sizes[alg]
        n = struct.unpack_from("<I", data, off)[0]
        events.append((pcr, typ, digests, data[off + 4:off + 4 + n]))
        off += 4 + n
    check(off == len(data), "the event log parses to its end (%d events, %d bytes)"
          % (len(events), len(data)))
    return events


def replay(events):
    """The SHA-256 PCRs the events extend, from zero."""
    pcrs = {}
    for pcr, typ, digests, _ in events:
        if typ != EV_NO_ACTION:
            pcrs[pcr] = hashlib.sha256(pcrs.get(pcr, bytes(32)) + digests[SHA256]).digest()
    return pcrs


def read_tpm(vm):
    """The guest's event log and its SHA-256 PCRs 0-9, as the kernel reports them."""
    rc, out = vm.sh("cat /sys/class/tpm/tpm0/tpm_version_major; grep -c ' securityfs ' "
                    "/proc/mounts")
    check(rc == 0 and out.split() == ["2", "1"],
          "a TPM 2.0 (tpm0) and securityfs mounted by PID 1: %r" % out.strip())
    # in lines of base64 (a console line the init prints between them stays apart), and
    # its digest to tell that every byte came over
    rc, out = vm.sh("sha256sum %s; base64 %s" % (LOG, LOG), timeout=120)
    data = base64.b64decode("".join(re.findall(r"(?m)^[A-Za-z0-9+/=]{4,76}$", out)))
    check(rc == 0 and hashlib.sha256(data).hexdigest() + "  " + LOG in out,
          "the firmware's event log read whole (%s, %d bytes)" % (LOG, len(data)))
    events = parse_log(data)
    _, out = vm.sh("for i in 0 1 2 3 4 5 6 7 8 9; do echo $i $(cat "
                   "/sys/class/tpm/tpm0/pcr-sha256/$i); done")
    pcrs = {int(i): bytes.fromhex(v) for i, v in re.findall(r"(?m)^(\d) ([0-9A-Fa-f]{64})$", out)}
    check(len(pcrs) == 10, "PCRs 0-9 of the SHA-256 bank read: %r" % out.strip())
    return events, pcrs


def grub_events(events, pcr):
    return [(d[SHA256], ev.rstrip(b"\0").decode(errors="replace"))
            for p, typ, d, ev in events if p == pcr and typ == EV_IPL]


def chain_measured(events, pcrs, kernel="/A/vmlinuz", files=("/A/slot.cfg", "/grub/grub.cfg")):
    replayed = replay(events)
    bad = [i for i in range(10) if replayed.get(i, bytes(32)) != pcrs[i]]
    check(not bad, "the event log replayed gives the TPM's PCRs 0-9 (differ: %s)" % bad)
    read = grub_events(events, 9)
    with open(KERNEL, "rb") as f:
        digest = hashlib.sha256(f.read()).digest()
    check(any(d == digest and name.endswith(kernel) for d, name in read),
          "PCR 9: GRUB measured the kernel %s, digest the SHA-256 of %s: %r"
          % (kernel, KERNEL, [n for _, n in read]))
    check(all(any(n.endswith(f) for _, n in read) for f in files),
          "PCR 9: %s measured too" % " and ".join(files))
    check(not any("grubenv" in n for _, n in read), "PCR 9: grubenv is not measured")
    root_hash = read_verity(IMAGE)["root_hash"]
    # the event names "kernel_cmdline: LINE"; its digest is LINE's (GRUB's tpm module)
    lines = [(d, n) for d, n in grub_events(events, 8) if n.startswith("kernel_cmdline: ")]
    check(len(lines) == 1 and " verity 1 " in lines[0][1] and root_hash in lines[0][1] and
          lines[0][0] == hashlib.sha256(lines[0][1].split(": ", 1)[1].encode()).digest(),
          "PCR 8: the kernel's command line, with the verity table of root hash %s: %r"
          % (root_hash, [n for _, n in lines]))


def body():
    check(os.path.exists("/usr/bin/swtpm"), "swtpm is installed")
    with VM(IMAGE, firmware="uefi", name="measured-tis", tpm="tis") as vm:
        vm.boot()
        events, pcrs = read_tpm(vm)
        chain_measured(events, pcrs)
        vm.send("reboot\n")
        vm.expect(r"init: .*reboot", 30)
        vm.boot()
        _, again = read_tpm(vm)
        check(again[8] == pcrs[8] and again[9] == pcrs[9],
              "a second boot of the same disk: the same PCRs 8 and 9")
    with VM(IMAGE, firmware="uefi", name="measured-crb", tpm="crb",
            extra=["-machine", "q35"]) as vm:
        vm.boot()
        events, crb = read_tpm(vm)
        chain_measured(events, crb)
        check(crb[8] == pcrs[8] and crb[9] == pcrs[9],
              "through CRB on q35: the same PCRs 8 and 9 as through TIS")
    with VM(None, firmware="uefi", name="measured-iso", tpm="tis", disk_bus=None,
            extra=cds(ISO)) as vm:
        vm.boot()
        events, live = read_tpm(vm)
        chain_measured(events, live, kernel="/boot/vmlinuz", files=("/boot/grub/grub.cfg",))


if __name__ == "__main__":
    sys.exit(run_test("measured-boot", body))
