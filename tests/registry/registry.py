#!/usr/bin/env python3
"""A real container registry on this host for the tests of
`containerd-lite image pull` (issue 15): Debian's docker-registry
(distribution v2.8) on loopback, filled with skopeo, behind HTTPS with a
per-run test CA, one instance behind a bearer token service, a plain-HTTP
instance, and fault-injecting fronts (docs/registry-fixture.md).

    with Registry(workdir) as reg:           # the default reference images
        reg.url("https")                     # https://127.0.0.1:PORT
        reg.host("front")                    # 127.0.0.1:PORT (docker:// refs)
        reg.ca, reg.cert_dir, reg.user, reg.password
        reg.digests["wisp/busybox:1"]        # its manifest digest
        reg.front.cut_after(digest, n)       # fault controls (front.py)
        reg.log.entries(server="front")      # what clients sent

Every endpoint binds 127.0.0.1 on a port chosen at run time; QEMU guests
reach them at 10.0.2.2 (user networking), a name the certificate holds.
Processes end with the context (and with this process: PR_SET_PDEATHSIG).
A missing tool or build input raises, naming what provides it.

By hand: registry.py serve [WORKDIR] prints the endpoints and serves until
interrupted.
"""

import ctypes
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from front import Front  # noqa: E402
from httpserv import RequestLog, server_context  # noqa: E402
from pki import Pki  # noqa: E402
from ref_images import reference_images, source_digest  # noqa: E402
from token_server import ISSUER, SERVICE, TokenService, token_server  # noqa: E402

# tool -> the Debian package providing it (rootfs/toolchain/packages.list)
TOOLS = {"docker-registry": "docker-registry", "skopeo": "skopeo", "openssl": "openssl"}
USER, PASSWORD = "wisp", "wisp-test-password"
PRIVATE = ("private/",)
START_TIMEOUT = 30


def require_tools():
    missing = ["%s (Debian package %s)" % (t, p) for t, p in TOOLS.items() if not shutil.which(t)]
    if missing:
        raise RuntimeError("registry fixture: missing %s: run make deps" % ", ".join(missing))


