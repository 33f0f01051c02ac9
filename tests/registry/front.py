"""A fault-injecting HTTPS front for a registry instance, and the "blob
storage" it can redirect blob downloads to (docs/registry-fixture.md).

The front relays every request to its upstream registry unchanged (Host,
Range and Authorization included) and its answers back, recording each
request in the fixture's log. What it can do to a client, per digest of a
blob (or of a manifest: the digest in the path, else the answer's
Docker-Content-Digest):

  cut_after(digest, n)   the body stops after byte N of the blob (absolute
                         offset: a Range request starting at N or later is
                         served whole) and the connection is closed
  corrupt(digest)        one byte of the body is flipped (the middle one)
  redirect_blobs(host)   blob GETs answer 307 to the blob store, another
                         origin (HOST, another port), as registries backed
                         by S3 do
  fail(substring, status)  the next request whose path contains SUBSTRING
                         gets STATUS (503, 429, ...) without reaching upstream
  stall_after(digest, n) the body stops after byte N and the connection is
                         held open, silent, until release() (then cut), for
                         STALL_MAX s at most: a transfer caught mid-way for as
                         long as a test needs (a power cut of the client's
                         machine); stalled(digest) is an Event set when a body
                         reaches byte N

docker-registry itself could redirect (its `redirect` storage middleware,
`baseurl`), but only for a whole instance, fixed at start; the front
switches per test.

The blob store serves /blobs/sha256:HEX from the registry's storage
directory with Range, as a presigned URL would: it wants the signature
query the redirect gave, and, like S3, answers 400 to a request that also
carries an Authorization header (a client must not send its registry
credentials to another origin).
"""

import http.client
import os
import re
import socket
import ssl
import threading
import urllib.parse

from httpserv import Handler, Server

CHUNK = 64 * 1024
STALL_MAX = 300  # s: a stalled body is cut after this even without release()
# Hop-by-hop headers are the relay's own business (RFC 9110 7.6.1).
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
       "proxy-connection", "proxy-authorization", "proxy-authenticate"}
DIGEST_PATH = re.compile(r"^/v2/(.+)/(blobs|manifests)/(sha256:[0-9a-f]{64})$")
BLOB_STORE_PATH = re.compile(r"^/blobs/(sha256:[0-9a-f]{64})$")
SIGNATURE = "X-Wisp-Signature=fixture"


class Faults:
    """The front's fault settings, shared with its blob store. Thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        with self._lock:
            self._cuts, self._corrupt, self._fails = {}, set(), []
            self.redirect_host = None
            for _, reached, go in getattr(self, "_stalls", {}).values():
                go.set()  # a body stalled now goes on to its cut
            self._stalls = {}

    def stall_after(self, digest, n):
        """Hold DIGEST's bodies silent after absolute byte N until release()."""
        with self._lock:
            self._stalls[digest] = (n, threading.Event(), threading.Event())

    def stalled(self, digest):
        """The Event set when a body of DIGEST reached its stall."""
        with self._lock:
            return self._stalls[digest][1]

    def release(self):
        """Stalled bodies are cut now (their clients see the connection end)."""
        with self._lock:
            for _, _, go in self._stalls.values():
                go.set()

    def cut_after(self, digest, n, times=None):
        """Cut DIGEST's bodies after absolute byte N; TIMES bodies, or all."""
        with self._lock:
            self._cuts[digest] = [n, times]

    def corrupt(self, digest, on=True):
        with self._lock:
            (self._corrupt.add if on else self._corrupt.discard)(digest)

    def fail(self, substring, status, times=1):
        with self._lock:
            self._fails.append([substring, status, times])

    def take_fail(self, path):
        """The status of a pending fail() matching PATH, used once."""
        with self._lock:
            for f in self._fails:
                if f[0] in path and f[2] > 0:
                    f[2] -= 1
                    return f[1]
        return None

    def plan(self, digest, start, total):
        """(cut, flip) absolute offsets for a body of DIGEST starting at
        START of TOTAL bytes: where to stop, which byte to flip; None for
        neither."""
        with self._lock:
            cut = flip = None
            c = self._cuts.get(digest)
            if c and start < c[0] and c[1] != 0:
                cut = c[0]
                if c[1] is not None:
                    c[1] -= 1
            if digest in self._corrupt and total:
                flip = total // 2
            st = self._stalls.get(digest)
            stall = st if st and start < st[0] else None
            return cut, flip, stall


