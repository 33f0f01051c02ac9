#!/usr/bin/env python3
"""The image's libcurl + wolfSSL against local servers (docs/tls.md): build/tls/tlsget,
static musl, GETs from HTTPS servers on 127.0.0.1 that Python's ssl module runs with
certificates this test makes with openssl (a root CA, an intermediate the servers send,
leaf certificates; all thrown away afterwards):

  - the right CA: status 200, the body byte for byte (RSA and ECDSA server keys);
  - another CA: fails, one line naming the URL, a certificate verification error;
  - a certificate for another host name: fails the same way, a name mismatch;
  - a server that speaks TLS 1.2 at most: the body;
  - hosts named by address (127.0.0.1, [::1]): the certificate's iPAddress entry
    matches; one naming other addresses is a name mismatch;
  - plain http: works, no CA needed;
  - a redirect (http -> https, then https -> https) is followed to the body;
  - with BUNDLE (ROOT's /etc/ssl/certs/ca-certificates.crt) and the test's root after it
    as the CA file: the body (wolfSSL reads all of Mozilla's CAs); BUNDLE alone: refused.

usage: test_tls.py TLSGET [BUNDLE]
A missing openssl or Python ssl module is a failure, not a skip.
Prints ok/FAIL per check; exits 1 on any failure."""
import http.server
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

failures = 0


def check(name, cond, detail=""):
    global failures
    failures += not cond
    print(("ok   " if cond else "FAIL ") + name + ("" if cond or not detail else ": " + detail))


def need_prerequisites():
    """openssl and Python's ssl module, or the test fails here and now."""
    try:
        import ssl
    except ImportError as e:
        sys.exit("FAIL test_tls: Python's ssl module is missing (%s): install python3" % e)
    del ssl  # only whether it imports matters here
    if not shutil.which("openssl"):
        sys.exit("FAIL test_tls: openssl is missing: make deps (package openssl)")


OPENSSL_CNF = """
[req]
distinguished_name = dn
[dn]
CN = unused
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $ENV::SAN
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""

RSA = ["-newkey", "rsa:2048"]
EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]


class Pki:
    """Keys and certificates in DIR, made with the openssl command."""

    def __init__(self, d):
        self.d = d
        self.cnf = self.path("openssl.cnf")
        with open(self.cnf, "w") as f:
            f.write(OPENSSL_CNF)
        self.serial = 1

    def path(self, name):
        return os.path.join(self.d, name)

    def openssl(self, *args, san="DNS:unused"):
        env = dict(os.environ, SAN=san)
        p = subprocess.run(["openssl", *args], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if p.returncode:
            sys.exit("FAIL test_tls: openssl %s: %s" % (" ".join(args), p.stdout.strip()))

    def root(self, name):
        """A self-signed CA: NAME.key, NAME.crt."""
        self.openssl("req", "-x509", "-config", self.cnf, "-extensions", "ca", *RSA, "-nodes",
                     "-keyout", self.path(name + ".key"), "-out", self.path(name + ".crt"),
                     "-days", "2", "-subj", "/CN=Wisp test " + name)

    def issue(self, name, ca, ext, key=RSA, san="DNS:unused"):
        """NAME.key and NAME.crt signed by CA, with extensions EXT of the config."""
        csr = self.path(name + ".csr")
        self.openssl("req", "-new", "-config", self.cnf, *key, "-nodes",
                     "-keyout", self.path(name + ".key"), "-out", csr, "-subj", "/CN=" + name)
        self.serial += 1
        self.openssl("x509", "-req", "-in", csr, "-CA", self.path(ca + ".crt"),
                     "-CAkey", self.path(ca + ".key"), "-set_serial", str(self.serial),
                     "-days", "2", "-extfile", self.cnf, "-extensions", ext,
                     "-out", self.path(name + ".crt"), san=san)

    def chain(self, leaf, *cas):
        """LEAF.pem: the leaf's certificate followed by the intermediates CAS."""
        out = self.path(leaf + ".pem")
        with open(out, "w") as f:
            for n in (leaf,) + cas:
                with open(self.path(n + ".crt")) as c:
                    f.write(c.read())
        return out