def free_port():
    """A port free now on 127.0.0.1, for docker-registry, which cannot
    report one it chose itself. (Another process could take it before the
    registry binds: start() then fails loudly, it does not go wrong.)"""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent():
    """In the child: SIGKILL when the test process dies, however it dies."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Instance:
    """One docker-registry process: its config (YAML's JSON subset) and
    log in DIR/NAME.*, on a free port."""

    def __init__(self, d, name, storage, tls=None, auth=None, readonly=False):
        self.name, self.port = name, free_port()
        self.scheme = "https" if tls else "http"
        self.config = os.path.join(d, name + ".json")
        self.logfile = os.path.join(d, name + ".log")
        http = {"addr": "127.0.0.1:%d" % self.port, "secret": "wisp-test-" + name}
        if tls:
            http["tls"] = {"certificate": tls[0], "key": tls[1]}
        cfg = {"version": "0.1",
               "log": {"level": "info", "formatter": "text"},
               "storage": {"filesystem": {"rootdirectory": storage},
                           "maintenance": {"uploadpurging": {"enabled": False},
                                           "readonly": {"enabled": readonly}}},
               "http": http}
        if auth:
            cfg["auth"] = auth
        with open(self.config, "w") as f:
            json.dump(cfg, f, indent=1)
        self.proc = None

    def start(self, ca):
        with open(self.logfile, "wb") as log:
            # no REGISTRY_* variable of the caller may override the config
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
            self.proc = subprocess.Popen(["docker-registry", "serve", self.config], stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env=env, preexec_fn=die_with_parent)
        self.wait_ready(ca)

    def wait_ready(self, ca):
        """Until GET /v2/ answers (200, or 401 behind auth)."""
        ctx = ssl.create_default_context(cafile=ca)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("docker-registry %s exited %d: %s" %
                                   (self.name, self.proc.returncode, self.log_tail()))
            try:
                urllib.request.urlopen("%s://127.0.0.1:%d/v2/" % (self.scheme, self.port),
                                       context=ctx if self.scheme == "https" else None,
                                       timeout=2).close()
                return
            except urllib.error.HTTPError as e:
                if e.code == 401:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("docker-registry %s: no answer on port %d in %ds: %s" %
                           (self.name, self.port, START_TIMEOUT, self.log_tail()))

    def log_tail(self):
        with open(self.logfile, errors="replace") as f:
            return "".join(f.readlines()[-5:]).strip()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Registry:
    """The fixture; see the module's docstring. IMAGES: {REPO:TAG: skopeo
    source}, by default ref_images.reference_images(WORKDIR)."""

    ENDPOINTS = ("https", "token", "mirror", "front", "front-token")

    def __init__(self, workdir, images=None, user=USER, password=PASSWORD, private=PRIVATE):
        self.workdir = os.path.abspath(workdir)
        self.images, self.user, self.password = images, user, password
        self.private = tuple(private)
        self.log = RequestLog()
        self.digests = {}
        self._stoppers = []

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        require_tools()
        os.makedirs(self.workdir, exist_ok=True)
        self.pki = Pki(os.path.join(self.workdir, "pki"))
        self.ca, self.cert_dir = self.pki.ca, self.pki.cert_dir
        self.storage = os.path.join(self.workdir, "storage")
        tls = server_context(self.pki.server, self.pki.server_key)
        self._start_token(tls)
        self._start_registries()
        if self.images is None:
            self.images = reference_images(self.workdir)
        self.push(self.images)
        self._start_fronts(tls)

    def _start_token(self, tls):
        svc = TokenService(self.pki.signer_der(), self.pki.signer_key, self.user,
                           self.password, self.private)
        self.token_server = token_server(svc, tls, self.log)
        self._stoppers.append(self.token_server.stop)
        self.realm = "https://127.0.0.1:%d/token" % self.token_server.port

    def _start_registries(self):
        """Three instances over one storage: only "https" takes pushes;
        docker-registry runs one auth method per instance."""
        d = os.path.join(self.workdir, "registry")
        os.makedirs(d, exist_ok=True)
        tls = (self.pki.server, self.pki.server_key)
        auth = {"token": {"realm": self.realm, "service": SERVICE, "issuer": ISSUER,
                          "rootcertbundle": self.pki.signer}}
        self.instances = {
            "https": Instance(d, "https", self.storage, tls=tls),
            "token": Instance(d, "token", self.storage, tls=tls, auth=auth, readonly=True),
            "mirror": Instance(d, "mirror", self.storage, readonly=True),
        }
        for inst in self.instances.values():
            self._stoppers.append(inst.stop)
            inst.start(self.ca)

    def _start_fronts(self, tls):
        self.front = Front("front", self.instances["https"].port, self.ca, self.storage, tls,
                           self.log).start()
        self._stoppers.append(self.front.stop)
        self.front_token = Front("front-token", self.instances["token"].port, self.ca,
                                 self.storage, tls, self.log).start()
        self._stoppers.append(self.front_token.stop)

    def push(self, images):
        """Copies IMAGES ({REPO:TAG: skopeo source}) into the registry,
        digests preserved; records their manifest digests."""
        for ref, source in images.items():
            r = self.skopeo("copy", "--preserve-digests", "--dest-cert-dir", self.cert_dir,
                            "--dest-no-creds", source, "docker://%s/%s" % (self.host("https"), ref))
            if r.returncode != 0:
                raise RuntimeError("skopeo copy %s to %s failed: %s" % (source, ref, r.stderr))
            if source.startswith("oci:"):
                self.digests[ref] = source_digest(source)

    def skopeo(self, *args):
        """skopeo with the fixture's own policy (accept anything: the
        images are ours) and auth file (none of the machine's user's
        credentials)."""
        policy = os.path.join(self.workdir, "policy.json")
        if not os.path.exists(policy):
            with open(policy, "w") as f:
                json.dump({"default": [{"type": "insecureAcceptAnything"}]}, f)
        env = dict(os.environ, REGISTRY_AUTH_FILE=os.path.join(self.workdir, "auth.json"))
        return subprocess.run(["skopeo", "--policy", policy, *args], capture_output=True,
                              text=True, env=env)

    def port(self, endpoint):
        if endpoint == "front":
            return self.front.port
        if endpoint == "front-token":
            return self.front_token.port
        return self.instances[endpoint].port

    def host(self, endpoint, name="127.0.0.1"):
        """HOST:PORT of an endpoint, as docker:// references name it."""
        return "%s:%d" % (name, self.port(endpoint))

    def url(self, endpoint, name="127.0.0.1"):
        scheme = "http" if endpoint == "mirror" else "https"
        return "%s://%s" % (scheme, self.host(endpoint, name))

    def endpoints(self, name="127.0.0.1"):
        """{endpoint: URL} as seen from NAME (10.0.2.2 for a guest)."""
        return {e: self.url(e, name) for e in self.ENDPOINTS}

    def stop(self):
        """Stops everything started, last first; safe to call twice."""
        while self._stoppers:
            try:
                self._stoppers.pop()()
            except Exception as e:  # keep stopping the others
                print("registry fixture: stop: %s" % e, file=sys.stderr)


def serve(workdir):
    with Registry(workdir) as reg:
        print(json.dumps({"endpoints": reg.endpoints(), "token_realm": reg.realm,
                          "ca": reg.ca, "cert_dir": reg.cert_dir, "user": reg.user,
                          "password": reg.password, "digests": reg.digests}, indent=1),
              flush=True)
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3) or sys.argv[1] != "serve":
        sys.exit("usage: registry.py serve [WORKDIR]")
    serve(sys.argv[2] if len(sys.argv) == 3 else tempfile.mkdtemp(prefix="wisp-registry."))