def send_body(handler, src, digest, start, total):
    """Copies SRC (read(n)) to the client, applying the faults planned for
    DIGEST; returns False when the connection was cut."""
    cut, flip, stall = handler.server.faults.plan(digest, start, total)
    if stall and (cut is None or stall[0] < cut):
        cut = stall[0]
    else:
        stall = None
    pos = start
    while True:
        chunk = src.read(CHUNK)
        if not chunk:
            return True
        if flip is not None and pos <= flip < pos + len(chunk):
            i = flip - pos
            chunk = chunk[:i] + bytes([chunk[i] ^ 0xFF]) + chunk[i + 1:]
        if cut is not None and pos + len(chunk) >= cut:
            handler.wfile.write(chunk[:cut - pos])
            if stall:
                handler.wfile.flush()
                stall[1].set()
                stall[2].wait(STALL_MAX)
            handler.cut()
            return False
        handler.wfile.write(chunk)
        pos += len(chunk)


def content_range(resp, length):
    """(start, total) of a response body: its Content-Range, else the whole."""
    m = re.match(r"bytes (\d+)-\d+/(\d+)", resp.getheader("Content-Range") or "")
    return (int(m.group(1)), int(m.group(2))) if m else (0, length)


class FaultHandler(Handler):
    def cut(self):
        """Ends the connection mid-body, without TLS close_notify: what a
        client sees when a network or a server dies."""
        self.wfile.flush()
        self.close_connection = True
        self.entry["status"] = "cut"
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def read_body(self):
        """The request body (Content-Length; the front serves pulls, and
        pushes of monolithic uploads)."""
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else None

    def injected_failure(self):
        status = self.server.faults.take_fail(self.path)
        if status is None:
            return False
        self.reply(status, b'{"errors":[{"code":"UNAVAILABLE","message":"injected"}]}',
                   [("Content-Type", "application/json"), ("Retry-After", "1")])
        return True


class FrontHandler(FaultHandler):
    def do_GET(self):
        self.relay()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def relay(self):
        self.record()
        body = self.read_body()
        if self.injected_failure():
            return
        m = DIGEST_PATH.match(urllib.parse.urlsplit(self.path).path)
        faults = self.server.faults
        if m and m.group(2) == "blobs" and self.command == "GET" and faults.redirect_host:
            return self.redirect(m.group(3), faults.redirect_host)
        conn = self.server.upstream()
        try:
            # header by header: Go clients send one Accept line per media type
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for k, v in self.headers.items():
                if k.lower() not in HOP:
                    conn.putheader(k, v)
            conn.endheaders(body)
            resp = conn.getresponse()
            digest = m.group(3) if m else resp.getheader("Docker-Content-Digest")
            self.answer(resp, digest)
        finally:
            conn.close()

    def redirect(self, digest, host):
        """307 to the blob store, as a presigned URL: another origin."""
        url = "https://%s:%d/blobs/%s?%s" % (host, self.server.blob_store.port, digest,
                                             SIGNATURE)
        self.reply(307, b"", [("Location", url)])

    def answer(self, resp, digest):
        length = resp.getheader("Content-Length")
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() == "www-authenticate":
                v = self.realm_for_client(v)
            if k.lower() not in HOP:
                self.send_header(k, v)
        bodyless = self.command == "HEAD" or resp.status in (204, 304)
        if length is None and not bodyless:
            self.send_header("Connection", "close")  # the body ends at EOF
            self.close_connection = True
        self.end_headers()
        self.entry["status"] = resp.status
        if not bodyless:
            start, total = content_range(resp, int(length or 0))
            send_body(self, resp, digest, start, total)

    def realm_for_client(self, challenge):
        """The token realm at the host name the client used to reach the
        front (a guest's 10.0.2.2, a host's 127.0.0.1 or localhost): the
        registry names its configured realm, reachable from the host only."""
        host = urllib.parse.urlsplit("//" + (self.headers.get("Host") or "")).hostname
        if not host:
            return challenge
        return re.sub(r'realm="https://[^/:"]+', 'realm="https://' + host, challenge)


