"""The README's first command on a fresh machine, as CI runs it in its fresh
root before `make test` (.ci/run): `make run` installs the packages it
needs, builds everything and boots the default image on this terminal.
Driven through its stdio as a user's terminal would be: the console shell
answers, the demo service `hello` has run (done in `wispctl ps`, its line
in its log, its file), the demo container `demo` runs and passes its health
check (`wispctl ps`: healthy, in a user namespace of its own) and `wispctl
logs demo` shows its lines, as the README's quick start says to type;
`poweroff` ends QEMU and `make run` exits 0. Not a system test
(run.py does not list it): `make test` builds first, so it would only boot.

  python3 tests/system/readme_run.py          (the make of this checkout)
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wispvm import VM, check, run_test, wait_sh  # noqa: E402

# Installing, then building from nothing (the kernel from its cache, or not):
# generous, it only catches a hang; CI's own budget bounds the whole run.
BUILD_TIMEOUT = 4500


def main():
    with VM(None, name="readme-make-run", command=["make", "run"]) as vm:
        vm.expect(r"Booting \S*wisp\.img under QEMU \(bios, (TCG|KVM)\)", BUILD_TIMEOUT)
        vm.boot()
        wait_sh(vm, "wispctl ps", lambda rc, o: rc == 0 and re.search(r"(?m)^hello\s+\S+\s+done", o),
                "wispctl ps: the demo service has run and is done")
        rc, out = vm.sh("cat /var/log/wisp/hello.log; test -s /run/hello/ran")
        check(rc == 0 and re.search(r"hello: Wisp demo service ran on \S+", out) is not None,
              "its line in its log, its file in /run/hello: %r" % out.strip()[-200:])
        # its image is made on the guest's first use of it, then it starts; its
        # health check first counts once the container has ticked (start_period)
        wait_sh(vm, "wispctl ps", lambda rc, o: rc == 0 and re.search(
            r"(?m)^demo\s+container\s+healthy\s.*\s1048576-1114111$", o),
            "wispctl ps: the demo container runs, healthy, in its own user namespace", 240)
        wait_sh(vm, "wispctl logs demo", lambda rc, o: rc == 0 and re.search(
            r"(?m)demo: started in a container from image wisp/demo:1, pid 1 ", o) and re.search(
            r"(?m)demo: tick \d+, ", o), "wispctl logs demo: its start line and its ticks")
        vm.send("poweroff\n")
        vm.exits_0(120, "poweroff at the prompt: `make run` ends")


if __name__ == "__main__":
    sys.exit(run_test("readme-make-run", main))
