"""Pull time and bytes: containerd-lite image pull against skopeo copy (issue 15).

The registry fixture (tests/registry: Debian's docker-registry over HTTPS with the run's
test CA, and a plain-HTTP instance over the same storage, on loopback) serves the Debian
minbase image the build makes (make debian-image) and the same image with one more small
layer. For N rounds, each client fetches the image into an empty destination:
- skopeo copy docker://... oci:DIR (an OCI layout: blobs verified, nothing unpacked)
  against containerd-lite image pull --no-unpack (blobs verified and recorded: the same
  work), over HTTPS and over plain HTTP (which leaves the TLS libraries out: Go's crypto
  against wolfSSL 5.5.4);
- skopeo copy + umoci unpack (a runnable tree) against containerd-lite image pull (every
  layer unpacked into the store, as a container start needs it), over HTTPS.
Each then fetches the second image (sharing every layer but one) into the destination
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


def log_size(reg, inst):
    return os.path.getsize(reg.instances[inst].logfile)


def written(reg, inst, since):
    """Bytes the instance INST wrote since its log's offset SINCE, as it logged them."""
    with open(reg.instances[inst].logfile, "rb") as f:
        f.seek(since)
        text = f.read().decode(errors="replace")
    return sum(int(m) for m in re.findall(r"http\.response\.written=(\d+)", text))


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("bench/pull.py: %s failed: %s" % (" ".join(cmd[:6]), r.stderr.strip()))


def skopeo(reg, inst, ref, dest):
    tls = (["--src-cert-dir", reg.cert_dir] if inst == "https" else ["--src-tls-verify=false"])
    return ["skopeo", "--policy", os.path.join(reg.workdir, "policy.json"), "copy", "-q",
            "--src-no-creds"] + tls + ["docker://%s/%s" % (reg.host(inst), ref),
                                       "oci:%s:img" % dest]


def umoci(dest, out):
    return ["umoci", "unpack", "--image", dest + ":img", out]


def cl_pull(cl, regs, store, reg, inst, ref, lazy):
    return [cl, "image", "--store", store, "pull", "--registries", regs] + (
        ["--no-unpack"] if lazy else []) + ["%s/%s" % (reg.host(inst), ref)]


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
                json.dump({"registries": {reg.host("https"): {"ca": reg.ca},
                                          reg.host("mirror"): {"insecure": True}}}, f)
            print("containerd-lite %s (%d bytes), skopeo %s" % (
                cl, os.path.getsize(cl), subprocess.run(["skopeo", "--version"],
                                                        capture_output=True, text=True
                                                        ).stdout.split()[-1]))
            d, out = os.path.join(work, "dest"), os.path.join(work, "bundle")

            def case(name, inst, first, then):
                """FIRST: commands into an empty destination (timed); THEN: the second
                image's, into the destination FIRST filled (timed apart)."""
                for label, cmds in ((name, first), (name + ", 2nd image", then)):
                    if label == name:
                        shutil.rmtree(d, ignore_errors=True)
                        shutil.rmtree(out, ignore_errors=True)
                    since, t0 = log_size(reg, inst), time.monotonic()
                    for c in cmds:
                        run(c)
                    dt, n = time.monotonic() - t0, written(reg, inst, since)
                    results.setdefault(label, []).append((dt, n))
                    print("%-42s %7.3f s  %10d bytes" % (label, dt, n), flush=True)

            results = {}
            deb, plus = "wisp/debian:1", "wisp/debian-plus:1"
            for _ in range(rounds):
                for inst in ("https", "mirror"):
                    case("skopeo copy (%s)" % inst, inst, [skopeo(reg, inst, deb, d)],
                         [skopeo(reg, inst, plus, d)])
                    case("cl pull --no-unpack (%s)" % inst, inst,
                         [cl_pull(cl, regs, d, reg, inst, deb, True)],
                         [cl_pull(cl, regs, d, reg, inst, plus, True)])
                case("skopeo copy + umoci unpack (https)", "https",
                     [skopeo(reg, "https", deb, d), umoci(d, out)],
                     [skopeo(reg, "https", plus, d), umoci(d, out + "2")])
                case("cl pull (https)", "https", [cl_pull(cl, regs, d, reg, "https", deb, False)],
                     [cl_pull(cl, regs, d, reg, "https", plus, False)])
                shutil.rmtree(out + "2", ignore_errors=True)
            med = {k: (statistics.median(t for t, _ in v), statistics.median(n for _, n in v))
                   for k, v in results.items()}
            print("medians of %d rounds (ratio: skopeo's / containerd-lite's; above 1: "
                  "containerd-lite is faster or smaller):" % rounds)
            for a, bb in (("skopeo copy (https)", "cl pull --no-unpack (https)"),
                          ("skopeo copy (mirror)", "cl pull --no-unpack (mirror)"),
                          ("skopeo copy + umoci unpack (https)", "cl pull (https)")):
                for sfx in ("", ", 2nd image"):
                    (ta, na), (tb, nb) = med[a + sfx], med[bb + sfx]
                    print("  %-44s %7.3f s %10d B | %-38s %7.3f s %10d B | time %.2f  bytes %.3f"
                          % (a + sfx, ta, na, bb + sfx, tb, nb, ta / tb, na / nb))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
