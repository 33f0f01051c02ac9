"""`containerd-lite image fetch URL` (image/urlget.c), run by pull.py for both builds of
the CLI: the updater reads bundles named by URL through it (docs/update.md).

A file server on loopback, over HTTPS with a certificate of its own CA and over plain
HTTP, serves a 3 MiB file, redirects (to HTTPS and, refused, to HTTP), a 404 with a page
and a 401 with a Bearer challenge. Checked: the bytes arrive whole over both schemes;
TLS is verified (--ca FILE trusts the server, the default bundle does not); no byte of an
error's or a redirect's page reaches stdout; each failure is one line naming the URL (and
the HTTP status); a reader that stops early ends the fetch with an error, not a signal.
A server trickling the file (a byte every 0.2 s) fails the fetch under the low-speed limit
(1 KiB/s, its 60 s lowered to 2 s by CL_TEST_FETCH_SPEED_TIME), in one line, within 30 s;
a URL given in CL_FETCH_URL is fetched with no URL in argv, and no error shows a query
or a URL's user and password. A URL with a user (and password), given or a redirect's
Location, is refused in one line without them before any request for it (curl would send
them as Basic credentials; the fetcher sends none). The scheme is case-insensitive
(HTTP://, HTTPS://), the refusal of a redirect from https to http too.
"""

import http.server
import os
import re
import ssl
import subprocess
import threading
import time

from images import check, must


def server(w, tls):
    """A file server for w/file on 127.0.0.1: (server, base URL)."""
    body = open(os.path.join(w, "file"), "rb").read()

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def answer(self, status, data=b"", headers=()):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def trickle(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for b in body[:600]:  # 5 bytes/s for 2 minutes, far below 1 KiB/s
                self.wfile.write(bytes([b]))
                self.wfile.flush()
                time.sleep(0.2)

        def do_GET(self):
            hits.append(self.path)
            if self.path.startswith("/trickle"):
                return self.trickle()
            routes = {
                "/file": (200, body, ()),
                "/again": (302, b"moved", (("Location", "/file"),)),
                "/to-http": (302, b"moved", (("Location", plain + "/file"),)),
                "/to-userinfo": (302, b"moved", (("Location", "%s://wisp:%s@%s/file" % (
                    "https" if tls else "http", PASSWORD, self.headers["Host"])),)),
                # a password longer than what a message keeps of a URL (300 bytes)
                "/to-http-userinfo": (302, b"moved", (("Location", plain.replace(
                    "://", "://wisp:%s@" % (PASSWORD * 40)) + "/file"),)),
                "/auth": (401, b"who?", (("WWW-Authenticate",
                                          'Bearer realm="https://127.0.0.1/t",service="x"'),)),
            }
            self.answer(*routes.get(self.path.split("?")[0], (404, b"<html>not here</html>", ())))

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # the reader that stops early resets its connection: expected

    s = Server(("127.0.0.1", 0), H)
    s.daemon_threads = True
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*tls)
        s.socket = ctx.wrap_socket(s.socket, server_side=True)
    threading.Thread(target=s.serve_forever, daemon=True).start()
    return s, "%s://127.0.0.1:%d" % ("https" if tls else "http", s.server_address[1])


plain = None  # the plain server's base URL, for the HTTPS one's redirect
hits = []  # the paths both servers were asked for


def fetch(cl, url, *opts, env=None, timeout=None):
    r = subprocess.run([cl, "image", "fetch", *opts, *([url] if url else [])],
                       capture_output=True, env=env, timeout=timeout)
    return r.returncode, r.stdout, r.stderr.decode(errors="replace")


SECRET = "X-Amz-Signature=0123secret"
PASSWORD = "hunter2pw"


