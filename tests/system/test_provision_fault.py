"""A user-data document its parser cannot hand back (issue 11): the boot goes on.

The parsers of user-data run in an unprivileged child that writes a plan
(docs/provisioning-plan.md). This seed's user-data is valid cloud-config
but past every limit: nine gzip+base64 write_files of 1 MiB of zeros each,
each within its own 1 MiB bound, together a plan over provision's 8 MiB.
The child's plan is refused whole, and then: one warning on the console
naming the datasource, the same in `wispctl config`, nothing of that
user-data applied (no file, not its host name), the meta-data's host
name, the image's baked units running, and the boot complete.
(A child that crashes, hangs or breaks its seccomp filter: the unit test
tests/unit/test_init_plan.c, with a fault compiled into that test only.)
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
from wispvm import VM, BANNER, BootError  # noqa: E402

IMAGE = os.path.join(os.environ.get("B", "build"), "wisp.img")
BOOT_TIMEOUT = 180


def check(cond, what):
    if not cond:
        raise BootError(what)
    print("  ok: " + what, flush=True)


def seed(tmp):
    zeros = base64.b64encode(gzip.compress(b"\0" * (1 << 20), mtime=0)).decode()
    ud = "#cloud-config\nhostname: from-user-data\nwrite_files:\n"
    for i in range(9):
        ud += "  - {path: /var/fault-%d, encoding: gz+b64, content: %s}\n" % (i, zeros)
    paths = {}
    for name, text in (("user-data", ud),
                       ("meta-data", "instance-id: iid-fault\nlocal-hostname: meta-host\n")):
        paths[name] = os.path.join(tmp, name)
        with open(paths[name], "w") as f:
            f.write(text)
    iso = os.path.join(tmp, "seed.iso")
    subprocess.run(["cloud-localds", iso, paths["user-data"], paths["meta-data"]], check=True)
    return iso


def main():
    tmp = tempfile.mkdtemp(prefix="wisp-provision-fault-")
    vm = None
    try:
        vm = VM(IMAGE, name="provision-fault", extra=["-cdrom", seed(tmp)])
        vm.expect(BANNER, BOOT_TIMEOUT)
        vm.expect(r"cloud-init: user-data parser wrote more than 8388608 bytes; user-data of "
                  r"NoCloud \([^)\n]*\) not applied", 120)
        print("  ok: the console names the failure and the datasource", flush=True)
        m = vm.expect(r"cloud-init: applied ([^\n]*)\(\d+ ms\)", 60)
        check("0 parts, 1 warning" in m.group(1), "nothing applied, one warning")
        vm.wait_shell(120)
        vm.sh("dmesg -n 1")
        rc, out = vm.sh("wispctl config")
        check(re.search(r"warning: user-data parser wrote more than 8388608 bytes; user-data of "
                        r"NoCloud .* not applied", out), "wispctl config says what failed")
        rc, out = vm.sh("hostname; ls /var/fault-0 2>&1; "
                        "i=0; until [ -s /run/hello/ran ] || [ $i -ge 50 ]; do sleep 0.2;"
                        " i=$((i+1)); done; cat /run/hello/ran >/dev/null && echo hello-ran")
        check(re.search(r"(?m)^meta-host$", out), "the host name is meta-data's")
        check("No such file" in out, "no write_files of the refused user-data")
        check("hello-ran" in out, "the image's baked unit hello ran")
    finally:
        if vm:
            vm.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print("provision-fault: all checks passed")


if __name__ == "__main__":
    try:
        main()
    except BootError as e:
        print("FAIL: %s" % e)
        sys.exit(1)