class BlobStoreHandler(FaultHandler):
    def do_GET(self):
        self.record()
        url = urllib.parse.urlsplit(self.path)
        m = BLOB_STORE_PATH.match(url.path)
        if self.injected_failure():
            return
        if self.headers.get("Authorization"):
            return self.reply(400, b"InvalidArgument: only one auth mechanism allowed")
        if not m or url.query != SIGNATURE:
            return self.reply(403, b"AccessDenied: bad signature")
        path = blob_file(self.server.storage, m.group(1))
        if not os.path.exists(path):
            return self.reply(404, b"NoSuchKey")
        self.serve(m.group(1), path)

    do_HEAD = do_GET

    def serve(self, digest, path):
        total = os.path.getsize(path)
        rng = parse_range(self.headers.get("Range"), total)
        if rng is False:
            return self.reply(416, b"", [("Content-Range", "bytes */%d" % total)])
        start, end = rng or (0, total - 1)
        self.send_response(206 if rng else 200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        if rng:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, total))
        self.end_headers()
        self.entry["status"] = 206 if rng else 200
        if self.command == "GET":
            with open(path, "rb") as f:
                f.seek(start)
                send_body(self, LimitedReader(f, end - start + 1), digest, start, total)


class LimitedReader:
    def __init__(self, f, n):
        self.f, self.left = f, n

    def read(self, n):
        data = self.f.read(min(n, self.left))
        self.left -= len(data)
        return data


def parse_range(value, total):
    """(start, end) of a single "bytes=A-[B]" range; None without one;
    False when unsatisfiable."""
    if not value:
        return None
    m = re.fullmatch(r"bytes=(\d+)-(\d*)", value.strip())
    if not m:
        return None  # other forms (suffix, several ranges): serve it all, as allowed
    start = int(m.group(1))
    end = min(int(m.group(2)), total - 1) if m.group(2) else total - 1
    return (start, end) if start <= end else False


def blob_file(storage, digest):
    """A blob's data file in docker-registry's filesystem storage layout."""
    hexd = digest.split(":", 1)[1]
    return os.path.join(storage, "docker", "registry", "v2", "blobs", "sha256", hexd[:2], hexd,
                        "data")


class Front:
    """A front on a free port over the upstream registry at UPSTREAM_PORT
    (HTTPS verified with CA), with its blob store over STORAGE; both HTTPS
    with TLS (an ssl server context), logging into LOG as NAME and
    NAME-blobs."""

    def __init__(self, name, upstream_port, ca, storage, tls, log):
        self.faults = Faults()
        client = ssl.create_default_context(cafile=ca)
        self.blob_store = Server(BlobStoreHandler, tls, name=name + "-blobs")
        self.blob_store.faults, self.blob_store.log = self.faults, log
        self.blob_store.storage = storage
        self.server = Server(FrontHandler, tls, name=name)
        self.server.faults, self.server.log = self.faults, log
        self.server.blob_store = self.blob_store
        self.server.upstream = lambda: http.client.HTTPSConnection(
            "127.0.0.1", upstream_port, context=client, timeout=60)
        self.port = self.server.port

    def start(self):
        self.blob_store.start()
        self.server.start()
        return self

    # the fault controls (Faults) under the names the tests use
    def cut_after(self, digest, n, times=None):
        self.faults.cut_after(digest, n, times)

    def corrupt(self, digest, on=True):
        self.faults.corrupt(digest, on)

    def redirect_blobs(self, on=True, host="localhost"):
        self.faults.redirect_host = host if on else None

    def fail(self, substring, status, times=1):
        self.faults.fail(substring, status, times)

    def stall_after(self, digest, n):
        self.faults.stall_after(digest, n)

    def stalled(self, digest):
        return self.faults.stalled(digest)

    def release(self):
        self.faults.release()

    def stop(self):
        self.faults.release()  # no handler thread waits on a stall past the end
        self.server.stop()
        self.blob_store.stop()

    def reset(self):
        self.faults.reset()
