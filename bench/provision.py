"""Provisioning time (issue 5): from init's start to the end of cloud-init's
step, with a NoCloud seed made by cloud-localds (iso9660) and with no
datasource at all, under TCG, from the guest's own clocks.

Every time is a printk timestamp of the kernel's log, one clock: init's
start is the kernel's "Run /sbin/init as init process" (init's banner prints
CLOCK_BOOTTIME, which drifts from printk's clock by up to ~10 ms, more under
WISP_ICOUNT=1); the end is "provision: cloud-init: applied ..." (or "no
datasource"; "init: cloud-init: ..." on images from before provision was its
own program), whose "(N ms)" is the step's own duration (inside provision,
so without its exec). Where provision is its own program, also init's start to
its end ("init: provision done"), which waits for the host's firewall and
after which init starts the units, and the time from the step's end to it.
Prints the median of N boots of each,
interleaved; with more build directories (other trees, e.g. the tree
before a change), all are booted in the same run, interleaved, and the
ratio of each to the first is printed, in ms and per second of the kernel's
own time to init ("Run /sbin/init": steadier on a host whose speed
drifts between boots):
  python3 bench/provision.py build 3
  python3 bench/provision.py /work/wt/before/build 3 build
BUILD:plain boots that build's kernel directly with ROOT straight from its
partition, without dm-verity (bench/verity_cost.py's plain boot): the tree
before the split had no verified root, and on TCG's default CPU (no SHA
instructions) every block read from a verified ROOT is hashed emulated.
BUILD:direct boots the kernel directly with slot A's verity command line, to
tell the direct boot's share from the verification's:
  python3 bench/provision.py /work/wt/before/build 3 build:plain build
  python3 bench/provision.py build 3 build:direct build:plain
Under an instruction clock (tests/system/wispvm.py: the same guest time
every run; TCG's translation and the host's load left out):
  WISP_ICOUNT=1 python3 bench/provision.py /work/wt/before/build 2 build
"""

import os
import re
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "system"))
from slots import partitions  # noqa: E402
from verity_cost import plain_cmdline  # noqa: E402
from wispvm import VM  # noqa: E402

# "provision: " since provisioning is its own program (issue 11); "init: " before.
RUN_INIT = re.compile(r"\[\s*([0-9]+\.[0-9]+)\] Run /sbin/init as init process")
END = re.compile(r"\[\s*([0-9]+\.[0-9]+)\] (?:provision|init): cloud-init: "
                 r"(?:applied [^\n]*|no datasource) \((\d+) ms\)")
DONE = re.compile(r"\[\s*([0-9]+\.[0-9]+)\] init: provision done \(\d+ ms\)")
USER_DATA = """#cloud-config
hostname: bench
users:
  - name: alice
    ssh_authorized_keys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBenchBenchBenchBenchBenchBenchBench a@b]
write_files:
  - {path: /etc/bench.txt, content: "bench\\n", permissions: '0644'}
bootcmd: [echo bootcmd]
"""


def seed(tmp):
    ud, md, iso = (os.path.join(tmp, n) for n in ("user-data", "meta-data", "seed.iso"))
    with open(ud, "w") as f:
        f.write(USER_DATA)
    with open(md, "w") as f:
        f.write("instance-id: bench-1\n")
    subprocess.run(["cloud-localds", iso, ud, md], check=True)
    return iso


def boot_args(arg):
    """(build, mode, VM arguments) of BUILD, BUILD:direct or BUILD:plain: the
    build's disk image booted by GRUB; or its kernel booted with -kernel and slot
    A's command line (direct); or so, with ROOT mounted straight from the
    partition, without dm-verity (verity_cost.py's plain boot), to compare with a
    tree that had no verified root."""
    b, _, how = arg.partition(":")
    if how not in ("", "direct", "plain"):
        sys.exit("provision.py: %s: BUILD, BUILD:direct or BUILD:plain" % arg)
    if not how:
        return b, how, {}
    with open(os.path.join(b, "wisp.cmdline")) as f:
        line = f.read().strip()
    if how == "plain":
        line = plain_cmdline(line, partitions(os.path.join(b, "wisp.img"))["ROOT-A"].partuuid)
    # what grub.cfg adds on a boot that is not a trial: without it update-watch
    # reads grubenv from the ESP (a direct kernel boot), work a GRUB boot skips
    line += " wisp.tries= wisp.rollback="
    return b, how, {"kernel": os.path.join(b, "wisp.kernel"), "cmdline": line}


def one(arg, iso, i):
    b, how, kw = boot_args(arg)
    extra = ["-cdrom", iso] if iso else []
    vm = VM(os.path.join(b, "wisp.img"),
            name="bench-provision-%s%s-%d" % ("seed" if iso else "none", how and "-" + how, i),
            logdir=os.path.join(b, "bench"), extra=extra, **kw)
    try:
        start = float(vm.expect(RUN_INIT, 180).group(1))
        m = vm.expect(END, 120)
        done = None
        if "] provision: " in m.group(0):
            done = (float(vm.expect(DONE, 120).group(1)) - start) * 1000
        ms = (float(m.group(1)) - start) * 1000
        # per second of the kernel's own time to init (CPU bound under TCG like the
        # path measured): steadier than ms on a host whose speed drifts between boots
        return ms, int(m.group(2)), done, ms / start
    finally:
        vm.close()


def main():
    dirs, n = [sys.argv[1]] + sys.argv[3:], int(sys.argv[2])
    runs = {(b, k): [] for b in dirs for k in ("nocloud_seed", "no_datasource")}
    with tempfile.TemporaryDirectory() as tmp:
        iso = seed(tmp)
        for i in range(n):
            for b in dirs:
                runs[(b, "nocloud_seed")].append(one(b, iso, i))
                runs[(b, "no_datasource")].append(one(b, None, i))
    med = {}
    for (b, label), r in runs.items():
        med[(b, label)] = statistics.median(x[0] for x in r)
        print("%s: %s init_start_to_provisioned_ms median %.0f  cloud_init_step_ms median %d  "
              "(n=%d, TCG; all: %s)" % (b, label, med[(b, label)],
                                       statistics.median(x[1] for x in r), len(r),
                                       " ".join("%.0f" % x[0] for x in r)))
        print("%s: %s init_start_to_provisioned_per_kernel_ms median %.0f (all: %s)" % (
            b, label, statistics.median(x[3] for x in r), " ".join("%.0f" % x[3] for x in r)))
        med[(b, label, "k")] = statistics.median(x[3] for x in r)
        if all(x[2] is not None for x in r):
            print("%s: %s init_start_to_provision_done_ms median %.0f (all: %s)" % (
                b, label, statistics.median(x[2] for x in r), " ".join("%.0f" % x[2] for x in r)))
            # what provision does after cloud-init's step (network, image import,
            # cloud-final, the firewall's ports, boot-good) and init's reading of its end
            tail = [x[2] - x[0] for x in r]
            print("%s: %s provisioned_to_provision_done_ms median %.1f (all: %s)" % (
                b, label, statistics.median(tail), " ".join("%.1f" % t for t in tail)))
    for b in dirs[1:]:
        for label in ("nocloud_seed", "no_datasource"):
            print("%s: %s ratio to %s: %.2f (per kernel second %.2f)" % (
                b, label, dirs[0], med[(b, label)] / med[(dirs[0], label)],
                med[(b, label, "k")] / med[(dirs[0], label, "k")]))


if __name__ == "__main__":
    main()
