#!/usr/bin/env python3
"""The registry fixture proven against a peer (make registry-test).

skopeo, the reference client, inspects every image through every endpoint
and gets the source layouts' digests; a TLS client without the test CA is
refused; the token instance answers 401 with a Bearer challenge, the token
service refuses a wrong password, an anonymous token does not open the
private repository and the test user's does; `skopeo copy` to an OCI
layout gives the source's manifest digest. Each fault control is observed
with a urllib client: a cut body ends at the byte asked and a Range request
resumes it (206, Content-Range, the whole blob's digest); a corrupted blob
differs in one byte; a redirect is a 307 to another origin whose request
log shows what the client sent; an injected 503 is answered once. Then no
process or port of the fixture is left, also when the block raised, and a
missing docker-registry fails naming its package.

Prints ok/FAIL per check; exits 1 on any failure.
"""

import base64
import hashlib
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref_images import build_dir, layers, source_digest  # noqa: E402
from registry import Registry  # noqa: E402

MIB = 1024 * 1024
failures = 0


def check(name, cond, detail=""):
    global failures
    if not cond:
        failures += 1
    print(("ok   " if cond else "FAIL ") + name + ("" if cond or not detail else ": " + str(detail)),
          flush=True)
    return cond


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Client:
    """A urllib-free HTTP(S) client of one endpoint: one request a
    connection, no redirect following, the response body read as far as
    the server sends it (a cut body is returned short, with the error)."""

    def __init__(self, reg, endpoint, name="127.0.0.1"):
        self.ctx = ssl.create_default_context(cafile=reg.ca)
        u = urllib.parse.urlsplit(reg.url(endpoint, name))
        self.scheme, self.host, self.port = u.scheme, u.hostname, u.port

    def get(self, path, headers=None, method="GET", url=None):
        """(status, headers, body, error) of one request."""
        scheme, host, port = self.scheme, self.host, self.port
        if url:
            u = urllib.parse.urlsplit(url)
            scheme, host, port, path = u.scheme, u.hostname, u.port, u.path + "?" + u.query
        conn = (http.client.HTTPSConnection(host, port, context=self.ctx, timeout=30)
                if scheme == "https" else http.client.HTTPConnection(host, port, timeout=30))
        try:
            conn.request(method, path, headers=headers or {})
            r = conn.getresponse()
            body, err = read_all(r)
            return r.status, {k.lower(): v for k, v in r.getheaders()}, body, err
        finally:
            conn.close()


def read_all(resp):
    """The body as far as it came, and the error that ended it early."""
    parts = []
    try:
        while True:
            chunk = resp.read1(64 * 1024)
            if not chunk:
                return b"".join(parts), None
            parts.append(chunk)
    except (OSError, http.client.HTTPException) as e:
        return b"".join(parts), e


# --- skopeo, the peer ----------------------------------------------------

def skopeo_inspect(reg, endpoint, ref, *opts):
    return reg.skopeo("inspect", *opts, "docker://%s/%s" % (reg.host(endpoint), ref))


def inspect_digest(reg, endpoint, ref, *opts):
    r = skopeo_inspect(reg, endpoint, ref, *opts)
    return json.loads(r.stdout)["Digest"] if r.returncode == 0 else r.stderr.strip()


def test_inspect(reg):
    tls = ("--cert-dir", reg.cert_dir)
    creds = ("--creds", "%s:%s" % (reg.user, reg.password))
    for ref, want in reg.digests.items():
        private = ref.startswith("private/")
        check("skopeo inspect https %s" % ref, inspect_digest(reg, "https", ref, *tls) == want)
        check("skopeo inspect mirror (http) %s" % ref,
              inspect_digest(reg, "mirror", ref, "--tls-verify=false") == want)
        check("skopeo inspect front %s" % ref, inspect_digest(reg, "front", ref, *tls) == want)
        # public repositories through the token instance: an anonymous token
        opts = tls + creds if private else tls
        check("skopeo inspect token %s%s" % (ref, " (test user)" if private else " (anonymous)"),
              inspect_digest(reg, "token", ref, *opts) == want)
        check("skopeo inspect front-token %s" % ref,
              inspect_digest(reg, "front-token", ref, *opts) == want)
    r = skopeo_inspect(reg, "token", "private/busybox:1", *tls)
    check("skopeo inspect token private/busybox:1 anonymously: refused",
          r.returncode != 0 and "unauthorized" in r.stderr.lower(), r.stderr.strip())
    r = skopeo_inspect(reg, "https", "wisp/busybox:1")
    check("skopeo inspect https without the test CA: refused",
          r.returncode != 0 and "certificate" in r.stderr, r.stderr.strip())
    r = reg.skopeo("inspect", *tls, "docker://localhost:%d/wisp/busybox:1" % reg.port("https"))
    check("skopeo inspect https as localhost (a name of the certificate)",
          r.returncode == 0 and json.loads(r.stdout)["Digest"] == reg.digests["wisp/busybox:1"],
          r.stderr.strip())


