"""Containers whose images come from registries (issue 15, docs/declarations.md "Pulls"):
the registry fixture (tests/registry: docker-registry over HTTPS with the run's CA, a
token-protected instance behind its fault-injecting front, a plain-HTTP instance) on the
host's loopback, which a guest reaches at QEMU's user-network gateway 10.0.2.2.

One boot of the default image with a NoCloud seed whose user-data gives the registry
settings under wisp.registries (the CA for the HTTPS endpoints as PEM text, the token
front's credentials, the plain-HTTP instance as docker.io's mirror, named insecure), which
provision writes as containerd-lite's files (/etc/wisp/registries.json,
/etc/wisp/registry-auth.json 0600, /etc/wisp/registry-ca/HOST.pem), and declares four
containers, none of whose images is in the store:
- pub: 10.0.2.2:P/wisp/busybox:1 over verified HTTPS (the front, which logs requests): pulled at its start, runs the
  image's Cmd (cat /etc/marker);
- priv: private/busybox:1 through the token front: the bearer token flow with the
  credentials (the realm the guest is given is the host it used);
- short: wisp/busybox:1, which docker's rules make docker.io/wisp/busybox:1, from the
  mirror (the guest has no route to docker.io);
  both start once pub has completed, and fetch its manifest only: the blobs are stored;
- down: a registry that is not there: the start fails, its log says the image is not in
  the store and why the pull failed.
Then `wispctl images` lists the three (the image's config, 2 layers), and `wispctl
pull` of pub's reference transfers no blob (all stored) and prints REF DIGEST; a tag the
registry lacks is one line naming HTTP 404. A second boot of the same disk runs them again
without a request for pub's image (pull: missing) and with priv's manifest only (pull:
always). A third boot's `wispctl pull` of a 50 MiB image is held by the front after 24 MiB
of its layer and the machine loses its power (QEMU killed); the fourth boot lists no such
image, keeps the partial blob, and a pull again resumes it with one Range request from
where it was and verifies the whole; gc leaves no staging behind. The requests the fronts and instances logged
show the guest's pulls came from the registry.
"""

import json
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "registry"))
from registry import Registry  # noqa: E402
from ref_images import big_layout, busybox_layout, build_dir, need  # noqa: E402
from wispvm import VM, check, make_overlay, nocloud_seed, run_test, wait_units  # noqa: E402

GW = "10.0.2.2"
MARKER = "wisp registry fixture"
MIB = 1 << 20
STORE = "/var/lib/wisp/images"


def user_data(reg):
    """wisp.registries: the CA (PEM text) for the HTTPS endpoints, the token front's
    credentials, the plain-HTTP instance as docker.io's mirror, named insecure."""
    https, ftok, mirror = (reg.host(e, GW) for e in ("front", "front-token", "mirror"))
    with open(reg.ca) as f:
        pem = "".join("        " + line for line in f)
    return ("#cloud-config\nwisp:\n  registries:\n"
            "    '%s':\n      ca: |\n%s"
            "    '%s':\n      username: %s\n      password: %s\n      ca: |\n%s"
            "    docker.io: {mirrors: ['%s']}\n"
            "    '%s': {insecure: true}\n"
            "  containers:\n"
            "    - {name: pub, image: '%s/wisp/busybox:1'}\n"
            "    - {name: priv, image: '%s/private/busybox:1', pull: always,\n"
            "       depends_on: {pub: {condition: completed}}}\n"
            "    - {name: short, image: 'wisp/busybox:1', depends_on: {pub: {condition: completed}}}\n"
            "    - {name: down, image: '%s:1/wisp/busybox:1'}\n"
            % (https, pem, ftok, reg.user, reg.password, pem, mirror, mirror, https, ftok, GW))


def log_of(vm, name):
    return vm.sh("cat /var/log/wisp/%s.log" % name)[1]