BODY = os.urandom(300000)  # many TLS records


class Handler(http.server.BaseHTTPRequestHandler):
    """/data: BODY; /to?URL: a 302 to URL. Records the TLS version and cipher."""

    def do_GET(self):
        if hasattr(self.connection, "cipher"):
            self.server.seen.append(self.connection.cipher()[:2])
        if self.path.startswith("/to?"):
            self.send_response(302)
            self.send_header("Location", self.path[4:])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path != "/data":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a refused handshake is what some checks expect


class Server6(Server):
    address_family = socket.AF_INET6


def serve(certfile=None, keyfile=None, host="localhost", tls12=False):
    """A server on 127.0.0.1, or ::1 for HOST "[::1]" (TLS with CERTFILE, at most
    TLS 1.2 with TLS12), running in a thread; its base URL, naming HOST."""
    import ssl

    srv = Server6(("::1", 0), Handler) if host == "[::1]" else Server(("127.0.0.1", 0), Handler)
    srv.seen = []
    scheme = "http"
    if certfile:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if tls12:
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(certfile, keyfile)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        scheme = "https"
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, "%s://%s:%d" % (scheme, host, srv.server_address[1])


def tlsget(prog, url, cacert=None, out=None):
    args = [prog] + (["--cacert", cacert] if cacert else []) + (["-o", out] if out else [])
    p = subprocess.run(args + [url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=60)
    return p.returncode, p.stdout.strip(), p.stderr.strip()


def expect_body(prog, name, url, cacert, out):
    rc, so, se = tlsget(prog, url, cacert, out)
    with open(out, "rb") as f:
        got = f.read() if rc == 0 else b""
    check(name, rc == 0 and so == "status 200 bytes %d" % len(BODY) and got == BODY,
          "exit %d, stdout %r, stderr %r, %d bytes" % (rc, so, se, len(got)))


# How libcurl's wolfSSL backend words the two refusals (vtls/wolfssl.c):
# ASN_NO_SIGNER_E becomes CURLE_SSL_CACERT_BADFILE, whose text ("Problem with
# the SSL CA cert (path? access rights?)") precedes wolfSSL's reason.
NOT_TRUSTED = "CA signer not available for verification"
NAME_MISMATCH = "subject alt name(s) or common name do not match"


def expect_refused(prog, name, url, cacert, reason):
    rc, so, se = tlsget(prog, url, cacert)
    lines = se.splitlines()
    check(name, rc == 1 and not so and len(lines) == 1 and lines[0].startswith(
        "tlsget: %s: " % url) and reason in lines[0] and "cert" in lines[0], "exit %d, stderr %r" % (rc, se))
    if lines:
        print("     " + lines[0])


def make_pki(d):
    pki = Pki(d)
    pki.root("root")
    pki.root("other")
    pki.issue("intermediate", "root", "ca")
    pki.issue("rsa", "intermediate", "leaf", san="DNS:localhost,IP:127.0.0.1")
    pki.issue("ecdsa", "intermediate", "leaf", key=EC, san="DNS:localhost,IP:127.0.0.1")
    pki.issue("elsewhere", "intermediate", "leaf", san="DNS:registry.example")
    pki.issue("v6", "intermediate", "leaf", key=EC, san="DNS:localhost,IP:::1")
    pki.issue("otherip", "intermediate", "leaf", san="DNS:localhost,IP:127.0.0.2,IP:::2")
    return pki


def with_bundle(prog, bundle, pki, url):
    """The image's CA bundle as the CA file, with and without the test's root."""
    both = pki.path("bundle+root.crt")
    with open(both, "w") as f:
        for n in (bundle, pki.path("root.crt")):
            with open(n) as c:
                f.write(c.read())
    with open(bundle) as f:
        n = f.read().count("-----BEGIN CERTIFICATE-----")
    check("%s: %d certificates" % (bundle, n), n > 100)
    expect_body(prog, "https, the CA bundle and the test's root: the body", url + "/data", both,
                pki.path("body"))
    expect_refused(prog, "https, the CA bundle alone: a certificate verification error",
                   url + "/data", bundle, NOT_TRUSTED)


def run(prog, bundle, d):
    pki = make_pki(d)
    ca, other, out = pki.path("root.crt"), pki.path("other.crt"), pki.path("body")
    rsa, rsa_url = serve(pki.chain("rsa", "intermediate"), pki.path("rsa.key"))
    ecdsa, ecdsa_url = serve(pki.chain("ecdsa", "intermediate"), pki.path("ecdsa.key"))
    _, wrong_url = serve(pki.chain("elsewhere", "intermediate"), pki.path("elsewhere.key"))
    _, http_url = serve()

    expect_body(prog, "https, RSA server key, the right CA: the body", rsa_url + "/data", ca, out)
    print("     server saw %s" % (rsa.seen[-1:],))
    expect_body(prog, "https, ECDSA server key, the right CA: the body", ecdsa_url + "/data", ca,
                out)
    print("     server saw %s" % (ecdsa.seen[-1:],))
    expect_refused(prog, "https, another CA: a certificate verification error",
                   rsa_url + "/data", other, NOT_TRUSTED)
    expect_refused(prog, "https, no CA file: a certificate verification error",
                   rsa_url + "/data", None, NOT_TRUSTED)
    expect_refused(prog, "https, a certificate for registry.example: a name mismatch",
                   wrong_url + "/data", ca, NAME_MISMATCH)
    expect_body(prog, "plain http: the body", http_url + "/data", None, out)
    expect_body(prog, "redirects http -> https -> https: the body",
                http_url + "/to?" + ecdsa_url + "/to?" + rsa_url + "/data", ca, out)
    tls12, tls12_url = serve(pki.chain("rsa", "intermediate"), pki.path("rsa.key"), tls12=True)
    expect_body(prog, "https, TLS 1.2 only server: the body", tls12_url + "/data", ca, out)
    print("     server saw %s" % (tls12.seen[-1:],))
    by_address(prog, pki, ca, other, out)
    if bundle:
        with_bundle(prog, bundle, pki, rsa_url)


def by_address(prog, pki, ca, other, out):
    """Hosts named by address: iPAddress entries of subjectAltName, IPv4 and IPv6."""
    _, v4_url = serve(pki.chain("rsa", "intermediate"), pki.path("rsa.key"), host="127.0.0.1")
    expect_body(prog, "https to 127.0.0.1, its iPAddress entry: the body", v4_url + "/data", ca,
                out)
    _, v6_url = serve(pki.chain("v6", "intermediate"), pki.path("v6.key"), host="[::1]")
    expect_body(prog, "https to [::1], its iPAddress entry: the body", v6_url + "/data", ca, out)
    expect_refused(prog, "https to [::1], another CA: a certificate verification error",
                   v6_url + "/data", other, NOT_TRUSTED)
    for host in ("127.0.0.1", "[::1]"):
        _, url = serve(pki.chain("otherip", "intermediate"), pki.path("otherip.key"), host=host)
        expect_refused(prog, "https to %s, a certificate naming other addresses: a name mismatch"
                       % host, url + "/data", ca, NAME_MISMATCH)


def main(prog, bundle=None):
    need_prerequisites()
    if not os.access(prog, os.X_OK):
        sys.exit("FAIL test_tls: %s: not built (make %s)" % (prog, prog))
    with tempfile.TemporaryDirectory() as d:
        run(prog, bundle, d)
    print("test_tls: %s" % ("ok" if not failures else "%d FAILED" % failures))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