def test_certificate(reg):
    r = subprocess.run(
        ["openssl", "x509", "-in", reg.pki.server, "-noout", "-ext", "subjectAltName"],
        capture_output=True, text=True)
    names = r.stdout.replace(" ", "").split("\n", 1)[-1].strip().split(",")
    check("server certificate names 127.0.0.1, localhost, 10.0.2.2",
          sorted(names) == sorted(["IPAddress:127.0.0.1", "DNS:localhost", "IPAddress:10.0.2.2"]),
          names)


def test_copy(reg, work):
    dest = os.path.join(work, "copied")
    ref = "wisp/busybox:1"
    r = reg.skopeo("copy", "--src-cert-dir", reg.cert_dir,
                   "docker://%s/%s" % (reg.host("https"), ref), "oci:" + dest)
    got = source_digest("oci:" + dest) if r.returncode == 0 else r.stderr.strip()
    check("skopeo copy https %s to oci: same manifest digest" % ref,
          got == reg.digests[ref], got)


# --- the token flow, by hand ---------------------------------------------

def challenge(header):
    """The parameters of a Bearer challenge."""
    kind, _, params = header.partition(" ")
    return kind, dict(p.split("=", 1) for p in
                      (x.strip() for x in params.replace('"', "").split(",")) if "=" in p)


def token(reg, params, user=None, password=None):
    """(status, token) from the realm of a challenge's PARAMS."""
    q = urllib.parse.urlencode({"service": params["service"], "scope": params["scope"]})
    headers = {}
    if user:
        headers["Authorization"] = "Basic " + base64.b64encode(
            ("%s:%s" % (user, password)).encode()).decode()
    c = Client(reg, "https")
    status, _, body, _ = c.get(None, headers, url=params["realm"] + "?" + q)
    return status, json.loads(body)["token"] if status == 200 else None


def test_token(reg):
    c = Client(reg, "token")
    path = "/v2/private/busybox/manifests/1"
    accept = {"Accept": "application/vnd.oci.image.manifest.v1+json"}
    status, h, _, _ = c.get(path, accept)
    kind, params = challenge(h.get("www-authenticate", ""))
    check("token instance: anonymous GET is 401 with a Bearer challenge",
          status == 401 and kind == "Bearer" and params.get("realm") == reg.realm
          and params.get("scope") == "repository:private/busybox:pull", (status, h))
    status, _ = token(reg, params, reg.user, "wrong")
    check("token service: a wrong password is 401", status == 401, status)
    status, anon = token(reg, params)
    st2, h2, _, _ = c.get(path, dict(accept, Authorization="Bearer %s" % anon))
    check("token service: an anonymous token does not open private/ (insufficient_scope)",
          status == 200 and st2 == 401
          and challenge(h2.get("www-authenticate", ""))[1].get("error") == "insufficient_scope",
          (status, st2, h2.get("www-authenticate")))
    status, tok = token(reg, params, reg.user, reg.password)
    st2, h2, body, _ = c.get(path, dict(accept, Authorization="Bearer %s" % tok))
    want = reg.digests["private/busybox:1"]
    check("token service: the test user's token opens private/busybox",
          st2 == 200 and h2.get("docker-content-digest") == want and sha(body) == want, st2)
    # through the front, the realm is named by the host the client used
    f = Client(reg, "front-token", "localhost")
    _, h, _, _ = f.get(path, accept)
    check("front-token: the realm follows the client's host name",
          challenge(h.get("www-authenticate", ""))[1].get("realm") ==
          "https://localhost:%d/token" % reg.token_server.port, h.get("www-authenticate"))


# --- fault controls --------------------------------------------------------

def blob_path(repo, desc):
    return "/v2/%s/blobs/%s" % (repo, desc["digest"])


def test_range(reg, big):
    data = blob_bytes(reg, big)
    for endpoint in ("https", "front"):
        status, h, body, _ = Client(reg, endpoint).get(blob_path("wisp/big", big),
                                                        {"Range": "bytes=100-199"})
        check("%s: Range is 206 with Content-Range" % endpoint,
              status == 206 and h.get("content-range") == "bytes 100-199/%d" % big["size"]
              and body == data[100:200], (status, h.get("content-range")))


