#!/usr/bin/env python3
"""The bundle writer and the updater together (docs/update-bundle.md), run by
`make update-test` on the build host: `image-builder bundle` (native) writes
bundles from a real ROOT part (mkfs.erofs, then veritysetup format
--no-superblock appending the tree) signed by Debian's minisign with the test
key; the updater (the static musl binary that goes into ROOT) verifies them.

Checks: the bundle verifies, from a file and from standard input; the same
inputs and SOURCE_DATE_EPOCH give the same bytes, another epoch other bytes;
Debian's minisign verifies the manifest's signature with the .pub file (so an
operator can check a bundle with the tool they signed it with); inspect needs
no key; the verity numbers in the manifest are veritysetup's; a changed byte
in each region, another key, an expired bundle and a cut bundle each fail
with exit 1 and one line naming the problem; the writer refuses a verity file
or root part that do not match, a bad version, an expiry before the epoch;
--help, --version, usage errors (exit 2). With a spec that has secure_boot, the
bundle is format 2: the updater reads its three signatures, gpg verifies the
kernel's with the key's public part, and it is reproducible too. An apply while
another updater holds the lock fails in one line; a rollback while an apply waits
for its bundle's head is not held off by it (the lock comes after the head).

An apply from a URL (wispctl, the updater and containerd-lite image fetch, in a
mount namespace where they stand at their paths of ROOT): while the download runs,
no process's /proc/PID/cmdline holds the URL's query (a presigned URL's token),
nor does the error; a server trickling the bundle fails the apply under the
fetcher's low-speed limit (lowered to 2 s by CL_TEST_FETCH_SPEED_TIME) in one line; a
fetcher that writes escape sequences to its stderr (as a taken-over one would) reaches
the updater's error line as text (its controls escaped), one that sends nothing is
stopped by the updater's own bound on its silence, and so is one that ends its
stream but never exits (its stderr kept open, or closed too); another key's bundle from a
URL is refused in the apply's words, not the fetcher's broken pipe.

usage: bundle.py IMAGE_BUILDER UPDATE KEYS_DIR WISPCTL CONTAINERD_LITE
Prints ok/FAIL per check; exits 1 on any failure (a missing tool is one).
"""
import base64
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

failures = 0
EPOCH = "1767225600"  # 2026-01-01
NOW = "1780000000"    # 2026-05-28, before the 365d expiry


def check(name, cond, detail=""):
    global failures
    if not cond:
        failures += 1
    print(("ok   " if cond else "FAIL ") + name + ("" if cond or not detail else ": " + repr(detail)))


def run(*args, epoch=EPOCH, stdin=None):
    env = dict(os.environ, SOURCE_DATE_EPOCH=epoch, PATH=os.environ["PATH"] + ":/usr/sbin:/sbin")
    return subprocess.run(list(args), capture_output=True, env=env, timeout=60, input=stdin)


