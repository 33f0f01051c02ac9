"""`containerd-lite image fetch URL` (image/urlget.c), run by pull.py for both builds of
the CLI: the updater reads bundles named by URL through it (docs/update.md).

A file server on loopback, over HTTPS with a certificate of its own CA and over plain
HTTP, serves a 3 MiB file, redirects (to HTTPS and, refused, to HTTP), a 404 with a page
and a 401 with a Bearer challenge. Checked: the bytes arrive whole over both schemes;
TLS is verified (--ca FILE trusts the server, the default bundle does not); no byte of an
error's or a redirect's page reaches stdout; each failure is one line naming the URL (and
the HTTP status); a reader that stops early ends the fetch with an error, not a signal.
"""

import http.server
import os
import ssl
import subprocess
import threading

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

        def do_GET(self):
            routes = {
                "/file": (200, body, ()),
                "/again": (302, b"moved", (("Location", "/file"),)),
                "/to-http": (302, b"moved", (("Location", plain + "/file"),)),
                "/auth": (401, b"who?", (("WWW-Authenticate",
                                          'Bearer realm="https://127.0.0.1/t",service="x"'),)),
            }
            self.answer(*routes.get(self.path, (404, b"<html>not here</html>", ())))

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


def fetch(cl, url, *opts):
    r = subprocess.run([cl, "image", "fetch", *opts, url], capture_output=True)
    return r.returncode, r.stdout, r.stderr.decode(errors="replace")


def one_line(rc, out, err, *words):
    return rc == 1 and out == b"" and len(err.splitlines()) == 1 and all(w in err for w in words)


def checks(w, cl):
    global plain
    w = os.path.join(w, "fetch")
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
        p = subprocess.Popen([cl, "image", "fetch", plain + "/file"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        p.stdout.read(1000)
        p.stdout.close()
        err = p.stderr.read().decode(errors="replace")
        rc = p.wait()
        check("fetch: a reader that stops ends it with an error (exit 1), not SIGPIPE",
              rc == 1 and "write" in err and len(err.splitlines()) == 1, (rc, err))
    finally:
        for s in (hs, plain_s):
            if s:
                s.shutdown()
