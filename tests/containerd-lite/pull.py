#!/usr/bin/env python3
"""Host test of `containerd-lite image pull` (make pull-test), as root.

A registry is started on loopback (start_registry(): Debian's
docker-registry, plain HTTP, a private config and storage; the one place
to point at another registry, such as tests/registry/registry.py) and
filled with `skopeo copy`: the busybox image of images.py (three layers,
whiteouts, an opaque directory), the Debian minbase image
(build/images/debian-minbase.oci.tar, make debian-image) and an index of
an arm64 and an amd64 image. Pulls go through Front, a small HTTP proxy
in this process that records every request and its headers and, when
asked, cuts or corrupts a blob, stalls it, ignores Range, demands a
bearer token (its own token service, basic credentials) or redirects
blobs to a second front (another origin).

Checked: the pulled trees equal `umoci unpack` of what `skopeo copy`
fetched into an OCI layout, and the digests `skopeo inspect` reports;
--no-unpack stores no layer; a second pull asks for no blob; seven
blobs go 4 at a time; a wrong digest in the reference fails
naming it and leaves the store as it was; an index gives its amd64
image; a blob cut mid-way is resumed with Range (a 206), and restarted
when the server ignores Range or answers another range; a pull killed mid-blob leaves no record
and the next pull resumes the partial blob; a corrupt blob is refused;
bearer tokens with credentials from a 0600 config.json (a 0644 one is
refused, none gets the 401 named); a redirect to another origin carries
no Authorization; HTTPS verified with a registry's own CA and refused with the default
bundle; a dead mirror is passed over, a live one serves
everything; a missing tag names the URL and HTTP 404; `rm` + `gc` treat
pulled images as imported ones; `image fetch URL` (fetch_url.py).

A hostile registry (hostile(); `pull.py hostile` runs these alone, without
a registry; its images are the front's own, fake_image()): a token realm
that answers its own token requests with a 401 naming itself ends the pull
in one line after one token request; a config, or an index's manifest,
declared 1 TiB is refused before it is asked for; a manifest, and a token,
trickled a byte at a time fail the pull in one line at their deadline
(CL_TEST_REGISTRY_DEADLINE lowers it to TEST_DEADLINE); pinned bytes served
with a Content-Type other than their mediaType (an index as a manifest, the
reverse, an index with an image's members as a manifest) are refused in one
line; the partial of a layer
cut every time is kept for the next pull of its image (which resumes it),
removed by the pull of another image, and by gc.

Prints ok/FAIL per check; exits 1 on any failure (a missing tool or
image is a failure, not a skip).
"""
import base64
import hashlib
import http.client
import http.server
import io
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fetch_url  # noqa: E402
import images  # noqa: E402  (build_image, tree, diff, snapshot)
from images import check, run, must, tree, diff, snapshot  # noqa: E402
from harness import B, CL  # noqa: E402

DEBIAN_TAR = os.path.abspath(os.path.join(B, "images", "debian-minbase.oci.tar"))
# a token of 4 kB: the size of real JWTs, beyond any fixed header buffer
USER, PASSWORD, TOKEN = "wisp", "s3cret", "tok-" + "4f2a" * 1000


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --- the registry ------------------------------------------------------------

class Registry:
    def __init__(self, host, proc, log):
        self.host, self.proc, self.log = host, proc, log

    def push(self, src, name):
        must("skopeo", "copy", "--all", "--dest-tls-verify=false", src,
             "docker://%s/%s" % (self.host, name))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def start_registry(w):
    """Debian's docker-registry on loopback, plain HTTP, storage in w."""
    port = free_port()
    conf = os.path.join(w, "registry.yml")
    with open(conf, "w") as f:
        f.write("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
                "    rootdirectory: %s\n  delete:\n    enabled: true\n"
                "http:\n  addr: 127.0.0.1:%d\n" % (os.path.join(w, "registry"), port))
    log = open(os.path.join(w, "registry.log"), "w")
    proc = subprocess.Popen(["docker-registry", "serve", conf], stdout=log, stderr=log)
    for _ in range(100):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/v2/")
            if c.getresponse().status == 200:
                return Registry("127.0.0.1:%d" % port, proc, log)
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("pull.py: docker-registry did not answer on port %d (%s)" % (port, conf))


# --- the front: records requests, injects faults ------------------------------