def blob_bytes(reg, desc):
    """The blob from the layout's own files (not through the fixture)."""
    src = reg.images["wisp/big:1"][len("oci:"):]
    with open(os.path.join(src, "blobs", "sha256", desc["digest"].split(":")[1]), "rb") as f:
        return f.read()


def test_cut(reg, big):
    c = Client(reg, "front")
    path = blob_path("wisp/big", big)
    reg.front.cut_after(big["digest"], 3 * MIB)
    status, h, first, err = c.get(path)
    check("cut_after: the body ends at byte 3 MiB of the Content-Length announced",
          status == 200 and len(first) == 3 * MIB and int(h["content-length"]) == big["size"],
          (status, len(first), err))
    status, h, rest, err = c.get(path, {"Range": "bytes=%d-" % len(first)})
    check("cut_after: a Range request from there resumes (206) to the blob's digest",
          status == 206 and h.get("content-range") == "bytes %d-%d/%d" % (
              3 * MIB, big["size"] - 1, big["size"]) and sha(first + rest) == big["digest"],
          (status, h.get("content-range"), err))
    status, _, again, _ = c.get(path)
    check("cut_after: a restart from 0 is cut again", len(again) == 3 * MIB, len(again))
    reg.front.reset()
    status, _, whole, err = c.get(path)
    check("reset: the blob whole again", sha(whole) == big["digest"] and err is None, err)


def test_stall(reg, big):
    """stall_after: the body stops at byte N and the connection stays open and silent
    until release(), which cuts it."""
    c, got = Client(reg, "front"), {}
    reg.front.stall_after(big["digest"], 2 * MIB)
    t = threading.Thread(target=lambda: got.update(r=c.get(blob_path("wisp/big", big))))
    t.start()
    check("stall_after: the body reached byte 2 MiB (stalled() set)",
          reg.front.stalled(big["digest"]).wait(30))
    t.join(2)
    check("stall_after: the connection held open while stalled", t.is_alive())
    reg.front.release()
    t.join(30)
    status, _, body, err = got.get("r", (None, None, b"", None))
    check("release: the stalled body cut at byte 2 MiB", status == 200 and len(body) == 2 * MIB,
          (status, len(body), err))
    reg.front.reset()


def test_corrupt(reg):
    bb = layers(reg.images["wisp/busybox:1"])[0]
    c = Client(reg, "front")
    reg.front.corrupt(bb["digest"])
    _, _, bad, _ = c.get(blob_path("wisp/busybox", bb))
    reg.front.reset()
    _, _, good, _ = c.get(blob_path("wisp/busybox", bb))
    diff = sum(a != b for a, b in zip(bad, good))
    check("corrupt: same length, one byte differs, sha256 differs",
          len(bad) == len(good) == bb["size"] and diff == 1 and sha(bad) != bb["digest"]
          and sha(good) == bb["digest"], (len(bad), diff))
    man = reg.digests["wisp/busybox:1"]
    reg.front.corrupt(man)
    _, h, body, _ = c.get("/v2/wisp/busybox/manifests/1",
                          {"Accept": "application/vnd.oci.image.manifest.v1+json"})
    reg.front.reset()
    check("corrupt: a manifest fetched by tag (Docker-Content-Digest) is altered",
          h.get("docker-content-digest") == man and sha(body) != man, sha(body))


def test_redirect(reg):
    bb = layers(reg.images["wisp/busybox:1"])[0]
    path = blob_path("wisp/busybox", bb)
    c = Client(reg, "front")
    reg.front.redirect_blobs(True, host="localhost")
    reg.log.clear()
    status, h, _, _ = c.get(path, {"Authorization": "Bearer sekrit"})
    loc = urllib.parse.urlsplit(h.get("location", ""))
    check("redirect_blobs: a blob GET is 307 to another origin (localhost, the blob store)",
          status == 307 and loc.hostname == "localhost" and loc.port == reg.front.blob_store.port,
          (status, h.get("location")))
    status, _, body, _ = c.get(None, url=h["location"])
    check("redirect_blobs: the blob store serves the blob", status == 200 and sha(body) ==
          bb["digest"], status)
    status, _, _, _ = c.get(None, {"Authorization": "Bearer sekrit"}, url=h["location"])
    check("redirect_blobs: the blob store refuses a request carrying Authorization (400)",
          status == 400, status)
    log = reg.log.entries(server="front-blobs")
    check("request log: the blob store's requests with their headers",
          [e["headers"].get("authorization") for e in log] == [None, "Bearer sekrit"]
          and [e["status"] for e in log] == [200, 400], log)
    check("request log: the front's request with its Authorization",
          [e["headers"].get("authorization") for e in reg.log.entries(server="front")] ==
          ["Bearer sekrit"])
    status, _, body, _ = c.get(path, method="HEAD")
    check("redirect_blobs: HEAD is not redirected", status == 200, status)
    reg.front.reset()
    status, _, body, _ = c.get(path)
    check("redirect_blobs off: the front serves the blob", status == 200 and sha(body) ==
          bb["digest"], status)


