"""init's numbers (issue 3): RSS of PID 1 with 50 units running, and the
time from init's start to the first unit's exec, on a test image with 50
services (build/tests/bench50.img; the default image is left alone).

    python3 bench/init_numbers.py        (B=build by default)

Prints: init_size_bytes, init_rss_kib_50_units, first_exec_ms (from
init's start to the first unit's exec, measured by that unit reading
/proc/uptime), and the same to the first "started" line of the log.
"""

import os
import re
import time
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "system"))
from wispvm import VM, BANNER  # noqa: E402

B = os.environ.get("B", "build")
OUT = os.path.join(B, "tests")


def main():
    os.makedirs(OUT, exist_ok=True)
    spec = open("image-builder/wisp.yaml").read().replace("name: wisp ", "name: wisp-bench50 ", 1)
    # First declared: prints the uptime at its exec (same clock as the banner's).
    units = "  - {name: first, kind: oneshot, command: [cat, /proc/uptime]}\n"
    units += "".join("  - {name: s%02d, command: [sleep, '100000'], restart: always}\n" % i
                    for i in range(50))
    path = os.path.join(OUT, "bench50.yaml")
    with open(path, "w") as f:
        f.write(spec.rstrip("\n") + "\n" + units)
    image = os.path.join(OUT, "bench50.img")
    tmp = os.path.abspath(os.path.join(OUT, "bench50-tmp"))
    os.makedirs(tmp, exist_ok=True)
    subprocess.run([os.path.join(B, "host", "image-builder"), "-C", ".", "--tmpdir", tmp,
                    "-o", image, path], check=True, stdout=subprocess.DEVNULL)
    print("init_size_bytes %d" % os.path.getsize(os.path.join(B, "init", "init")))
    vm = VM(image, name="bench50", mem=256)
    try:
        vm.expect(BANNER, 180)
        vm.wait_shell(120)
        vm.sh("dmesg -n 1")
        vm.sh("while [ $(dmesg | grep -c 'init: s[0-9]* started') -lt 50 ]; do sleep 1; done",
              timeout=120)
        _, out = vm.sh("grep VmRSS /proc/1/status")
        print("init_rss_kib_50_units %s" % out.split()[1])
        _, out = vm.sh("dmesg | grep -E 'init: started at uptime|init: [a-z0-9]+ started' | head -n 2")
        t = [float(x) for x in re.findall(r"^\[\s*([0-9.]+)\]", out, re.M)]
        print("first_started_log_ms %.0f (banner line to the first 'started' line, kernel log)"
              % ((t[1] - t[0]) * 1000))
        _, out = vm.sh("dmesg | grep 'init: started at uptime'; cat /var/log/wisp/first.log")
        start = float(re.search(r"started at uptime ([0-9.]+) s", out).group(1))
        execd = float(re.search(r"Z ([0-9.]+) ", out).group(1))
        print("first_exec_ms %.0f (init's start to the first unit's exec, CLOCK_BOOTTIME; "
              "/proc/uptime has 10 ms steps)" % ((execd - start) * 1000))
        # Host wall clock from typing the command to QEMU's exit (TCG).
        t0 = time.monotonic()
        vm.send("wispctl poweroff\n")
        status = vm.wait_exit(30)
        print("wispctl_poweroff_to_qemu_exit_s %.2f (exit status %d)" % (time.monotonic() - t0, status))
    finally:
        vm.close()


if __name__ == "__main__":
    main()