class Front:
    """A proxy to upstream (host:port) on a port of its own. mode keys:
    cut: {digest: bytes} send that many bytes of the blob once, then close;
    stall: {digest: bytes} send that many, then hang; corrupt: {digest}
    flip a byte; delay: seconds before each blob; swap: (path, other) serve other's answer for path;
    norange: ignore Range; badrange: a 206's Content-Range made wrong; auth: demand Bearer TOKEN (its
    /token wants basic USER:PASSWORD); redirect: Front whose origin
    serves blobs (307); down: 503 for everything; authloop: 401 for everything, its
    challenge a realm on this front; fake: {path: (content type, body, cut)} answered
    here, not by upstream, cut (if not None) bytes of it every time, then the
    connection closed (fake_image()); trickle: {path: content type} headers of a
    64 KiB body, then a byte every 50 ms."""

    def __init__(self, upstream, tls=None):
        self.upstream, self.mode, self.log = upstream, {}, []
        self.lock, self.active, self.max_active = threading.Lock(), 0, 0
        front = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                front.handle(self)

            def do_HEAD(self):
                front.handle(self)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        if tls:  # (cert, key): HTTPS
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.host = "127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reply(self, h, status, body=b"", headers=()):
        h.send_response(status)
        for k, v in headers:
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def reply_cut(self, h, ctype, body, cut):
        h.send_response(200)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body if cut is None else body[:cut])
        if cut is not None:
            h.wfile.flush()
            h.connection.shutdown(socket.SHUT_RDWR)
            h.close_connection = True

    def reply_trickle(self, h, ctype):
        """20 bytes a second: above curl's stall limit of 1 B/s (blobs'), 64 KiB
        taking an hour; until the client hangs up."""
        h.send_response(200)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", "65536")
        h.end_headers()
        h.close_connection = True
        try:
            for _ in range(65536):
                h.wfile.write(b" ")
                h.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass

    def gate(self, h):
        """Faults decided before upstream is asked. True: answered."""
        if self.mode.get("down"):
            self.reply(h, 503)
            return True
        if self.mode.get("authloop"):  # the token requests too: a realm that never answers
            self.reply(h, 401, headers=[("WWW-Authenticate", 'Bearer realm="http://%s/token",'
                                         'service="loop"' % self.host)])
            return True
        trickle = self.mode.get("trickle", {}).get(h.path.split("?")[0])
        if trickle:
            self.reply_trickle(h, trickle)
            return True
        fake = self.mode.get("fake", {}).get(h.path.split("?")[0])
        if fake:
            ctype, body, cut = fake
            self.reply_cut(h, ctype, body, cut)
            return True
        if h.path.startswith("/token"):
            ok = h.headers.get("Authorization") == "Basic " + base64.b64encode(
                ("%s:%s" % (USER, PASSWORD)).encode()).decode()
            self.reply(h, 200 if ok else 401, json.dumps({"token": TOKEN}).encode() if ok
                       else b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}')
            return True
        if self.mode.get("auth") and h.headers.get("Authorization") != "Bearer " + TOKEN:
            repo = h.path.split("/")[2:-2]
            self.reply(h, 401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                       [("WWW-Authenticate", 'Bearer realm="http://%s/token",service="wisp-test",'
                         'scope="repository:%s:pull"' % (self.host, "/".join(repo)))])
            return True
        if self.mode.get("redirect") and "/blobs/" in h.path:
            # redirect_userinfo: "user:password@" in the Location too
            self.reply(h, 307, headers=[("Location", "http://%s%s%s?sig=x" % (
                self.mode.get("redirect_userinfo", ""), self.mode["redirect"].host, h.path))])
            return True
        return False

    def handle(self, h):
        self.log.append((h.command, h.path, dict(h.headers)))
        if self.gate(h):
            return
        if "/blobs/" in h.path and self.mode.get("delay"):
            # requests waiting at once: the client's transfers in flight
            with self.lock:
                self.active += 1
                self.max_active = max(self.max_active, self.active)
            time.sleep(self.mode["delay"])
            with self.lock:
                self.active -= 1
        try:
            self.forward(h)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up on this answer (a range it did not ask for)
        except ConnectionRefusedError:
            try:
                self.reply(h, 502)  # no upstream (pull.py hostile)
            except OSError:
                pass  # the client gone already (a parallel blob's error ended the pull)

    def forward(self, h):
        headers = {k: v for k, v in h.headers.items()
                   if k.lower() not in ("host", "authorization", "connection")}
        if self.mode.get("norange"):
            headers.pop("Range", None)
        c = http.client.HTTPConnection(*self.upstream.split(":"), timeout=30)
        path = h.path.split("?")[0]
        if self.mode.get("swap", ("",))[0] == path:
            path = self.mode["swap"][1]
        c.request(h.command, path, headers=headers)
        r = c.getresponse()
        body = r.read()
        digest = h.path.split("/blobs/")[-1].split("?")[0] if "/blobs/" in h.path else None
        if digest in self.mode.get("corrupt", ()) and body:
            body = bytes([body[0] ^ 1]) + body[1:]
        h.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() == "content-range" and self.mode.get("badrange"):
                v = "bytes 1-%s" % v.split("-", 1)[1]  # not the start asked for
            if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if h.command == "HEAD":
            return
        limit = self.mode.get("cut", {}).pop(digest, None)
        stall = self.mode.get("stall", {}).get(digest)
        if stall is not None:
            h.wfile.write(body[:stall])
            h.wfile.flush()
            time.sleep(3600)
        if limit is not None:
            h.wfile.write(body[:limit])
            h.wfile.flush()
            h.connection.shutdown(socket.SHUT_RDWR)
            h.close_connection = True
            return
        h.wfile.write(body)

    def blob_gets(self, since=0):
        return [(p, hd) for m, p, hd in self.log[since:] if m == "GET" and "/blobs/" in p]


# --- helpers ------------------------------------------------------------------

def regs_file(w, entries):
    path = os.path.join(w, "registries-%d.json" % len(os.listdir(w)))
    with open(path, "w") as f:
        json.dump({"registries": entries}, f)
    return path


def pull(store, ref, regs, *extra, timeout=300):
    return run(CL, "image", "--store", store, "pull", "--registries", regs, *extra, ref,
               timeout=timeout)


# The deadline of a manifest's or token's GET in these tests (the pull's is 60 s):
# CL_TEST_REGISTRY_DEADLINE, which only lowers it (image/registry.c).
TEST_DEADLINE = 2


