"""The floor of issue 11's critical path under TCG: an init that does nothing
but mount /dev and /proc, open the console and exec busybox `cat /proc/uptime`
(bench/exec_floor.c), booted from a ROOT built like bench/init_numbers.py's
bench50 image, with that init as /sbin/init. Prints, per boot, its start and
the two cats' uptimes, then the medians: init's start to the first exec (all
the code it runs translated for the first time) and to the second.

The tree is not touched: image-builder runs on a shadow tree of symlinks
whose build/init/init is the floor init.

    python3 bench/exec_floor.py [-n N] [TREE]     (TREE built with `make`)
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "system"))
sys.path.insert(0, os.path.dirname(__file__))
import init_numbers  # noqa: E402
from wispvm import VM  # noqa: E402


def shadow(tree, tmp, init):
    """tmp/tree: symlinks to tree's entries, build/init/init replaced by init."""
    top = os.path.join(tmp, "tree")
    os.makedirs(os.path.join(top, "build", "init"))
    for name in os.listdir(tree):
        if name != "build":
            os.symlink(os.path.join(tree, name), os.path.join(top, name))
    for name in os.listdir(os.path.join(tree, "build")):
        if name not in ("init", "tests"):
            os.symlink(os.path.join(tree, "build", name), os.path.join(top, "build", name))
    for name in os.listdir(os.path.join(tree, "build", "init")):
        src = init if name == "init" else os.path.join(tree, "build", "init", name)
        os.symlink(src, os.path.join(top, "build", "init", name))
    return top


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=5, help="boots")
    ap.add_argument("tree", nargs="?", default=".")
    a = ap.parse_args()
    tree = os.path.abspath(a.tree)
    first, second = [], []
    with tempfile.TemporaryDirectory() as tmp:
        init = os.path.join(tmp, "init")
        subprocess.run(["musl-gcc", "-static", "-Os", "-o", init,
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "exec_floor.c")],
                       check=True)
        image = init_numbers.build_image(shadow(tree, tmp, init))
        for i in range(a.n):
            vm = VM(image, name="exec-floor-%d" % i, logdir=tmp, mem=256)
            try:
                vm.expect("FLOOR done", 120)
            finally:
                vm.close()
            with open(os.path.join(tmp, "exec-floor-%d.console.log" % i), errors="replace") as f:
                log = f.read()
            start = float(re.search(r"FLOOR start ([0-9.]+)", log).group(1))
            ups = [float(x) for x in re.findall(r"(?m)^([0-9]+\.[0-9]+) [0-9.]+\s*$", log)]
            if len(ups) < 2:
                sys.exit("exec_floor.py: boot %d: no two uptimes in the console log" % i)
            first.append((ups[0] - start) * 1000)
            second.append((ups[1] - ups[0]) * 1000)
            print("boot %d: start %.3f s, first exec +%.0f ms, second +%.0f ms"
                  % (i, start, first[-1], second[-1]))
    print("exec_floor: init's start to the first exec %.0f ms, the second exec %.0f ms "
          "after it (medians of %d boots, TCG)"
          % (statistics.median(first), statistics.median(second), a.n))


if __name__ == "__main__":
    main()