def test_urllib_leak_seen(reg):
    """urllib follows redirects keeping Authorization: the fixture must
    catch such a client, as it must catch containerd-lite doing it."""
    bb = layers(reg.images["wisp/busybox:1"])[0]
    reg.front.redirect_blobs(True)
    reg.log.clear()
    req = urllib.request.Request(reg.url("front") + blob_path("wisp/busybox", bb),
                                 headers={"Authorization": "Bearer leaked"})
    try:
        urllib.request.urlopen(req, context=ssl.create_default_context(cafile=reg.ca)).read()
        status = 200
    except urllib.error.HTTPError as e:
        status = e.code
    reg.front.reset()
    leaked = [e["headers"].get("authorization") for e in reg.log.entries(server="front-blobs")]
    check("a client leaking Authorization across the redirect is caught (400, logged)",
          status == 400 and leaked == ["Bearer leaked"], (status, leaked))


def test_fail(reg):
    c = Client(reg, "front")
    reg.front.fail("/manifests/", 503)
    path = "/v2/wisp/busybox/manifests/1"
    accept = {"Accept": "application/vnd.oci.image.manifest.v1+json"}
    first, second = c.get(path, accept)[0], c.get(path, accept)[0]
    check("fail: one injected 503, then the registry's answer", (first, second) == (503, 200),
          (first, second))


# --- lifetime ----------------------------------------------------------------

def refused(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_cleanup(reg, procs, ports):
    check("after the block: every docker-registry process has exited",
          all(p.poll() is not None for p in procs), [p.pid for p in procs])
    check("after the block: no endpoint accepts connections", all(refused(p) for p in ports),
          ports)


def test_raise(work):
    """A failing test inside the block still stops everything."""
    try:
        with Registry(os.path.join(work, "raise"), images={}) as reg:
            procs = [i.proc for i in reg.instances.values()]
            ports = [reg.port(e) for e in reg.ENDPOINTS]
            raise KeyError("a failing test")
    except KeyError:
        pass
    check("a block that raised: processes and ports gone",
          all(p.poll() is not None for p in procs) and all(refused(p) for p in ports))


def test_missing_tool(work):
    """Without docker-registry on PATH, the fixture fails naming its package."""
    bin_dir = os.path.join(work, "bin")
    os.makedirs(bin_dir)
    for t in ("skopeo", "openssl"):
        os.symlink(shutil.which(t), os.path.join(bin_dir, t))
    path = os.environ["PATH"]
    os.environ["PATH"] = bin_dir
    try:
        with Registry(os.path.join(work, "missing"), images={}):
            err = "started"
    except RuntimeError as e:
        err = str(e)
    finally:
        os.environ["PATH"] = path
    check("docker-registry missing: fails naming the Debian package",
          "docker-registry (Debian package docker-registry)" in err, err)


def main():
    tmp = os.path.join(build_dir(), "tmp")
    os.makedirs(tmp, exist_ok=True)
    work = tempfile.mkdtemp(prefix="registry-test.", dir=tmp)
    try:
        with Registry(os.path.join(work, "reg")) as reg:
            procs = [i.proc for i in reg.instances.values()]
            ports = [reg.port(e) for e in reg.ENDPOINTS] + [reg.token_server.port]
            big = layers(reg.images["wisp/big:1"])[0]
            test_certificate(reg)
            test_inspect(reg)
            test_copy(reg, work)
            test_token(reg)
            test_range(reg, big)
            test_cut(reg, big)
            test_stall(reg, big)
            test_corrupt(reg)
            test_redirect(reg)
            test_urllib_leak_seen(reg)
            test_fail(reg)
        test_cleanup(reg, procs, ports)
        test_raise(work)
        test_missing_tool(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("registry-test: %s" % ("%d failed" % failures if failures else "all passed"))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