def pull_within(store, ref, regs, within):
    """pull with the tests' deadline; None if still running after `within` s (killed)."""
    env = dict(os.environ, CL_TEST_REGISTRY_DEADLINE=str(TEST_DEADLINE))
    try:
        return run(CL, "image", "--store", store, "pull", "--registries", regs, ref,
                   timeout=within, env=env)
    except subprocess.TimeoutExpired:
        return None


def skopeo_digest(ref):
    r = must("skopeo", "inspect", "--tls-verify=false", "docker://" + ref)
    return json.loads(r.stdout)["Digest"]


def skopeo_manifest(ref):
    """The linux/amd64 image manifest skopeo resolves (its digest, its JSON)."""
    raw = must("skopeo", "inspect", "--raw", "--tls-verify=false", "docker://" + ref).stdout
    return "sha256:" + hashlib.sha256(raw.encode()).hexdigest(), json.loads(raw)


def umoci_tree(w, ref, name):
    """What skopeo fetches, unpacked by umoci: the reference tree."""
    lay, out = os.path.join(w, "sk-" + name), os.path.join(w, "umoci-" + name)
    must("skopeo", "copy", "--src-tls-verify=false", "docker://" + ref, "oci:%s:x" % lay)
    must("umoci", "unpack", "--image", lay + ":x", out)
    t = tree(os.path.join(out, "rootfs"))
    shutil.rmtree(lay)
    shutil.rmtree(out)
    return t


def record(store, ref):
    r = run(CL, "image", "--store", store, "list", "--json")
    return next((i for i in json.loads(r.stdout or "[]") if i["ref"] == ref), None)


def same_tree(name, store, ref, want, w):
    out = os.path.join(w, "unpack-" + name)
    r = run(CL, "image", "--store", store, "unpack", ref, out)
    if check("%s: unpack" % name, r.returncode == 0, r.stderr.strip()):
        got = tree(out)
        check("%s: same tree as umoci unpack of skopeo's copy (%d entries)" % (name, len(want)),
              got == want, diff(got, want))
    shutil.rmtree(out, ignore_errors=True)


MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"


def tar_bytes(files):
    """A plain tar of {name: bytes}."""
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return b.getvalue()


def fake_image(front, repo, layers, cfg_size=None):
    """REPO:1 served by front itself (mode fake): an OCI manifest, its config and
    layers [(tar, cut)]. cfg_size: the config's size the manifest declares instead
    (the config then not served). The config's digest and the layers' descriptors."""
    fake = front.mode.setdefault("fake", {})
    descs = []
    for data, cut in layers:
        d = "sha256:" + hashlib.sha256(data).hexdigest()
        fake["/v2/%s/blobs/%s" % (repo, d)] = ("application/octet-stream", data, cut)
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d,
                      "size": len(data)})
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {
        "type": "layers", "diff_ids": [l["digest"] for l in descs]}}).encode()
    cd = "sha256:" + hashlib.sha256(cfg).hexdigest()
    if cfg_size is None:
        fake["/v2/%s/blobs/%s" % (repo, cd)] = ("application/octet-stream", cfg, None)
    man = {"schemaVersion": 2, "mediaType": MT_MANIFEST, "config": {
        "mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd,
        "size": len(cfg) if cfg_size is None else cfg_size}, "layers": descs}
    fake["/v2/%s/manifests/1" % repo] = (MT_MANIFEST, json.dumps(man).encode(), None)
    return cd, descs


# --- the checks -------------------------------------------------------------------

def basics(w, reg, front, regs):
    store = os.path.join(w, "store")
    ref = front.host + "/wisp/busybox:1"
    r = pull(store, ref, regs)
    check("busybox: pull", r.returncode == 0, r.stdout + r.stderr)
    want_digest = skopeo_digest(reg.host + "/wisp/busybox:1")
    last = r.stdout.strip().splitlines()[-1:] or [""]
    check("busybox: prints REF and the manifest digest skopeo inspect gives",
          last[0] == "%s %s" % (ref, want_digest), (last, want_digest))
    rec = record(store, ref)
    _, man = skopeo_manifest(reg.host + "/wisp/busybox:1")
    check("busybox: config and layers as skopeo inspect --raw says",
          rec and rec["config"] == man["config"]["digest"] and rec["layers"] == 3, rec)
    want = umoci_tree(w, reg.host + "/wisp/busybox:1", "bb")
    same_tree("busybox", store, ref, want, w)
    lazy = os.path.join(w, "store-lazy")
    r = pull(lazy, ref, regs, "--no-unpack", "--name", "bb-lazy")
    check("--no-unpack --name: blobs and record, no layer; unpack from the blobs",
          r.returncode == 0 and r.stdout.strip().endswith("bb-lazy " + want_digest)
          and len(os.listdir(os.path.join(lazy, "blobs"))) == 5
          and not os.listdir(os.path.join(lazy, "layers")), r.stdout + r.stderr)
    same_tree("busybox --no-unpack", lazy, "bb-lazy", want, w)
    shutil.rmtree(lazy)
    n = len(front.log)
    r = pull(store, ref, regs)
    check("second pull succeeds", r.returncode == 0, r.stderr)
    check("second pull fetches no blob (manifest only; %d requests)" % (len(front.log) - n),
          not front.blob_gets(n) and any("/manifests/" in p for _, p, _ in front.log[n:]),
          [p for _, p, _ in front.log[n:]])
    # a wrong digest in the reference
    before = snapshot(store)
    bad = "sha256:" + "0" * 64
    r = pull(store, "%s/wisp/busybox@%s" % (front.host, bad), regs)
    check("wrong digest: fails naming the reference and the URL",
          r.returncode == 1 and ("image pull %s/wisp/busybox@%s" % (front.host, bad)) in r.stderr
          and "HTTP 404" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr)
    r = pull(store, "%s/wisp/busybox:1@%s" % (front.host, bad), regs)
    check("wrong digest with a tag: refused too", r.returncode == 1, r.stderr)
    right = "%s/wisp/busybox@%s" % (front.host, want_digest)
    r = pull(store, right, regs)
    check("by digest: pull", r.returncode == 0 and r.stdout.strip().endswith(
        "%s %s" % (right, want_digest)), r.stdout + r.stderr)
    before = snapshot(store)
    # another manifest served under the digest asked for: a proxy that lies
    front.mode["swap"] = ("/v2/wisp/busybox/manifests/" + want_digest,
                          "/v2/wisp/debian/manifests/bookworm")
    r = pull(store, right, regs)
    check("by digest: a manifest that is not that digest is refused, store unchanged",
          r.returncode == 1 and "manifest %s: sha256 is" % want_digest in r.stderr
          and snapshot(store) == before, r.stderr)
    front.mode.pop("swap")
    r = pull(store, front.host + "/wisp/nothere:1", regs)
    check("missing tag: one line naming the URL and HTTP 404",
          r.returncode == 1 and "http://%s/v2/wisp/nothere/manifests/1" % front.host in r.stderr
          and "HTTP 404" in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr)
    r = pull(store, "Bad/Ref", regs)
    check("bad reference: one line naming it", r.returncode == 1 and
          "reference Bad/Ref: repository names must be lowercase" in r.stderr, r.stderr)
    return store, want