def trickled(cl):
    """The low-speed limit: one line naming the URL without its query, well before the
    trickle's 2 minutes (a timeout there is the failure: no limit held the fetch)."""
    env = dict(os.environ, CL_TEST_FETCH_SPEED_TIME="2")
    url = plain + "/trickle?" + SECRET
    start = time.monotonic()
    try:
        r = fetch(cl, url, env=env, timeout=30)
    except subprocess.TimeoutExpired:
        check("fetch: a trickling server fails the low-speed limit within 30 s", False,
              "still fetching after 30 s")
        return
    check("fetch: a trickling server: one line, the URL without its query, the limit",
          r[0] == 1 and len(r[2].splitlines()) == 1 and
          "GET %s/trickle: slower than 1024 bytes/s for 2 s" % plain in r[2] and
          SECRET not in r[2], (r[0], r[2], time.monotonic() - start))
    env["CL_TEST_FETCH_SPEED_TIME"] = "600"  # only lowers: 600 is the 60 s default
    p = subprocess.Popen([cl, "image", "fetch", url], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env)
    got = p.stdout.read(20)
    p.kill()
    p.wait()
    check("fetch: CL_TEST_FETCH_SPEED_TIME above 60 s does not lengthen the limit (still "
          "reading after 4 s)", len(got) == 20, got)