def pulled(vm, reg):
    rc, out = vm.sh("stat -c '%a %U' /etc/wisp/registry-auth.json /etc/wisp/registries.json")
    check(rc == 0 and out.split() == ["600", "root", "644", "root"],
          "wisp.registries written: the credentials 0600 root's, the settings 0644: %r" % out)
    u = wait_units(vm, "the pulled containers done, down failed",
                   lambda u: all(u.get(n, {}).get("state") == "done"
                                 for n in ("pub", "priv", "short"))
                   and u.get("down", {}).get("state") == "failed", timeout=300)
    check(all(u[n]["kind"] == "container" for n in ("pub", "priv", "short", "down")),
          "four containers declared from user-data")
    for name, ref, scheme, host in (
            ("pub", "%s/wisp/busybox:1" % reg.host("front", GW), "https", reg.host("front", GW)),
            ("priv", "%s/private/busybox:1" % reg.host("front-token", GW), "https",
             reg.host("front-token", GW)),
            ("short", "docker.io/wisp/busybox:1", "http", reg.host("mirror", GW))):
        log = log_of(vm, name)
        check("pulling %s from %s%s://%s" % (ref, "mirror " if name == "short" else "",
                                              scheme, host) in log
              and re.search(r" %s sha256:[0-9a-f]{64}$" % re.escape(ref), log, re.M)
              and MARKER in log
              and (log.count("bytes fetched") == 3 if name == "pub"
                   else log.count(": in the store") == 3 and "bytes fetched" not in log),
              "%s: pulled at its start (%s), then ran the image's Cmd: %r"
              % (name, "3 blobs fetched" if name == "pub" else "the manifest: its blobs are "
                 "pub's", log[-600:]))
    log = log_of(vm, "down")
    check("image %s:1/wisp/busybox:1: not in store /var/lib/wisp/images; pulled: image pull"
          % GW in log, "down: its log says the image is missing and why the pull failed: %r"
          % log[-400:])


def config_digest(lay):
    """The config digest of the layout's one image: what `images` lists."""
    with open(os.path.join(lay, "index.json")) as f:
        man = json.load(f)["manifests"][0]["digest"]
    with open(os.path.join(lay, "blobs", "sha256", man[7:])) as f:
        return json.load(f)["config"]["digest"]


def images(vm, reg, lay):
    want = reg.digests["wisp/busybox:1"]
    rc, out = vm.sh("wispctl images")
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in out.splitlines()
            if line.count("\t") == 2}
    for ref in ("%s/wisp/busybox:1" % reg.host("front", GW),
                "%s/private/busybox:1" % reg.host("front-token", GW), "docker.io/wisp/busybox:1"):
        check(rc == 0 and rows.get(ref) == [config_digest(lay), "2 layers"],
              "wispctl images: %s, its config and 2 layers: %r" % (ref, out))
    ref = "%s/wisp/busybox:1" % reg.host("front", GW)
    rc, out = vm.sh("wispctl pull %s" % ref, timeout=120)
    lines = out.strip().splitlines()
    check(rc == 0 and lines[-1:] == ["%s %s" % (ref, want)]
          and "bytes fetched" not in out and out.count(": in the store") == 3,
          "wispctl pull of a stored image: every blob in the store, REF DIGEST: %r" % out)
    rc, out = vm.sh("wispctl pull %s/wisp/nothere:1 2>&1" % reg.host("front", GW), timeout=120)
    check(rc == 1 and "HTTP 404" in out and out.strip().splitlines()[-1].startswith(
        "containerd-lite: image pull "), "wispctl pull of a missing tag: one line, HTTP 404: %r"
        % out)


def second_boot(vm, reg, since):
    """The same disk again: pub and short (pull: missing) start from the store without a
    request; priv (pull: always) asks for its manifest again, and for no blob."""
    wait_units(vm, "the containers done again",
               lambda u: all(u.get(n, {}).get("state") == "done"
                             for n in ("pub", "priv", "short")), timeout=300)
    for name, times in (("pub", 1), ("short", 1), ("priv", 2)):
        log = log_of(vm, name)
        check(log.count("pulling ") == times and log.count(MARKER) == 2,
              "second boot: %s ran again, pulled %d time(s) in all: %r" % (name, times, log[-600:]))
    seen = [(e["server"], e["method"], e["path"]) for e in reg.log.entries()[since:]]
    check(not [x for x in seen if x[0] == "front"],
          "second boot: nothing asked of pub's registry: %r" % seen)
    check(any(x[0] == "front-token" and "/private/busybox/manifests/" in x[2] for x in seen)
          and not [x for x in seen if x[0] == "front-token" and "/blobs/" in x[2]],
          "second boot: priv's manifest asked for again (pull: always), no blob: %r" % seen)


def layer_of(lay):
    """The digest of the one layer of the layout's image."""
    with open(os.path.join(lay, "index.json")) as f:
        man = json.load(f)["manifests"][0]["digest"]
    with open(os.path.join(lay, "blobs", "sha256", man[7:])) as f:
        return json.load(f)["layers"][0]["digest"]


def cut_mid_pull(vm, reg, layer):
    """`wispctl pull` of the 50 MiB image, its layer held by the front after 24 MiB; once
    there (the bytes written out: sync), the machine loses its power (QEMU killed)."""
    reg.front.stall_after(layer, 24 * MIB)
    vm.sh("(wispctl pull %s/wisp/big:1 >/dev/null 2>&1 &)" % reg.host("front", GW))
    check(reg.front.stalled(layer).wait(600), "the guest's pull reached byte 24 MiB of the layer")
    vm.sh("sync")
    vm.close()
    reg.front.reset()