def policy(w, reg, front, regs):
    """bundle --pull (a container's start): missing, always, never; names in
    docker's full form."""
    store = os.path.join(w, "store-policy")
    ref = front.host + "/wisp/busybox:1"

    def bundle(*extra, name=ref):
        out = os.path.join(w, "bundle-policy")
        shutil.rmtree(out, ignore_errors=True)
        r = run(CL, "image", "--store", store, "bundle", "--registries", regs, "--cmd", "sh",
                *extra, name, out)
        ok = os.path.exists(os.path.join(out, "config.json"))
        shutil.rmtree(out, ignore_errors=True)
        return r, ok

    n = len(front.log)
    r, ok = bundle("--pull", "never")
    check("--pull never: not in the store, one line naming it; nothing asked of the registry",
          r.returncode == 1 and not ok and len(r.stderr.strip().splitlines()) == 1
          and "image %s: not in store" % ref in r.stderr and len(front.log) == n, r.stderr)
    r, ok = bundle()
    check("--pull missing (the default): pulled (manifest and every blob), then the bundle",
          r.returncode == 0 and ok and "pulling %s" % ref in r.stdout
          and len(front.blob_gets(n)) == 4, r.stdout + r.stderr)
    n = len(front.log)
    r, ok = bundle()
    check("--pull missing: in the store now, nothing asked of the registry",
          r.returncode == 0 and ok and len(front.log) == n, [p for _, p, _ in front.log[n:]])
    r, ok = bundle("--pull", "always")
    check("--pull always: the manifest asked for again, no blob fetched",
          r.returncode == 0 and ok and not front.blob_gets(n)
          and any("/manifests/" in p for _, p, _ in front.log[n:]), r.stdout + r.stderr)
    r, _ = bundle("--pull", "sometimes")
    check("--pull sometimes: refused in one line naming the choices",
          r.returncode == 1 and "--pull sometimes: missing, always or never" in r.stderr,
          r.stderr)
    dead = "127.0.0.1:%d/wisp/busybox:1" % free_port()
    r, ok = bundle(name=dead)
    check("--pull missing, registry down: one line: not in store, the pull's error",
          r.returncode == 1 and not ok and len(r.stderr.strip().splitlines()) == 1
          and "image %s: not in store %s; pulled: image pull %s" % (dead, store, dead)
          in r.stderr, r.stderr)
    # docker's normal form: "bbn" is docker.io/library/bbn:latest and back
    r = pull(store, ref, regs, "--name", "docker.io/library/bbn:latest")
    r2 = pull(store, ref, regs, "--name", "local:1")
    check("normal form: pulled under two names", r.returncode == 0 and r2.returncode == 0,
          r.stderr + r2.stderr)
    for name in ("bbn", "bbn:latest", "docker.io/library/local:1", "library/local:1"):
        r = run(CL, "image", "--store", store, "inspect", name)
        check("normal form: %s found" % name, r.returncode == 0, r.stderr)
    r = run(CL, "image", "--store", store, "inspect", "bbm")
    check("normal form: bbm is not bbn", r.returncode == 1 and "not in store" in r.stderr,
          r.stderr)
    shutil.rmtree(store)


def index(w, reg, front, regs, store):
    ref = front.host + "/wisp/multi:1"
    r = pull(store, ref, regs)
    amd64, _ = skopeo_manifest(reg.host + "/wisp/busybox:1")
    check("index: pull picks linux/amd64 (its manifest digest)",
          r.returncode == 0 and r.stdout.strip().endswith(amd64), r.stdout + r.stderr)


