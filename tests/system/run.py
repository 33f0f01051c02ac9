"""Run the system tests, independent ones in parallel, and summarise.

Each job is a command; its output is printed whole when it ends so that
parallel jobs do not interleave. The jobs of ALONE run after the parallel
ones, one at a time with nothing beside them. Exit status is non-zero if
any job failed.
"""

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))


def py(script, *args):
    return [sys.executable, os.path.join(HERE, script)] + list(args)


def sh(script):
    return ["sh", os.path.join(HERE, script)]


JOBS = [
    ("boot-bios", py("test_boot.py", "bios")),
    ("boot-uefi", py("test_boot.py", "uefi")),
    ("boot-slot-b", py("test_boot.py", "slot-b")),
    ("boot-verity", py("test_boot.py", "verity")),
    ("boot-hang", py("test_boot.py", "hang")),
    ("boot-deadline", py("test_boot.py", "deadline")),
    ("boot-good-slot", py("test_boot.py", "good-slot")),
    ("boot-disks", py("test_boot.py", "disks")),
    ("boot-slotb-spec", py("test_boot.py", "slotb-spec")),
    ("update", py("test_update.py")),
    ("update-userdata", py("test_update.py", "userdata")),
    ("pull", py("test_pull.py")),
    ("powercut", py("test_powercut.py")),
    ("reproducible", sh("test_reproducible.sh")),
    ("image-builder-cli", sh("test_image_builder_cli.sh")),
    ("formats", py("test_formats.py")),
    ("iso", py("test_iso.py")),
    ("pxe", py("test_pxe.py")),
    ("secureboot", py("test_secureboot.py")),
    ("measured-boot", py("test_measured.py")),
    ("control", py("test_control.py")),
    ("host", py("test_host.py")),
    ("supervise", py("test_supervise.py")),
    ("runtime", py("test_runtime.py")),
    ("cloudinit", py("test_cloudinit.py")),
    ("containers", py("test_containers.py")),
    ("oom", py("test_oom.py")),
    ("pids", py("test_pids.py")),
    ("disk", py("test_disk.py")),
    ("many", py("test_many.py")),
    ("userns", py("test_userns.py")),
    ("bridge", py("test_bridge.py")),
    ("bandwidth", py("test_bandwidth.py")),
    ("ssh", py("test_ssh.py")),
    ("netcfg", py("test_netcfg.py")),
    ("escape", py("test_escape.py")),
    ("provision", py("test_provision.py")),
    ("run", py("test_run.py")),
    # Debian's python3: the test's CRI client needs its python3-grpcio
    ("node", ["/usr/bin/python3", os.path.join(HERE, "test_node.py")]),
]

# Run after the others, one at a time (issue 12): reproducible's nested
# clean build keeps both cores busy for about 10 min; beside the QEMU
# guests its timing and theirs would fight (and their timeouts with it).
# bandwidth times transfers in a TCG guest: another guest beside it takes
# the CPU they run on.
ALONE = {"reproducible", "bandwidth"}


def run(job):
    name, cmd = job
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return name, p.returncode, p.stdout.decode(errors="replace"), time.monotonic() - t0


def main():
    only = sys.argv[1:]
    unknown = [n for n in only if n not in [j[0] for j in JOBS]]
    if unknown:  # a misspelt name would otherwise run nothing, and pass
        print("system tests: no test %s (tests: %s)" % (", ".join(unknown),
              " ".join(j[0] for j in JOBS)), file=sys.stderr)
        return 2
    if ALONE - {j[0] for j in JOBS}:  # a misspelt name would run in the pool
        print("system tests: ALONE names no test: %s" % " ".join(ALONE - {j[0] for j in JOBS}),
              file=sys.stderr)
        return 2
    jobs = [j for j in JOBS if not only or j[0] in only]
    pooled = [j for j in jobs if j[0] not in ALONE]
    alone = [j for j in jobs if j[0] in ALONE]
    workers = max(1, min(len(pooled), int(os.environ.get("WISP_TEST_JOBS", os.cpu_count() or 2))))
    failed = []

    def report(results):
        for name, rc, out, took in results:
            print("==== %s (%.0f s)\n%s" % (name, took, out), end="", flush=True)
            if rc != 0:
                failed.append(name)

    with ThreadPoolExecutor(max_workers=workers) as pool:  # its end waits for every job
        report(pool.map(run, pooled))
    report(map(run, alone))  # lazy: one job, its report, then the next
    print("system tests: %d run, %d failed%s" % (len(jobs), len(failed),
          (": " + " ".join(failed)) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
