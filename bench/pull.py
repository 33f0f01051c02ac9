"""Pull time and bytes: containerd-lite image pull against skopeo copy (issue 15).

The registry fixture (tests/registry: Debian's docker-registry over HTTPS with the run's
test CA, on loopback) serves the Debian minbase image the build makes (make
debian-image) and the same image with one more small layer. For N rounds, each client
fetches the image from the same HTTPS endpoint into an empty destination:
- skopeo copy docker://... oci:DIR (an OCI layout: blobs verified, nothing unpacked);
- containerd-lite image pull --no-unpack (blobs verified and recorded: skopeo's work);
- containerd-lite image pull (the same, and every layer unpacked into the store, as a
  container start needs it).
Then the second image (sharing every layer but one) is fetched into the destination
that holds the first: what each transfers and how long it takes. Bytes are what the
registry says it wrote ("http.response.written" in docker-registry's own log), so
both clients are measured at the same place. Prints one line per measurement and the
medians' ratios (skopeo / containerd-lite: above 1, containerd-lite is faster).

usage: python3 bench/pull.py [BUILD_DIR] [N]     (root; make debian-image containerd-lite)
"""

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "registry"))


def written(reg, since):
    """Bytes the HTTPS instance wrote since its log's offset SINCE, and the new offset."""
    with open(reg.instances["https"].logfile, "rb") as f:
        f.seek(since)
        text = f.read().decode(errors="replace")
    n = sum(int(m) for m in re.findall(r"http\.response\.written=(\d+)", text))
    return n, since + len(text.encode())


def offset(reg):
    return os.path.getsize(reg.instances["https"].logfile)


def timed(cmd):
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit("bench/pull.py: %s failed: %s" % (" ".join(cmd[:4]), r.stderr.strip()))
    return dt


def skopeo(reg, ref, dest):
    return ["skopeo", "--policy", os.path.join(reg.workdir, "policy.json"), "copy", "-q",
            "--src-cert-dir", reg.cert_dir, "--src-no-creds",
            "docker://%s/%s" % (reg.host("https"), ref), "oci:%s:img" % dest]


def cl_pull(cl, regs, store, ref, host, lazy):
    return [cl, "image", "--store", store, "pull", "--registries", regs] + (
        ["--no-unpack"] if lazy else []) + ["%s/%s" % (host, ref)]


def plus_image(reg, work, deb_layout):
    """The Debian image with one more layer (a small file): a second image sharing
    every layer of the first but one."""
    lay = os.path.join(work, "debian-plus")
    shutil.copytree(deb_layout, lay)
    extra = os.path.join(work, "extra")
    os.makedirs(os.path.join(extra, "srv"))
    with open(os.path.join(extra, "srv", "hello"), "w") as f:
        f.write("a layer of its own\n")
    subprocess.run(["tar", "-C", extra, "-cf", extra + ".tar", "srv"], check=True)
    subprocess.run(["umoci", "raw", "add-layer", "--image", lay + ":bookworm", extra + ".tar"],
                   check=True, capture_output=True)
    reg.push({"wisp/debian-plus:1": "oci:%s:bookworm" % lay})


def main():
    from registry import Registry
    from ref_images import need

    b = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    os.environ["B"] = b
    cl = need(os.path.join(b, "containerd-lite", "containerd-lite"), "make containerd-lite")
    deb = need(os.path.join(b, "images", "debian-minbase.oci"), "make debian-image")
    work = tempfile.mkdtemp(prefix="wisp-bench-pull-")
    try:
        with Registry(os.path.join(work, "reg"),
                      images={"wisp/debian:1": "oci:%s:bookworm" % deb}) as reg:
            plus_image(reg, work, deb)
            regs = os.path.join(work, "registries.json")
            with open(regs, "w") as f:
                json.dump({"registries": {reg.host("https"): {"ca": reg.ca}}}, f)
            print("containerd-lite %s (%d bytes), skopeo %s" % (
                cl, os.path.getsize(cl), subprocess.run(["skopeo", "--version"],
                                                        capture_output=True, text=True
                                                        ).stdout.split()[-1]))
            results = {}

            def measure(name, cmd, dest):
                shutil.rmtree(dest, ignore_errors=True)
                since = offset(reg)
                dt = timed(cmd)
                n, _ = written(reg, since)
                results.setdefault(name, []).append((dt, n))
                print("%-28s %7.3f s  %10d bytes" % (name, dt, n), flush=True)

            for i in range(rounds):
                d = os.path.join(work, "dest")
                measure("skopeo copy", skopeo(reg, "wisp/debian:1", d), d)
                # the second image into the layout that holds the first: shared blobs kept
                since = offset(reg)
                dt = timed(skopeo(reg, "wisp/debian-plus:1", d))
                n, _ = written(reg, since)
                results.setdefault("skopeo copy, 2nd image", []).append((dt, n))
                print("%-28s %7.3f s  %10d bytes" % ("skopeo copy, 2nd image", dt, n))
                for lazy in (True, False):
                    name = "cl pull" + (" --no-unpack" if lazy else "")
                    measure(name, cl_pull(cl, regs, d, "wisp/debian:1", reg.host("https"), lazy),
                            d)
                    since = offset(reg)
                    dt = timed(cl_pull(cl, regs, d, "wisp/debian-plus:1", reg.host("https"),
                                       lazy))
                    n, _ = written(reg, since)
                    results.setdefault(name + ", 2nd image", []).append((dt, n))
                    print("%-28s %7.3f s  %10d bytes" % (name + ", 2nd image", dt, n))
            med = {k: (statistics.median(t for t, _ in v), statistics.median(n for _, n in v))
                   for k, v in results.items()}
            print("medians of %d rounds:" % rounds)
            for k, (t, n) in med.items():
                print("  %-28s %7.3f s  %10d bytes" % (k, t, n))
            for a, bb in (("skopeo copy", "cl pull --no-unpack"), ("skopeo copy", "cl pull"),
                          ("skopeo copy, 2nd image", "cl pull --no-unpack, 2nd image"),
                          ("skopeo copy, 2nd image", "cl pull, 2nd image")):
                print("time %s / %s: %.2f   bytes %s / %s: %.3f" % (
                    a, bb, med[a][0] / med[bb][0], a, bb, med[a][1] / med[bb][1]))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