def after_cut(vm, reg, layer):
    """Nothing of the cut pull is visible; the next pull resumes the partial blob with one
    Range request and the image is whole; gc leaves a consistent store."""
    ref = "%s/wisp/big:1" % reg.host("front", GW)
    rc, out = vm.sh("wispctl images")
    check(rc == 0 and "wisp/big" not in out, "after the power cut: no image big listed: %r" % out)
    rc, out = vm.sh("ls %s/images | grep -c . ; stat -c %%s %s/tmp/partial/%s"
                    % (STORE, STORE, layer[7:]))
    part = out.split()[-1] if rc == 0 else ""
    check(rc == 0 and part.isdigit() and int(part) > 0,
          "after the power cut: the partial blob kept (%s bytes), no record: %r" % (part, out))
    since = len(reg.log.entries())
    rc, out = vm.sh("wispctl pull %s" % ref, timeout=900)
    check(rc == 0 and out.strip().splitlines()[-1:] == ["%s %s" % (ref, reg.digests["wisp/big:1"])],
          "the pull again: whole, REF DIGEST: %r" % out[-400:])
    gets = [e["headers"].get("range") for e in reg.log.entries()[since:]
            if e["server"] == "front" and e["path"].endswith("/blobs/" + layer)]
    check(gets == ["bytes=%s-" % part], "the layer resumed from byte %s, one request: %r"
          % (part, gets))
    rc, out = vm.sh("wispctl images | grep -c wisp/big; containerd-lite image gc && "
                    "ls %s/tmp | grep -v '^partial$' | grep -c . ; "
                    "containerd-lite image unpack %s /tmp/big && test -s /tmp/big/big.bin && echo unpacked"
                    % (STORE, ref), timeout=300)
    lines = out.split("\n")
    check(rc == 0 and lines[0] == "1" and lines[-3:] == ["0", "unpacked", ""]
          and any(x.startswith("removed tmp/pull-") for x in lines),
          "listed once; gc removed the cut pull's staging directory and left none; the tree "
          "unpacks: %r" % out)


def main(image="build/wisp.img"):
    work = os.path.join(build_dir(), "tests", "pull")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    busybox = need(os.path.join(build_dir(), "busybox", "busybox"), "make busybox")
    lay = busybox_layout(os.path.join(work, "busybox-oci"), busybox)
    big = big_layout(os.path.join(work, "big-oci"))
    with Registry(os.path.join(work, "registry"),
                  images={"wisp/busybox:1": "oci:%s" % lay,
                          "private/busybox:1": "oci:%s" % lay,
                          "wisp/big:1": "oci:%s" % big}) as reg:
        seed = nocloud_seed(work, user_data(reg), "pull")
        disk = os.path.join(work, "disk.qcow2")
        # 1 GiB: STATE grows into it at the first boot, room for the 50 MiB image twice
        make_overlay(image, disk, "1G")
        with VM(image, name="pull", overlay=disk, nic="user", extra=["-cdrom", seed],
                diagnose="wispctl ps; tail -n 20 /var/log/wisp/*.log") as vm:
            vm.boot()
            pulled(vm, reg)
            images(vm, reg, lay)
            vm.sh("sync")
        since = len(reg.log.entries())
        with VM(image, name="pull-2", overlay=disk, nic="user", extra=["-cdrom", seed],
                diagnose="wispctl ps; tail -n 20 /var/log/wisp/*.log") as vm:
            vm.boot()
            second_boot(vm, reg, since)
        with VM(image, name="pull-3", overlay=disk, nic="user", extra=["-cdrom", seed]) as vm:
            vm.boot()
            cut_mid_pull(vm, reg, layer_of(big))
        with VM(image, name="pull-4", overlay=disk, nic="user", extra=["-cdrom", seed],
                diagnose="wispctl ps; ls -lR %s/tmp" % STORE) as vm:
            vm.boot()
            after_cut(vm, reg, layer_of(big))
        seen = [(e.get("server"), e.get("path")) for e in reg.log.entries()]
        check(any(s == "front-token" and "/private/busybox/manifests/" in p for s, p in seen)
              and any(s == "token" and p.startswith("/token") for s, p in seen),
              "the registry's log: the guest's requests through the token front: %r"
              % seen[-20:])


if __name__ == "__main__":
    sys.exit(run_test("pull", main))