def from_env(cl):
    """CL_FETCH_URL: the URL out of argv (/proc/PID/cmdline is every user's)."""
    env = dict(os.environ, CL_FETCH_URL=plain + "/trickle?" + SECRET)
    p = subprocess.Popen([cl, "image", "fetch"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env)
    got = p.stdout.read(1)  # fetching: exec'd, its argv final
    argv = open("/proc/%d/cmdline" % p.pid, "rb").read()
    ids = re.findall(r"(?m)^[UG]id:\t(.*)$", open("/proc/%d/status" % p.pid).read())
    owner = os.stat("/proc/%d/environ" % p.pid).st_uid
    p.kill()
    p.wait()
    check("fetch with CL_FETCH_URL: the URL not in argv while it fetches",
          got and argv.startswith(cl.encode()) and SECRET.encode() not in argv, (got, argv))
    # started as root (pull.py runs as root only), as the updater's fetch is: the network's
    # bytes parsed as nobody, its environment (the URL) root's to read, not nobody's
    check("fetch started as root runs as nobody while it fetches, its /proc files root's",
          ids == ["65534\t65534\t65534\t65534"] * 2 and owner == 0, (ids, owner))
    env["CL_FETCH_URL"] = plain + "/file?" + SECRET
    r = fetch(cl, None, env=env, timeout=60)
    check("fetch with CL_FETCH_URL: every byte",
          r[0] == 0 and r[1] == open(os.path.join(W, "file"), "rb").read(), r[2])
    env["CL_FETCH_URL"] = plain + "/missing?" + SECRET
    r = fetch(cl, None, env=env)
    check("fetch: a 404's line names the URL without its query",
          one_line(*r, "GET %s/missing: HTTP 404" % plain) and SECRET not in r[2], r[2])
    env["CL_FETCH_URL"] = plain.replace("://", "://wisp:%s@" % PASSWORD) + "/missing?" + SECRET
    r = fetch(cl, None, env=env)
    check("fetch: a URL with userinfo in CL_FETCH_URL: refused in one line naming it without "
          "its user, password and query",
          one_line(*r, "%s/missing: credentials in a URL are not supported" % plain) and
          PASSWORD not in r[2] and "wisp" not in r[2] and SECRET not in r[2], r[2])
    env.pop("CL_FETCH_URL")
    r = fetch(cl, None, env=env)
    check("fetch with no URL and no CL_FETCH_URL: one line", one_line(*r, "CL_FETCH_URL"), r[2])


def userinfo(cl, https, ca, data):
    """A URL's user and password: refused, given or redirected to, before any request
    for it. The scheme in any case."""
    for url in (plain.replace("://", "://wisp:%s@" % PASSWORD), https.replace("://", "://wisp@"),
                plain.replace("http://", "HTTP://wisp:%s@" % PASSWORD)):
        hits.clear()
        r = fetch(cl, url + "/file", "--ca", ca)
        shown = url.replace("wisp:%s@" % PASSWORD, "").replace("wisp@", "")
        check("fetch %s/file: refused before any request, in one line without the user and "
              "password" % shown.split(":")[0], one_line(
                  *r, "%s/file: credentials in a URL are not supported" % shown) and
              PASSWORD not in r[2] and "wisp" not in r[2] and not hits, (r[2], hits))
    for base, opts in ((plain, ()), (https, ("--ca", ca))):
        hits.clear()
        r = fetch(cl, base + "/to-userinfo", *opts)
        check("fetch: a redirect to a URL with a user and password (%s) is refused in one line "
              "without them, not followed" % base.split(":")[0], one_line(
                  *r, "GET %s/to-userinfo: redirect to %s/file: credentials in a URL are not "
                  "supported" % (base, base)) and PASSWORD not in r[2] and "wisp" not in r[2]
              and hits == ["/to-userinfo"], (r[2], hits))
    r = fetch(cl, "ftp://wisp:%s@127.0.0.1/file" % (PASSWORD * 40))
    check("fetch: another scheme with a long password: refused in one line without any of it",
          one_line(*r, "ftp://127.0.0.1/file: credentials in a URL are not supported") and
          PASSWORD[:4] not in r[2], r[2])
    hits.clear()
    r = fetch(cl, https + "/to-http-userinfo", "--ca", ca)
    check("fetch: a redirect from https to http with a long password: refused in one line "
          "without any of it", one_line(*r, "credentials in a URL are not supported") and
          PASSWORD[:4] not in r[2] and hits == ["/to-http-userinfo"], (r[2], hits))
    rc, out, err = fetch(cl, plain.replace("http://", "HTTP://") + "/file")
    check("fetch: HTTP:// (the scheme in upper case): every byte", rc == 0 and out == data, err)
    rc, out, err = fetch(cl, https.replace("https://", "HtTpS://") + "/again", "--ca", ca)
    check("fetch: HtTpS://, redirected: every byte", rc == 0 and out == data, err)
    r = fetch(cl, https.replace("https://", "HTTPS://") + "/to-http", "--ca", ca)
    check("fetch: a redirect from HTTPS:// to http is refused", one_line(*r, "not https"), r[2])


def one_line(rc, out, err, *words):
    return rc == 1 and out == b"" and len(err.splitlines()) == 1 and all(w in err for w in words)


W = None  # the test's directory


def checks(w, cl):
    global plain, W
    W = w = os.path.join(w, "fetch")
    os.makedirs(w, exist_ok=True)
    data = os.urandom(3 << 20)
    with open(os.path.join(w, "file"), "wb") as f:
        f.write(data)
    ca, key = os.path.join(w, "ca.pem"), os.path.join(w, "key.pem")
    must("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", ca,
         "-days", "1", "-subj", "/CN=wisp-fetch-test", "-addext", "subjectAltName=IP:127.0.0.1")
    hs, plain_s = None, None
    try:
        plain_s, plain = server(w, None)
        hs, https = server(w, (ca, key))
        rc, out, err = fetch(cl, https + "/file", "--ca", ca)
        check("fetch: https verified with --ca: every byte", rc == 0 and out == data, err)
        rc, out, err = fetch(cl, plain + "/file")
        check("fetch: http: every byte", rc == 0 and out == data, err)
        rc, out, err = fetch(cl, https + "/again", "--ca", ca)
        check("fetch: a redirect is followed", rc == 0 and out == data, err)
        r = fetch(cl, https + "/file")
        check("fetch: the default bundle does not trust the test CA: one line naming the URL",
              one_line(*r, "GET %s/file" % https), r[2])
        r = fetch(cl, https + "/missing", "--ca", ca)
        check("fetch: a 404 is one line with the URL and status, its page not on stdout",
              one_line(*r, "GET %s/missing" % https, "HTTP 404"), r[2])
        r = fetch(cl, https + "/to-http", "--ca", ca)
        check("fetch: a redirect from https to http is refused", one_line(*r, "not https"), r[2])
        r = fetch(cl, https + "/auth", "--ca", ca)
        check("fetch: a 401 challenge is not answered: one line", one_line(*r, "HTTP 401"), r[2])
        r = fetch(cl, "ftp://127.0.0.1/file")
        check("fetch: another scheme is refused", one_line(*r, "not an http:// or https:// URL"),
              r[2])
        userinfo(cl, https, ca, data)
        p = subprocess.Popen([cl, "image", "fetch", plain + "/file"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        p.stdout.read(1000)
        p.stdout.close()
        err = p.stderr.read().decode(errors="replace")
        rc = p.wait()
        check("fetch: a reader that stops ends it with an error (exit 1), not SIGPIPE",
              rc == 1 and "write" in err and len(err.splitlines()) == 1, (rc, err))
        trickled(cl)
        from_env(cl)
    finally:
        for s in (hs, plain_s):
            if s:
                s.shutdown()