def debian(w, reg, front, regs):
    store = os.path.join(w, "store-debian")
    ref = front.host + "/wisp/debian:bookworm"
    layer = skopeo_manifest(reg.host + "/wisp/debian:bookworm")[1]["layers"][0]
    # a cut at 10 MB, resumed with Range
    front.mode["cut"] = {layer["digest"]: 10 << 20}
    n = len(front.log)
    r = pull(store, ref, regs)
    check("debian: pull (a blob cut at 10 MB on the way)", r.returncode == 0, r.stdout + r.stderr)
    gets = [hd.get("Range") for p, hd in front.blob_gets(n) if layer["digest"] in p]
    check("debian: the cut blob resumed with Range: bytes=N- (N >= 10 MB)",
          len(gets) == 2 and gets[0] is None and gets[1] and gets[1].startswith("bytes=")
          and int(gets[1][6:-1]) >= 10 << 20, gets)
    check("debian: digest as skopeo inspect gives",
          r.stdout.strip().endswith(skopeo_digest(reg.host + "/wisp/debian:bookworm")),
          r.stdout[-200:])
    same_tree("debian", store, ref, umoci_tree(w, reg.host + "/wisp/debian:bookworm", "deb"), w)
    # Range ignored: the blob starts over
    shutil.rmtree(store)
    front.mode.update(cut={layer["digest"]: 5 << 20}, norange=True)
    n = len(front.log)
    r = pull(store, ref, regs)
    gets = [hd.get("Range") for p, hd in front.blob_gets(n) if layer["digest"] in p]
    check("debian: a server ignoring Range: restarted from 0, pulled",
          r.returncode == 0 and len(gets) == 2 and gets[1], (gets, r.stderr))
    front.mode.pop("norange")
    # a 206 whose Content-Range is not the rest asked for: again from 0
    shutil.rmtree(store)
    front.mode.update(cut={layer["digest"]: 5 << 20}, badrange=True)
    n = len(front.log)
    r = pull(store, ref, regs)
    gets = [hd.get("Range") for p, hd in front.blob_gets(n) if layer["digest"] in p]
    check("debian: a 206 with another Content-Range: restarted without Range, pulled",
          r.returncode == 0 and len(gets) == 3 and gets[1] and gets[2] is None, (gets, r.stderr))
    front.mode.pop("badrange")
    # killed mid-blob: no record, the partial resumed by the next pull
    shutil.rmtree(store)
    front.mode["stall"] = {layer["digest"]: 20 << 20}
    p = subprocess.Popen([CL, "image", "--store", store, "pull", "--registries", regs, ref],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    part = os.path.join(store, "tmp/partial", layer["digest"][7:])
    deadline = time.time() + 60
    while time.time() < deadline and (not os.path.exists(part) or
                                      os.path.getsize(part) < 20 << 20):
        time.sleep(0.2)
    p.send_signal(signal.SIGKILL)
    p.wait()
    check("killed pull: no image recorded, no layer stored, the partial blob kept",
          not os.listdir(os.path.join(store, "images")) and
          not os.listdir(os.path.join(store, "layers")) and os.path.exists(part) and
          os.path.getsize(part) == 20 << 20, snapshot(store))
    front.mode.pop("stall")
    n = len(front.log)
    r = pull(store, ref, regs)
    gets = [hd.get("Range") for p, hd in front.blob_gets(n) if layer["digest"] in p]
    check("next pull resumes the partial blob (Range: bytes=%d-)" % (20 << 20),
          r.returncode == 0 and gets == ["bytes=%d-" % (20 << 20)], (gets, r.stderr))
    check("partial blob gone once stored", not os.path.exists(part))
    # a corrupt blob
    shutil.rmtree(store)
    front.mode["corrupt"] = {layer["digest"]}
    r = pull(store, ref, regs)
    check("corrupt blob: refused naming it, nothing recorded",
          r.returncode == 1 and "blob %s: sha256 is" % layer["digest"] in r.stderr and
          not os.listdir(os.path.join(store, "images")), r.stderr)
    front.mode.pop("corrupt")
    shutil.rmtree(store)


def parallel(w, reg, front, regs):
    """Seven blobs, each answered after 0.5 s: 4 at a time, never more."""
    store = os.path.join(w, "store-par")
    front.mode["delay"] = 0.5
    front.max_active = 0
    t0 = time.monotonic()
    r = pull(store, front.host + "/wisp/many:1", regs)
    took = time.monotonic() - t0
    front.mode.pop("delay")
    check("parallel: 7 blobs pulled 4 at a time (at most 4 at once: %d; %.1f s)"
          % (front.max_active, took), r.returncode == 0 and front.max_active == 4
          and r.stdout.count("bytes fetched") == 7, r.stdout + r.stderr)
    shutil.rmtree(store)


def auth(w, reg, front, regs):
    """Bearer tokens, credentials, redirects to another origin."""
    store = os.path.join(w, "store-auth")
    front.mode["auth"] = True
    ref = front.host + "/wisp/busybox:1"
    r = pull(store, ref, regs)
    check("auth: no credentials: the token service's 401, named without its query",
          r.returncode == 1 and "GET http://%s/token: HTTP 401" % front.host in r.stderr
          and "?service=" not in r.stderr, r.stderr)
    creds = os.path.join(w, "auth.json")
    with open(creds, "w") as f:
        json.dump({"auths": {front.host: {"auth": base64.b64encode(
            ("%s:%s" % (USER, PASSWORD)).encode()).decode()}}}, f)
    os.chmod(creds, 0o644)
    r = pull(store, ref, regs, "--creds", creds)
    check("auth: a credentials file others may read is refused",
          r.returncode == 1 and "mode 644: others may read it" in r.stderr, r.stderr)
    os.chmod(creds, 0o600)
    blobstore = Front(reg.host)
    front.mode["redirect"] = blobstore
    r = pull(store, ref, regs, "--creds", creds)
    check("auth: bearer token from the realm with basic credentials; pull",
          r.returncode == 0, r.stdout + r.stderr)
    tok = [hd for m, p, hd in front.log if p.startswith("/token")]
    check("auth: the token service got the basic credentials", any(
        hd.get("Authorization", "").startswith("Basic ") for hd in tok), tok[-1:])
    got = blobstore.blob_gets()
    check("redirect: blobs fetched from the other origin (%d)" % len(got), len(got) >= 4, got)
    check("redirect: no Authorization sent to the other origin",
          got and not any("Authorization" in hd for _, hd in got), got)
    front.mode.pop("redirect")
    front.mode.pop("auth")
    blobstore.server.shutdown()


def hostile(w, front, regs):
    """A registry that attacks the client: each attack ends in one line, its
    work and the space it leaves bounded. Needs no upstream (fake images)."""
    store = os.path.join(w, "store-hostile")
    partial = os.path.join(store, "tmp", "partial")

    def parts():
        return sorted(os.listdir(partial)) if os.path.isdir(partial) else []

    def one_line(r):
        return r.returncode == 1 and len(r.stderr.splitlines()) == 1

    front.mode["authloop"] = True
    n = len(front.log)
    r = pull(store, front.host + "/wisp/loop:1", regs)
    front.mode.pop("authloop")
    tokens = [p for _, p, _ in front.log[n:] if p.startswith("/token")]
    check("hostile: a realm that answers its token requests with 401 and itself: one line "
          "naming the token URL, %d token requests (at most 2)" % len(tokens),
          one_line(r) and len(tokens) <= 2 and "GET http://%s/token: HTTP 401" % front.host
          in r.stderr, (r.returncode, r.stderr[-300:]))
    trickling(store, front, regs, one_line)
    media_types(store, front, regs, one_line)
    cd, _ = fake_image(front, "wisp/huge", [], cfg_size=1 << 40)
    n = len(front.log)
    r = pull(store, front.host + "/wisp/huge:1", regs)
    check("hostile: a config declared 1 TiB: refused in one line naming it, never asked for, "
          "no partial left", one_line(r) and "config %s: %d bytes" % (cd, 1 << 40) in r.stderr
          and not any(cd in p for _, p, _ in front.log[n:]) and not parts(),
          (r.stderr, [p for _, p, _ in front.log[n:]], parts()))
    big = "sha256:" + "e" * 64
    front.mode["fake"]["/v2/wisp/hugeidx/manifests/1"] = (MT_INDEX, json.dumps({
        "schemaVersion": 2, "mediaType": MT_INDEX, "manifests": [{
            "mediaType": MT_MANIFEST, "digest": big, "size": 1 << 40,
            "platform": {"os": "linux", "architecture": "amd64"}}]}).encode(), None)
    n = len(front.log)
    r = pull(store, front.host + "/wisp/hugeidx:1", regs)
    check("hostile: an index's manifest declared 1 TiB: refused in one line, never asked for",
          one_line(r) and "manifest %s: %d bytes" % (big, 1 << 40) in r.stderr
          and not any(big in p for _, p, _ in front.log[n:]),
          (r.stderr, [p for _, p, _ in front.log[n:]]))
    # the partials policy (docs/images.md, "Resume")
    _, cut = fake_image(front, "wisp/cut", [(tar_bytes({"big": bytes(range(256)) * 256}), 4096)])
    hexcut = cut[0]["digest"][7:]
    r = pull(store, front.host + "/wisp/cut:1", regs)
    check("hostile: a layer cut at 4 kB every time: the pull fails in one line, its partial "
          "kept for a resume", one_line(r) and parts() == [hexcut], (r.stderr, parts()))
    n = len(front.log)
    pull(store, front.host + "/wisp/cut:1", regs)
    gets = [hd.get("Range") for p, hd in front.blob_gets(n) if hexcut in p]
    check("hostile: the next pull of that image resumes its partial (Range: bytes=4096-)",
          gets[:1] == ["bytes=4096-"] and parts() == [hexcut], (gets, parts()))
    fake_image(front, "wisp/other", [(tar_bytes({"hello": b"hi\n"}), None)])
    r = pull(store, front.host + "/wisp/other:1", regs)
    check("hostile: the next pull, of another image, removes the partials it does not need",
          r.returncode == 0 and parts() == [], (r.stderr, parts()))
    pull(store, front.host + "/wisp/cut:1", regs)
    r = run(CL, "image", "--store", store, "gc")
    check("hostile: gc removes every partial", r.returncode == 0 and not parts()
          and "removed tmp/partial" in r.stdout, (r.stdout, r.stderr, parts()))
    front.mode.pop("fake")
    shutil.rmtree(store, ignore_errors=True)


def trickling(store, front, regs, one_line):
    """A manifest, and a token, trickled (headers, then a byte every 50 ms): the
    pull ends within a generous 30 s, in one line naming the URL and its deadline."""
    slow = "/v2/wisp/slow/manifests/1"
    front.mode["trickle"] = {slow: MT_MANIFEST}
    r = pull_within(store, front.host + "/wisp/slow:1", regs, 30)
    check("hostile: a trickled manifest: the pull fails within 30 s, in one line naming the "
          "URL and the deadline", r is not None and one_line(r) and
          "GET http://%s%s: not answered in full within %d s" % (front.host, slow, TEST_DEADLINE)
          in r.stderr, "still running after 30 s" if r is None else r.stderr)
    front.mode.update(trickle={"/token": "application/json"}, auth=True)
    r = pull_within(store, front.host + "/wisp/slow:1", regs, 30)
    check("hostile: a trickled token: the pull fails within 30 s, in one line naming the "
          "token URL and the deadline", r is not None and one_line(r) and
          "token: GET http://%s/token: " % front.host in r.stderr and
          "not answered in full within %d s" % TEST_DEADLINE in r.stderr,
          "still running after 30 s" if r is None else r.stderr)
    front.mode.pop("trickle")
    front.mode.pop("auth")


def media_types(store, front, regs, one_line):
    """Pinned bytes served under another Content-Type than their own mediaType
    (which identifies them: OCI image-spec): refused in one line naming both,
    nothing recorded. The polyglot, an index by its mediaType (what docker and
    containerd read) with an image's config and layers, was pulled as that image
    when its Content-Type said manifest."""
    def sha(b):
        return "sha256:" + hashlib.sha256(b).hexdigest()

    fake = front.mode.setdefault("fake", {})
    fake_image(front, "wisp/mt", [(tar_bytes({"a": b"a\n"}), None)])
    man = fake["/v2/wisp/mt/manifests/1"][1]
    idx = json.dumps({"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": [{
        "mediaType": MT_MANIFEST, "digest": sha(man), "size": len(man),
        "platform": {"os": "linux", "architecture": "amd64"}}]}).encode()
    poly = json.dumps(dict(json.loads(man), mediaType=MT_INDEX,
                           manifests=json.loads(idx)["manifests"])).encode()
    for what, body, ctype, own in (("an index's bytes as a manifest", idx, MT_MANIFEST, MT_INDEX),
                                   ("a manifest's bytes as an index", man, MT_INDEX, MT_MANIFEST),
                                   ("an index with an image's members as a manifest", poly,
                                    MT_MANIFEST, MT_INDEX)):
        fake["/v2/wisp/mt/manifests/" + sha(body)] = (ctype, body, None)
        ref = "%s/wisp/mt@%s" % (front.host, sha(body))
        r = pull(store, ref, regs)
        check("hostile: %s, pinned: refused in one line naming both types, nothing recorded"
              % what, one_line(r) and "manifest %s: Content-Type %s, but its mediaType is %s"
              % (sha(body), ctype, own) in r.stderr and record(store, ref) is None,
              (r.stdout[-200:], r.stderr))
        fake.pop("/v2/wisp/mt/manifests/" + sha(body))


def mirrors(w, reg, front):
    store = os.path.join(w, "store-mirror")
    dead, live = Front(reg.host), Front(reg.host)
    dead.mode["down"] = True
    regs = regs_file(w, {"origin.invalid": {"mirrors": [dead.host, live.host]},
                         dead.host: {"insecure": True}, live.host: {"insecure": True}})
    r = pull(store, "origin.invalid/wisp/busybox:1", regs)
    check("mirrors: a dead one passed over, the next serves the pull",
          r.returncode == 0 and "HTTP 503" in r.stdout and dead.log and live.blob_gets(),
          r.stdout + r.stderr)
    check("mirrors: recorded under the reference's own name",
          record(store, "origin.invalid/wisp/busybox:1") is not None)
    r = pull(store, front.host + "/wisp/busybox:1", regs_file(w, {}))
    check("https unless named insecure: a plain HTTP registry fails TLS",
          r.returncode == 1 and "https://" + front.host in r.stderr, r.stderr)
    dead.server.shutdown()
    live.server.shutdown()
    return store


def tls(w, reg):
    """HTTPS: verified against the CA a registry's settings name, and
    against the default bundle (which does not have it) otherwise."""
    cert, key = os.path.join(w, "cert.pem"), os.path.join(w, "key.pem")
    must("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
         "-days", "1", "-subj", "/CN=wisp-pull-test", "-addext", "subjectAltName=IP:127.0.0.1")
    front = Front(reg.host, tls=(cert, key))
    store = os.path.join(w, "store-tls")
    ref = front.host + "/wisp/busybox:1"
    r = pull(store, ref, regs_file(w, {front.host: {"ca": cert}}))
    check("tls: https verified with the registry's own CA (ca setting)",
          r.returncode == 0 and "from https://" in r.stdout, r.stdout + r.stderr)
    r = pull(store, ref, regs_file(w, {}))
    check("tls: the default bundle does not trust it: one line naming the URL",
          r.returncode == 1 and "GET https://%s/v2/wisp/busybox/manifests/1" % front.host
          in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr)
    front.server.shutdown()
    # a certificate naming another address (its iPAddress entry is 127.0.0.2): refused,
    # though the chain is trusted (wolfSSL's iPAddress matching, WOLFSSL_IP_ALT_NAME and
    # rootfs/tls/wolfssl.patch, must not accept a wrong one)
    other, okey = os.path.join(w, "other.pem"), os.path.join(w, "other-key.pem")
    must("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", okey, "-out",
         other, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
         "subjectAltName=IP:127.0.0.2,DNS:localhost")
    front = Front(reg.host, tls=(other, okey))
    r = pull(store, front.host + "/wisp/busybox:1", regs_file(w, {front.host: {"ca": other}}))
    check("tls: a certificate for another address is refused (name mismatch), in one line",
          r.returncode == 1 and len(r.stderr.splitlines()) == 1 and "https://" in r.stderr,
          r.stderr)
    front.server.shutdown()
    shutil.rmtree(store, ignore_errors=True)


def gc(w, store):
    refs = [i["ref"] for i in json.loads(run(CL, "image", "--store", store, "list", "--json").stdout)]
    os.makedirs(os.path.join(store, "tmp/partial"), exist_ok=True)
    r = run(CL, "image", "--store", store, "gc")
    check("gc keeps pulled images' blobs and layers (removes only dead staging)",
          r.returncode == 0 and all(l.startswith("removed tmp/") for l in r.stdout.splitlines()),
          r.stdout)
    for ref in refs:
        run(CL, "image", "--store", store, "rm", ref)
    r = run(CL, "image", "--store", store, "gc")
    left = [p for p in snapshot(store) if "/" in p]
    check("rm + gc of pulled images empties the store", r.returncode == 0 and not left, left)


def fill(w, reg):
    lay, _ = images.build_image(w)
    reg.push("oci:%s:img" % lay, "wisp/busybox:1")
    if not check("debian image present (make debian-image)", os.path.exists(DEBIAN_TAR),
                 DEBIAN_TAR):
        sys.exit(1)
    reg.push("oci-archive:%s:bookworm" % DEBIAN_TAR, "wisp/debian:bookworm")
    # an index: an arm64 image (busybox's layers, an arm64 config) then amd64
    man = json.load(open(os.path.join(lay, "index.json")))["manifests"][0]
    mblob = json.load(open(os.path.join(lay, "blobs/sha256", man["digest"][7:])))
    cfg = json.load(open(os.path.join(lay, "blobs/sha256", mblob["config"]["digest"][7:])))
    cfg["architecture"] = "arm64"

    def put(obj):
        data = json.dumps(obj).encode()
        d = hashlib.sha256(data).hexdigest()
        with open(os.path.join(lay, "blobs/sha256", d), "wb") as f:
            f.write(data)
        return {"digest": "sha256:" + d, "size": len(data)}
    c = put(cfg)
    arm = dict(mblob, config=dict(mblob["config"], **c))
    a = put(arm)
    idx = put({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
               "manifests": [
                   dict(a, mediaType=man["mediaType"],
                        platform={"os": "linux", "architecture": "arm64", "variant": "v8"}),
                   {"mediaType": man["mediaType"], "digest": man["digest"], "size": man["size"],
                    "platform": {"os": "linux", "architecture": "amd64"}}]})
    top = dict(idx, mediaType="application/vnd.oci.image.index.v1+json",
               annotations={"org.opencontainers.image.ref.name": "multi"})
    index_json = json.load(open(os.path.join(lay, "index.json")))
    index_json["manifests"].append(top)
    with open(os.path.join(lay, "index.json"), "w") as f:
        json.dump(index_json, f)
    reg.push("oci:%s:multi" % lay, "wisp/multi:1")
    # six layers: three more small ones on a copy
    many = os.path.join(w, "many")
    shutil.copytree(lay, many)
    for i in range(3):
        d = os.path.join(w, "extra%d" % i)
        os.makedirs(os.path.join(d, "extra"))
        with open(os.path.join(d, "extra", "f%d" % i), "w") as f:
            f.write("layer %d\n" % i)
        must("tar", "-C", d, "-cf", d + ".tar", "extra")
        must("umoci", "raw", "add-layer", "--image", many + ":img", d + ".tar")
    reg.push("oci:%s:img" % many, "wisp/many:1")


def main():
    if os.geteuid() != 0:
        sys.exit("pull.py: run as root")
    if sys.argv[1:] == ["hostile"]:  # alone: no registry, no image needed
        w = tempfile.mkdtemp(prefix="wisp-pull-")
        front = Front("127.0.0.1:%d" % free_port())
        try:
            hostile(w, front, regs_file(w, {front.host: {"insecure": True}}))
        finally:
            shutil.rmtree(w, ignore_errors=True)
        sys.exit(images.check.status("pull.py hostile"))
    for tool in ("docker-registry", "skopeo", "umoci"):
        if not shutil.which(tool):
            sys.exit("pull.py: %s missing (make deps)" % tool)
    w = tempfile.mkdtemp(prefix="wisp-pull-")
    reg = start_registry(w)
    try:
        fill(w, reg)
        front = Front(reg.host)
        regs = regs_file(w, {front.host: {"insecure": True}})
        store, _ = basics(w, reg, front, regs)
        policy(w, reg, front, regs)
        index(w, reg, front, regs, store)
        debian(w, reg, front, regs)
        parallel(w, reg, front, regs)
        auth(w, reg, front, regs)
        hostile(w, front, regs)
        tls(w, reg)
        fetch_url.checks(w, CL)
        gc(w, mirrors(w, reg, front))
        gc(w, store)
    finally:
        reg.stop()
        shutil.rmtree(w, ignore_errors=True)
    sys.exit(images.check.status("pull.py"))


if __name__ == "__main__":
    main()
