"""The registry fixture's keys and certificates, made per run with openssl.

Made fresh in the run's work directory rather than committed under
tests/keys: a committed certificate expires one day and the tests would
start failing for no change of ours; a test CA that lives only as long
as the run cannot be misused afterwards either.

  ca.crt / ca.key          the test CA (EC P-256), the only root clients trust
  server.crt / server.key  the TLS certificate of every HTTPS endpoint, for
                           127.0.0.1, localhost and 10.0.2.2 (QEMU user
                           networking's gateway: guests reach the host there)
  signer.crt / signer.key  the token service's signing key (RSA: RS256 JWTs,
                           signed with `openssl dgst`); self-signed, and the
                           registry's rootcertbundle
  certs/ca.crt             a directory for `skopeo --cert-dir`
"""

import os
import shutil
import subprocess

SERVER_NAMES = ("127.0.0.1", "localhost", "10.0.2.2")


def openssl(*args):
    """Runs openssl; its error output becomes the exception's text."""
    r = subprocess.run(["openssl", *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (args[0], r.stderr.strip()))
    return r.stdout


def san():
    """subjectAltName value naming every server address."""
    return ",".join(("IP:" if n[0].isdigit() else "DNS:") + n for n in SERVER_NAMES)


class Pki:
    """Paths of the run's keys and certificates, made in DIR."""

    def __init__(self, d):
        os.makedirs(d, exist_ok=True)
        p = lambda n: os.path.join(d, n)  # noqa: E731
        self.ca, self.ca_key = p("ca.crt"), p("ca.key")
        self.server, self.server_key = p("server.crt"), p("server.key")
        self.signer, self.signer_key = p("signer.crt"), p("signer.key")
        self.cert_dir = p("certs")
        self._make_ca()
        self._make_server(p("server.csr"))
        self._make_signer()
        os.makedirs(self.cert_dir, exist_ok=True)
        shutil.copy(self.ca, os.path.join(self.cert_dir, "ca.crt"))

    def _make_ca(self):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", self.ca_key, "-out", self.ca, "-days", "2",
                "-subj", "/CN=Wisp registry test CA",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def _make_server(self, csr):
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", self.server_key, "-out", csr,
                "-subj", "/CN=wisp-test-registry")
        ext = csr + ".ext"
        with open(ext, "w") as f:
            f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\n"
                    "extendedKeyUsage=serverAuth\n" % san())
        openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key,
                "-CAcreateserial", "-out", self.server, "-days", "2", "-extfile", ext)

    def _make_signer(self):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.signer_key,
                "-out", self.signer, "-days", "2", "-subj", "/CN=wisp-test-token-signer")

    def signer_der(self):
        """The signing certificate in DER (the JWT header's x5c)."""
        return subprocess.run(["openssl", "x509", "-in", self.signer, "-outform", "DER"],
                              capture_output=True, check=True).stdout