def make_root(d):
    """ROOT's part as image-builder build makes it: erofs, whole blocks, its verity tree."""
    tree = os.path.join(d, "tree")
    os.makedirs(os.path.join(tree, "sbin"))
    with open(os.path.join(tree, "sbin", "init"), "wb") as f:
        f.write(bytes(range(256)) * 600)
    root = os.path.join(d, "wisp.root")
    r = run("mkfs.erofs", "--quiet", "-T" + EPOCH, "-U", "6a1d7f5e-0000-4000-8000-000000000001",
            root, tree)
    check("mkfs.erofs", r.returncode == 0, r.stderr)
    size = (os.path.getsize(root) + 4095) // 4096 * 4096
    os.truncate(root, size)
    salt = "ab" * 32
    r = run("veritysetup", "format", "--no-superblock", "--hash-offset=%d" % size,
            "--data-blocks=%d" % (size // 4096), "--salt=" + salt, root, root)
    check("veritysetup format", r.returncode == 0, r.stderr)
    root_hash = [l.split()[-1] for l in r.stdout.decode().splitlines() if l.startswith("Root hash")]
    with open(os.path.join(d, "wisp.verity"), "w") as f:
        f.write("hash=sha256\ndata_block_size=4096\nhash_block_size=4096\n"
                "data_blocks=%d\nhash_start_block=%d\nroot_hash=%s\nsalt=%s\n"
                % (size // 4096, size // 4096, root_hash[0] if root_hash else "", salt))
    with open(os.path.join(d, "wisp.kernel"), "wb") as f:
        f.write(b"bzImage" * 40000)
    return root_hash[0] if root_hash else None, os.path.getsize(root)


def write(ib, d, out, *extra, epoch=EPOCH, key="wisp-test.key"):
    return run(ib, "bundle", "-C", d, "-o", out, "--key", os.path.join(KEYS, key),
               "--expires", "365d", "--variant", "wisp", "--cmdline", "console=ttyS0,115200",
               "--kernel", "wisp.kernel", "--root", "wisp.root", "--verity", "wisp.verity",
               *extra, epoch=epoch)


def verify(upd, path, trusted, *extra, stdin=None):
    return run(upd, "verify", path, "--keys", trusted, "--now", NOW, *extra, stdin=stdin)


def refused(name, upd, data, trusted, want, d):
    path = os.path.join(d, "bad.bundle")
    with open(path, "wb") as f:
        f.write(data)
    r = verify(upd, path, trusted)
    err = r.stderr.decode()
    check(name + ": exit 1, " + want, r.returncode == 1 and want in err and
          err.count("\n") == 1 and err.startswith("update: "), (r.returncode, err))


def regions(data):
    """Offsets of the manifest, the signature file and the parts."""
    head = data.index(b"\n") + 1
    _, _, mlen, slen = data[:head].split()
    sig = head + int(mlen)
    kernel = sig + int(slen)
    return head, sig, kernel


def tamper_checks(upd, data, trusted, d, root_size):
    head, sig, kernel = regions(data)

    def changed(at):
        b = bytearray(data)
        b[at] = ord("A") if b[at] != ord("A") else ord("B")
        return bytes(b)

    man = data[head:sig]
    refused("a byte of the manifest", upd, changed(head + man.index(b"variant: ") + 9), trusted,
            "the manifest does not match its signature", d)
    sig_line = sig + data[sig:kernel].index(b"\n") + 1
    refused("a byte of the signature", upd, changed(sig_line + 40), trusted,
            "the signature is damaged", d)
    refused("a byte of the trusted comment", upd,
            changed(sig + data[sig:kernel].index(b"version:")), trusted,
            "the trusted comment does not match its signature", d)
    refused("a byte of the kernel", upd, changed(kernel + 100), trusted,
            "part kernel: SHA-256 differs from the manifest's", d)
    refused("a byte of the root part", upd, changed(len(data) - root_size + 5), trusted,
            "part root: SHA-256 differs from the manifest's", d)
    refused("a byte of the verity tree", upd, changed(len(data) - 1), trusted,
            "part root: SHA-256 differs", d)
    refused("cut in the root part", upd, data[:-10], trusted, "part root: truncated", d)
    refused("cut in the head", upd, data[:head + 20], trusted, "truncated in its manifest", d)
    refused("a byte more", upd, data + b"\0", trusted, "data after the last part", d)
    refused("empty", upd, b"", trusted, "empty or truncated in its framing line", d)


def resigned(data, change, d):
    """DATA with its manifest changed by CHANGE and signed again with the test key (as a
    signer's mistake or a compromised build would): a bundle the key really signed."""
    head, sig, kernel = regions(data)
    man, sigf = os.path.join(d, "resign.manifest"), os.path.join(d, "resign.minisig")
    manifest = change(data[head:sig])
    open(man, "wb").write(manifest)
    r = run("minisign", "-S", "-s", os.path.join(KEYS, "wisp-test.key"), "-m", man, "-x", sigf,
            "-t", "wisp-bundle version:0.1.0 variant:wisp", stdin=b"")
    check("minisign signs a changed manifest", r.returncode == 0, r.stderr)
    signature = open(sigf, "rb").read()
    return (b"wisp-bundle 1 %d %d\n" % (len(manifest), len(signature)) + manifest + signature +
            data[kernel:])


# A signed command line's arguments that are the slot's, GRUB's or a live medium's: the
# root off dm-verity, another init, the running slot overwritten by the next apply, the
# trial's count and watchdog handed to init.
BAD_CMDLINE = "root=/dev/vda5 wisp.slot=A init=/bin/sh -- wisp.tries="


def signed_cmdline(upd, data, trusted, d):
    bad = resigned(data, lambda m: m.replace(b"cmdline: console=ttyS0,115200\n",
                                             b"cmdline: " + BAD_CMDLINE.encode() + b"\n"), d)
    path = os.path.join(d, "cmdline.bundle")
    open(path, "wb").write(bad)
    want = 'argument "root=/dev/vda5": the slot sets its root (dm-verity)'
    for name, r in (("inspect", run(upd, "inspect", path)), ("verify", verify(upd, path, trusted))):
        err = r.stderr.decode()
        check("update %s refuses a signed cmdline of %s: exit 1, %s" % (name, BAD_CMDLINE, want),
              r.returncode == 1 and want in err and err.count("\n") == 1, (r.returncode, err))
    good = resigned(data, lambda m: m.replace(b"cmdline: console=ttyS0,115200\n",
                                              b"cmdline: console=ttyS0,115200 quiet\n"), d)
    open(path, "wb").write(good)
    r = verify(upd, path, trusted)
    check("update verify takes a signed cmdline of its own arguments", r.returncode == 0, r.stderr)


# Two applies at once (init/update/lock.c), in a mount namespace whose /run is a tmpfs of
# its own (the host's lock untouched): the first holds the lock while it waits to open its
# bundle, a FIFO nobody writes yet; the second must fail after its wait (UPD_APPLY_WAIT, for
# a mark-good's brief hold), in one line.
CONCURRENT = r"""
mount -t tmpfs tmpfs /run || exit 9
mkdir -m 0700 -p /run/wisp/update
exec 4> /run/wisp/update/lock
flock 4
timeout 40 "$UPD" apply "$B1" --keys "$K" --now 1780000000
echo "rc=$?" >&2
"""


def concurrent_applies(upd, b1, trusted, d):
    env = dict(os.environ, UPD=upd, B1=b1, K=trusted, D=d)
    r = subprocess.run(["unshare", "-Urm", "sh", "-c", CONCURRENT], capture_output=True, env=env,
                       timeout=60)
    err = r.stderr.decode()
    want = ("update: apply: another update is running (/run/wisp/update/lock is held, waited "
            "for it)\nrc=1\n")
    check("an apply while another updater holds the lock: exit 1, one line: another update is "
          "running", err == want, (r.returncode, err))


# An apply whose bundle's head has not come (a mirror or a man in the middle may hold it for
# the fetcher's limits, 540 s before a byte) holds no lock: a trial's mark-good, a good slot's
# counted boot and rollback must not wait on it. Before, apply took the lock before it opened
# the bundle: a stalled download on every boot (user-data's update-apply) kept mark-good from
# grubenv past the trial's deadline, and each reboot counted a try, until GRUB took the host
# back to the older slot. Here: an apply reading its head from a FIFO (100 bytes, then
# nothing), and a rollback meanwhile, which gets past the lock (and fails on the build host's
# missing ESP) instead of waiting 30 s for it. Its /run/wisp/update made 0755 first, as the
# ESP's mount made it before the lock's did: the rollback's lock makes it 0700 (stdout).
HEAD_STALLED = r"""
mount -t tmpfs tmpfs /run || exit 9
mkdir -p -m 0755 /run/wisp/update || exit 9
mkfifo "$D/stalled"
"$UPD" apply "$D/stalled" --keys "$K" --now 1780000000 2>/dev/null &
exec 3> "$D/stalled"
head -c 100 "$B1" >&3
timeout 40 "$UPD" rollback
echo "rc=$?" >&2
stat -c mode=%a /run/wisp/update
exec 3>&-
wait
"""


def head_stalled(upd, b1, trusted, d):
    env = dict(os.environ, UPD=upd, B1=b1, K=trusted, D=d)
    r = subprocess.run(["unshare", "-Urm", "sh", "-c", HEAD_STALLED], capture_output=True,
                       env=env, timeout=60)
    err = r.stderr.decode()
    check("a rollback while an apply waits for its bundle's head: not held off by the apply "
          "(fails on the build host's ESP instead)", err.startswith("update: rollback: ") and
          err.endswith("\nrc=1\n") and "another update is running" not in err,
          (r.returncode, err))
    check("/run/wisp/update is 0700 whoever made it first (here 0755, as the ESP's mount "
          "point's parent)", r.stdout.decode().endswith("mode=700\n"), r.stdout)


# wispctl, the updater and the fetcher at their paths of ROOT (/usr/libexec/wisp/update,
# /bin/containerd-lite: both fixed in the programs), over the host's directories by
# read-only overlays, in a mount namespace whose /run is a tmpfs (the lock).
URL_APPLY = r"""
mount -t tmpfs tmpfs /run || exit 9
mount -t overlay overlay -o "lowerdir=$D/libexec:/usr/libexec" /usr/libexec || exit 9
mount -t overlay overlay -o "lowerdir=$D/bin:/usr/bin" /usr/bin || exit 9
"$WISPCTL" update apply "$URL" --keys "$K" --now 1780000000
"""
SECRET = "X-Amz-Signature=c0ffee0123secret"
# root's own mount namespace, not a user namespace: the fetcher becomes nobody (65534),
# which a user namespace mapping root alone has no id for
URL_NS = ["unshare", "-m", "--propagation", "private"]


def url_server(data, stalled, scanned):
    """/b.bundle: its first 100 bytes (inside its head: the apply waits for the rest, on no
    ESP of the build host's), then nothing until scanned is set, then the connection ends (a
    partial file); /trickle: a byte every 0.2 s."""
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.path.startswith("/trickle"):
                for b in data[:600]:
                    self.wfile.write(bytes([b]))
                    self.wfile.flush()
                    time.sleep(0.2)
                return
            self.wfile.write(data[:100])
            self.wfile.flush()
            stalled.set()
            scanned.wait(60)
            self.close_connection = True  # the download cut short

    class S(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            pass

    srv = S(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def descendants(root):
    """root's pid and those of every process below it (by /proc's PPid): another run of
    these tests on the same host has fetchers of its own, with the same argv."""
    parent = {}
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % pid) as f:
                parent[pid] = f.read().rsplit(")", 1)[1].split()[1]
        except (OSError, IndexError):
            continue
    found, todo = {str(root)}, [str(root)]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p and c not in found]
        found.update(kids)
        todo.extend(kids)
    return found


def pids(word, under):
    """The processes below under (a pid) whose argv holds word."""
    found = []
    for pid in descendants(under):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if word.encode() in f.read():
                    found.append(pid)
        except OSError:
            continue
    return found


def cmdlines(word, under):
    """Each argv below under that holds word."""
    hits = []
    for pid in pids(word, under):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                hits.append(f.read().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return hits


def url_apply(upd, wispctl, cl, b1, trusted, d):
    for sub, prog, name in (("libexec/wisp", upd, "update"), ("bin", cl, "containerd-lite")):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
        shutil.copy(prog, os.path.join(d, sub, name))
    stalled, scanned = threading.Event(), threading.Event()
    srv = url_server(open(b1, "rb").read(), stalled, scanned)
    base = "http://127.0.0.1:%d" % srv.server_address[1]
    env = dict(os.environ, D=d, K=trusted, WISPCTL=wispctl, URL=base + "/b.bundle?" + SECRET,
               CL_TEST_FETCH_SPEED_TIME="2")
    try:
        p = subprocess.Popen(URL_NS + ["sh", "-c", URL_APPLY], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        check("apply from a URL: the fetcher asks for the bundle", stalled.wait(60))
        fetcher = cmdlines("image\0fetch", p.pid)
        uids = [l for pid in pids("image\0fetch", p.pid)
                for l in open("/proc/%s/status" % pid).read().splitlines() if l.startswith("Uid:")]
        hits = [c for c in cmdlines(SECRET, p.pid) if "unshare" not in c and "sh -c" not in c]
        scanned.set()
        try:
            out, err = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        err = err.decode(errors="replace")
        check("apply from a URL through wispctl: while it downloads, no argv holds the URL's "
              "query (the fetcher's seen: %s)" % fetcher, fetcher and not hits, hits)
        check("apply from a URL: a cut download fails in one line naming the URL without its "
              "query", p.returncode == 1 and err.count("\n") == 1 and
              base + "/b.bundle" in err and SECRET not in err, (p.returncode, err))
        check("the updater's fetcher parses the network's bytes as nobody: %s" % uids,
              uids == ["Uid:\t65534\t65534\t65534\t65534"], uids)
        env["URL"] = base + "/trickle?" + SECRET
        try:
            r = subprocess.run(URL_NS + ["sh", "-c", URL_APPLY], env=env,
                               capture_output=True, timeout=30)
            err = r.stderr.decode(errors="replace")
            check("apply from a trickling server: fails in one line under the low-speed limit",
                  r.returncode == 1 and err.count("\n") == 1 and
                  "GET %s/trickle: slower than 1024 bytes/s for 2 s" % base in err and
                  SECRET not in err, (r.returncode, err))
        except subprocess.TimeoutExpired:
            check("apply from a trickling server: fails within 30 s", False, "still applying")
    finally:
        scanned.set()
        srv.shutdown()


# The fetcher parses the network's bytes as nobody, in case a flaw there gives a mirror its
# code; what it says on its way out (its stderr's last line) goes to root's terminal through
# the updater (wispctl update apply URL). A fetcher that writes escape sequences there (OSC 52,
# a cleared screen, C1's CSI in UTF-8), as a taken-over one would, must reach it as text.
HOSTILE_FETCHER = r"""#!/bin/sh
printf 'containerd-lite: GET %s: \033]52;c;cm0gLXJmIH4=\007\033[2J\302\2331m HTTP 404\n' \
    "$CL_FETCH_URL" >&2
exit 1
"""
FETCHER_APPLY = r"""
mount -t tmpfs tmpfs /run || exit 9
mount -t overlay overlay -o "lowerdir=$D/hostile:/usr/bin" /usr/bin || exit 9
"$UPD" apply http://127.0.0.1:9/b.bundle --keys "$K" --now 1780000000
"""


def fetcher_escaped(upd, trusted, d):
    os.makedirs(os.path.join(d, "hostile"), exist_ok=True)
    fake = os.path.join(d, "hostile", "containerd-lite")
    with open(fake, "w") as f:
        f.write(HOSTILE_FETCHER)
    os.chmod(fake, 0o755)
    env = dict(os.environ, D=d, K=trusted, UPD=upd)
    r = subprocess.run(URL_NS + ["sh", "-c", FETCHER_APPLY], env=env, capture_output=True,
                       timeout=60)
    err = r.stderr
    raw = [b for b in err[:-1] if b < 0x20 or b >= 0x7f]
    check("a fetcher's escape sequences reach root's terminal as \\xHH text, in one line",
          r.returncode == 1 and err.endswith(b"\n") and not raw and
          b"GET http://127.0.0.1:9/b.bundle: \\x1b]52;c;cm0gLXJmIH4=\\x07\\x1b[2J\\xc2\\x9b1m "
          b"HTTP 404" in err, (r.returncode, err))


# A fetcher that sends nothing and does not end (as a taken-over one may: its low-speed limit
# is its own) must not hold the apply, and the updater's lock, for ever: the updater's own
# bound on its silence (600 s, lowered to 2 s here) ends it in one line, the fetcher killed.
SILENT_FETCHER = "#!/bin/sh\nexec sleep 120\n"


def fake_fetcher_apply(upd, trusted, d, name, script):
    """An apply from a URL whose /bin/containerd-lite is script, the updater's bound on the
    fetcher's silence lowered to 2 s: (exit code, stderr), or (None, ...) after 30 s."""
    os.makedirs(os.path.join(d, name), exist_ok=True)
    fake = os.path.join(d, name, "containerd-lite")
    with open(fake, "w") as f:
        f.write(script)
    os.chmod(fake, 0o755)
    env = dict(os.environ, D=d, K=trusted, UPD=upd, WISP_TEST_FETCH_SILENCE="2")
    p = subprocess.Popen(URL_NS + ["sh", "-c", FETCHER_APPLY.replace("$D/hostile", "$D/" + name)],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True)
    try:
        _, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, 9)
        _, err = p.communicate()
        return None, b"(still applying after 30 s) " + err
    return p.returncode, err


def fetcher_silent(upd, trusted, d):
    rc, err = fake_fetcher_apply(upd, trusted, d, "silent", SILENT_FETCHER)
    check("a fetcher silent for ever: the apply ends in one line after the updater's bound",
          rc == 1 and err.decode(errors="replace") ==
          "update: apply: http://127.0.0.1:9/b.bundle: /bin/containerd-lite sent nothing for "
          "2 s (stopped)\n", (rc, err))


# A fetcher that ends its stream but not itself (a taken-over one: its stderr kept open, or
# closed too) must not hold the apply for ever either: once the stream has ended, the updater
# reads its last words and waits for it within the same bound, then kills it, in one line.
# Before, it read the stderr until its end and waited for the exit without a bound.
LINGERING_FETCHERS = (
    ("its stderr kept open", "#!/bin/sh\nexec >&-\nexec sleep 120\n"),
    ("its stderr closed too", "#!/bin/sh\nexec >&- 2>&-\nexec sleep 120\n"),
)


def fetcher_lingering(upd, trusted, d):
    for i, (what, script) in enumerate(LINGERING_FETCHERS):
        rc, err = fake_fetcher_apply(upd, trusted, d, "lingering%d" % i, script)
        check("a fetcher that ends its stream but never exits (%s): the apply ends in one line "
              "after the updater's bound" % what, rc == 1 and err.decode(errors="replace") ==
              "update: apply: http://127.0.0.1:9/b.bundle: /bin/containerd-lite did not end "
              "within 2 s of its stream's end (stopped)\n", (rc, err))


# A bundle the updater refuses while the fetcher still sends it (another key's, here with a MiB
# more than any pipe holds): the apply's own reason is the one line, not the fetcher's about
# the pipe the updater closed ("write: Broken pipe"), which passed a forged or tampered
# bundle off as a network fault.
REFUSED_APPLY = r"""
mount -t tmpfs tmpfs /run || exit 9
mount -t overlay overlay -o "lowerdir=$D/bin:/usr/bin" /usr/bin || exit 9
"$UPD" apply "$URL" --keys "$K" --now 1780000000
"""


def url_refused(upd, cl, other, trusted, d):
    os.makedirs(os.path.join(d, "bin"), exist_ok=True)
    shutil.copy(cl, os.path.join(d, "bin", "containerd-lite"))
    data = open(other, "rb").read() + bytes(1 << 20)

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except OSError:
                pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d/other.bundle" % srv.server_address[1]
    try:
        env = dict(os.environ, D=d, K=trusted, UPD=upd, URL=url)
        r = subprocess.run(URL_NS + ["sh", "-c", REFUSED_APPLY], env=env, capture_output=True,
                           timeout=60)
        err = r.stderr.decode(errors="replace")
        check("a URL's bundle of another key: its refusal is the one line, not the fetcher's "
              "broken pipe", r.returncode == 1 and err.count("\n") == 1 and
              "which is not a trusted key" in err and url in err, (r.returncode, err))
    finally:
        srv.shutdown()


def writer_refuses(ib, d):
    cases = [
        ("an unknown verity key", "wisp.verity", lambda t: t + "uuid=x\n", "unknown key uuid"),
        ("a verity file without salt", "wisp.verity",
         lambda t: "".join(l + "\n" for l in t.splitlines() if not l.startswith("salt=")), "no salt="),
        ("a tree offset past the root part", "wisp.verity",
         lambda t: t.replace("hash_start_block=", "hash_start_block=9"), "verity tree"),
    ]
    for name, fname, change, want in cases:
        path = os.path.join(d, fname)
        with open(path) as f:
            orig = f.read()
        with open(path, "w") as f:
            f.write(change(orig))
        r = write(ib, d, "x.bundle")
        with open(path, "w") as f:
            f.write(orig)
        err = r.stderr.decode()
        check("writer refuses " + name, r.returncode == 1 and want in err, (r.returncode, err))
    for args, want in ((["--os-version", "0.1"],
                        '--os-version: version "0.1": not MAJOR.MINOR.PATCH'),
                       (["--os-version", "4294967296.0.0"],
                        "not MAJOR.MINOR.PATCH (decimal numbers, each below 2^32)"),
                       (["--os-version", V32 + "0"],
                        '--os-version: version "%s...": longer than 32 characters' % V32),
                       (["--cmdline", BAD_CMDLINE],
                        'cmdline: argument "root=/dev/vda5": the slot sets its root'),
                       (["--cmdline", "console=ttyS0 -- wisp.tries="], 'argument "--"'),
                       (["--cmdline", "dm_mod.create=x"], 'argument "dm_mod.create=x"'),
                       (["--cmdline", "softdog.soft_noboot=1"], 'argument "softdog.soft_noboot=1"'),
                       (["--cmdline", "wisp.update_deadline=86400"],
                        'argument "wisp.update_deadline=86400"'),
                       (["--variant", "Wisp"], "variant: not"),
                       (["--expires", "2025-01-01"], "not after the bundle's creation"),
                       (["--expires", "2027-02-29"], "not a date")):
        r = write(ib, d, "x.bundle", *args)
        err = r.stderr.decode()
        check("writer refuses " + " ".join(args), r.returncode == 1 and want in err,
              (r.returncode, err))
    check("no bundle left by a failed run", not os.path.exists(os.path.join(d, "x.bundle")) and
          not os.path.exists(os.path.join(d, "x.bundle.tmp")))


# The longest version docs/update-bundle.md allows (each number below 2^32): 32 characters.
V32 = "4294967295.4294967295.4294967295"


def longest_version(ib, upd, data, trusted, d):
    """Written, verified and shown whole; a signed manifest with one character more refused."""
    path = os.path.join(d, "v32.bundle")
    r = write(ib, d, path, "--os-version", V32)
    check("image-builder bundle writes the longest version", r.returncode == 0, r.stderr)
    r = verify(upd, path, trusted)
    check("update verify takes the longest version and shows it whole",
          r.returncode == 0 and ("version:  %s\n" % V32) in r.stdout.decode(), (r.stdout, r.stderr))
    v33 = b"version: %s0\n" % V32.encode()
    refused("a signed version of 33 characters", upd,
            resigned(data, lambda m: m.replace(b"version: 0.1.0\n", v33), d),
            trusted, "longer than 32 characters", d)


def cli(upd):
    r = run(upd, "--help")
    check("update --help: usage, exit 0", r.returncode == 0 and r.stdout.startswith(b"usage: update"))
    r = run(upd, "verify", "x", "--version")
    check("update --version", r.returncode == 0 and
          r.stdout.decode() == "update (Wisp) %s\n" % os.environ.get("WISP_VERSION", ""),
          r.stdout)
    for args, want in ((["verify"], "verify takes 1 argument"), (["frob", "x"], "unknown command frob"),
                       (["inspect", "x", "--now", "5"], "inspect takes no --keys or --now"),
                       (["verify", "x", "--bogus"], "unknown option --bogus")):
        r = run(upd, *args)
        check("update %s: exit 2" % " ".join(args), r.returncode == 2 and want in r.stderr.decode(),
              (r.returncode, r.stderr))


SPEC = """name: wisp
disk: {esp_size: 32MiB, root_size: 64MiB, state_size: 64MiB}
kernel:
  image: wisp.kernel
  cmdline: console=ttyS0,115200
rootfs: {manifest: wisp.verity}
secure_boot: {key: db.key, cert: db.crt, gpg_key: %s}
"""


def secure(ib, upd, d, trusted):
    """Format 2: a spec with secure_boot (a db key made here, the GRUB test key)."""
    r = run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=test db",
            "-days", "1", "-keyout", os.path.join(d, "db.key"), "-out", os.path.join(d, "db.crt"))
    check("openssl makes a db key", r.returncode == 0, r.stderr)
    with open(os.path.join(d, "secure.yaml"), "w") as f:
        f.write(SPEC % os.path.join(KEYS, "grub-test.sec.asc"))
    outs = [os.path.join(d, n) for n in ("s1.bundle", "s2.bundle")]
    for out in outs:
        r = write(ib, d, out, "--spec", "secure.yaml")
        check("image-builder bundle --spec (secure_boot)", r.returncode == 0, r.stderr)
        if r.returncode != 0:
            return
    left = [n for n in os.listdir(d) if n.endswith(".sig") or ".secure." in n]
    check("format 2: nothing left beside the inputs or the bundle (signatures made in a "
          "private directory)", not left, left)
    data = open(outs[0], "rb").read()
    check("format 2 is reproducible too", data == open(outs[1], "rb").read())
    r = verify(upd, outs[0], trusted)
    check("the updater verifies the format 2 bundle and reads its signatures",
          r.returncode == 0 and b"boot:     Secure Boot signatures of the kernel" in r.stdout,
          r.stdout + r.stderr)
    head, sig, _ = regions(data)
    lines = dict(l.split(": ", 1) for l in data[head:sig].decode().splitlines() if ": " in l)
    check("format: 2 with three signatures", lines.get("format") == "2" and all(
        "boot.%s.sig" % k in lines for k in ("kernel", "slot_a", "slot_b")), lines)
    home = os.path.join(d, "gnupg")
    os.mkdir(home, 0o700)
    run("gpg", "--homedir", home, "--batch", "--import", os.path.join(KEYS, "grub-test.sec.asc"))
    sigfile = os.path.join(d, "kernel.sig")
    with open(sigfile, "wb") as f:
        f.write(base64.b64decode(lines.get("boot.kernel.sig", "")))
    r = run("gpg", "--homedir", home, "--batch", "--verify", sigfile, os.path.join(d, "wisp.kernel"))
    check("gpg verifies boot.kernel.sig over the kernel part",
          r.returncode == 0 and b"Good signature" in r.stderr, r.stderr)
    run("gpgconf", "--homedir", home, "--kill", "gpg-agent")


def main(argv):
    global KEYS
    if len(argv) != 6:
        print(__doc__.splitlines()[-2], file=sys.stderr)
        return 2
    ib, upd, KEYS, wispctl, cl = (os.path.abspath(a) for a in argv[1:])
    for tool in ("minisign", "mkfs.erofs", "gpg", "openssl", "osslsigncode"):
        check("%s is installed" % tool, shutil.which(tool) is not None)
    check("veritysetup is installed", shutil.which("veritysetup", path=os.environ["PATH"] +
                                                   ":/usr/sbin:/sbin") is not None)
    with tempfile.TemporaryDirectory(prefix="wisp-bundle-test-") as d:
        trusted = os.path.join(d, "keys")
        os.mkdir(trusted)
        shutil.copy(os.path.join(KEYS, "wisp-test.pub"), trusted)
        root_hash, root_size = make_root(d)
        b1, b2, b3 = (os.path.join(d, n) for n in ("b1.bundle", "b2.bundle", "b3.bundle"))
        r = write(ib, d, b1)
        check("image-builder bundle writes a bundle", r.returncode == 0 and os.path.exists(b1),
              r.stderr)
        if not os.path.exists(b1):
            return 1
        write(ib, d, b2)
        write(ib, d, b3, epoch="1767225601")
        data = open(b1, "rb").read()
        check("the same inputs give the same bytes", data == open(b2, "rb").read())
        check("another SOURCE_DATE_EPOCH gives other bytes", data != open(b3, "rb").read())

        r = verify(upd, b1, trusted)
        out = r.stdout.decode()
        check("update verify: exit 0", r.returncode == 0, r.stderr)
        check("the summary names the version, variant and root hash",
              "version:  0.1.0\n" in out and "variant:  wisp\n" in out and
              "root hash %s" % root_hash in out and "created:  2026-01-01 00:00:00 UTC" in out, out)
        r = verify(upd, "-", trusted, stdin=data)
        check("update verify - (standard input)", r.returncode == 0, r.stderr)
        r = run(upd, "inspect", b1)
        check("update inspect: no key needed", r.returncode == 0 and b"(not checked)" in r.stdout,
              r.stderr)
        r = run(upd, "verify", b1, "--keys", trusted)
        check("update verify with the clock: not expired", r.returncode == 0, r.stderr)

        head, sig, kernel = regions(data)
        man, sigf = os.path.join(d, "manifest"), os.path.join(d, "manifest.minisig")
        open(man, "wb").write(data[head:sig])
        open(sigf, "wb").write(data[sig:kernel])
        r = run("minisign", "-V", "-p", os.path.join(KEYS, "wisp-test.pub"), "-m", man, "-x", sigf)
        check("Debian's minisign verifies the manifest", r.returncode == 0, r.stderr)
        manifest = data[head:sig].decode()
        check("the manifest carries veritysetup's numbers",
              "root.verity.root_hash: %s\n" % root_hash in manifest and
              "root.size: %d\n" % root_size in manifest, manifest)

        tamper_checks(upd, data, trusted, d, root_size)
        signed_cmdline(upd, data, trusted, d)
        concurrent_applies(upd, b1, trusted, d)
        head_stalled(upd, b1, trusted, d)
        url_apply(upd, wispctl, cl, b1, trusted, d)
        fetcher_escaped(upd, trusted, d)
        fetcher_silent(upd, trusted, d)
        fetcher_lingering(upd, trusted, d)
        r = write(ib, d, os.path.join(d, "other.bundle"), key="other-test.key")
        r = verify(upd, os.path.join(d, "other.bundle"), trusted)
        check("another key's bundle: not a trusted key",
              r.returncode == 1 and b"which is not a trusted key" in r.stderr, r.stderr)
        url_refused(upd, cl, os.path.join(d, "other.bundle"), trusted, d)
        r = run(upd, "verify", b1, "--keys", trusted, "--now", "1798761600")
        check("expired: exit 1", r.returncode == 1 and b"expired at 2027-01-01 00:00:00 UTC" in
              r.stderr, r.stderr)
        writer_refuses(ib, d)
        longest_version(ib, upd, data, trusted, d)
        secure(ib, upd, d, trusted)
    cli(upd)
    print("update-test: %d failure%s" % (failures, "" if failures == 1 else "s"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
