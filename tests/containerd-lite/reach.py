#!/usr/bin/env python3
"""Where a registry may lead the host (containerd-lite/image/reach.c): part of
`make pull-test`, as root, in a private network namespace (unshare --net) so that
the addresses it needs (a registry's 10.99.0.1, the metadata service's
169.254.169.254) touch nothing of the machine's.

Checked:
- a registry at 10.99.0.1 whose Bearer challenge names a realm on 169.254.169.254 (the
  cloud's metadata service): the pull fails in one line naming the refusal, and the
  server there gets no request;
- the same registry redirecting a manifest to 127.0.0.1:PORT (the host's loopback): one
  line, no request there;
- its realm on another host of its own kind (10.99.0.2): asked (the guard is about the
  host's own addresses, not about other hosts);
- a registry on loopback (127.0.0.1, the user's choice) whose realm is on another port
  of loopback: asked;
- a realm on 10.99.0.3 once the kernel command line moves the metadata service there
  (wisp.imds=10.99.0.3:8080, a file bound over /proc/cmdline: the namespace's mounts
  are private too): refused as 169.254.169.254 is, at another port of it too.
Prints ok/FAIL per check; exits 1 on any failure.
"""
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from images import check, run  # noqa: E402  (Checks(), run())
from harness import CL  # noqa: E402


class Server:
    """An HTTP server on ADDR:PORT answering every GET with ANSWER(path) = (status,
    headers) and recording the paths asked."""

    def __init__(self, addr, port, answer):
        self.asked = []
        srv = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                srv.asked.append(self.path)
                status, headers = answer(self.path)
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = http.server.ThreadingHTTPServer((addr, port), H)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def refuse(path):
    return 401, [("WWW-Authenticate", 'Bearer realm="http://10.99.0.2:5001/token"')]


def registry(path):
    if "/realm/" in path:
        return 401, [("WWW-Authenticate", 'Bearer realm="http://169.254.169.254/token",'
                      'service="x",scope="repository:wisp/realm:pull"')]
    if "/moved/" in path:
        return 401, [("WWW-Authenticate", 'Bearer realm="http://10.99.0.3:80/token"')]
    if "/redir/" in path:
        return 307, [("Location", "http://127.0.0.1:5003/secret")]
    return refuse(path)


def loop_registry(path):
    return 401, [("WWW-Authenticate", 'Bearer realm="http://127.0.0.1:5004/token"')]


def nothing(path):
    return 404, []


def pull(w, ref):
    regs = os.path.join(w, "registries.json")
    with open(regs, "w") as f:
        json.dump({"registries": {h: {"insecure": True} for h in (
            "10.99.0.1:5000", "127.0.0.1:5002")}}, f)
    return run(CL, "image", "--store", os.path.join(w, "store"), "pull", "--registries", regs,
               ref, timeout=120)


def one_line(r):
    return r.returncode == 1 and len(r.stderr.splitlines()) == 1


def inside():
    for cmd in (["link", "set", "lo", "up"], ["link", "add", "d0", "type", "veth", "peer", "name", "d1"],
                ["addr", "add", "10.99.0.1/24", "dev", "d0"],
                ["addr", "add", "10.99.0.2/24", "dev", "d0"],
                ["addr", "add", "10.99.0.3/24", "dev", "d0"],
                ["addr", "add", "169.254.169.254/32", "dev", "d0"], ["link", "set", "d1", "up"],
                ["link", "set", "d0", "up"]):
        subprocess.run(["ip"] + cmd, check=True)
    Server("10.99.0.1", 5000, registry)
    meta = Server("169.254.169.254", 80, nothing)
    local = Server("127.0.0.1", 5003, nothing)
    other = Server("10.99.0.2", 5001, nothing)
    Server("127.0.0.1", 5002, loop_registry)
    loop_token = Server("127.0.0.1", 5004, nothing)
    moved = Server("10.99.0.3", 80, nothing)
    w = tempfile.mkdtemp(prefix="wisp-reach-")
    try:
        r = pull(w, "10.99.0.1:5000/wisp/realm:1")
        check("a realm on 169.254.169.254 (the metadata service): refused in one line, "
              "nothing asked there", one_line(r) and "refused: 169.254.169.254 is the host's "
              "own" in r.stderr and not meta.asked, (r.stderr, meta.asked))
        r = pull(w, "10.99.0.1:5000/wisp/redir:1")
        check("a redirect to 127.0.0.1:5003: refused in one line, nothing asked there",
              one_line(r) and "refused: 127.0.0.1 is the host's own" in r.stderr and
              not local.asked, (r.stderr, local.asked))
        pull(w, "10.99.0.1:5000/wisp/other:1")
        check("a realm on another host (10.99.0.2) is asked", any(
            p.startswith("/token") for p in other.asked), other.asked)
        pull(w, "127.0.0.1:5002/wisp/loop:1")
        check("a registry on loopback: its realm on loopback is asked", any(
            p.startswith("/token") for p in loop_token.asked), loop_token.asked)
        pull(w, "10.99.0.1:5000/wisp/moved:1")
        check("a realm on 10.99.0.3 is asked while the metadata service is not there",
              any(p.startswith("/token") for p in moved.asked), moved.asked)
        moved.asked.clear()
        with open(os.path.join(w, "cmdline"), "w") as f:
            f.write("console=ttyS0 wisp.imds=10.99.0.3:8080\n")
        subprocess.run(["mount", "--bind", f.name, "/proc/cmdline"], check=True)
        r = pull(w, "10.99.0.1:5000/wisp/moved:1")
        subprocess.run(["umount", "/proc/cmdline"], check=True)
        check("wisp.imds=10.99.0.3:8080: a realm on 10.99.0.3 (port 80) refused in one line, "
              "nothing asked there", one_line(r) and "refused: 10.99.0.3 is the host's own"
              in r.stderr and not moved.asked, (r.stderr, moved.asked))
    finally:
        shutil.rmtree(w, ignore_errors=True)
    return check.status("reach.py")


def main():
    if os.geteuid() != 0:
        sys.exit("reach.py: run as root")
    if sys.argv[1:] == ["inside"]:
        sys.exit(inside())
    r = subprocess.run(["unshare", "--net", "--mount", "--propagation", "private",
                        sys.executable, os.path.abspath(__file__), "inside"])
    sys.exit(r.returncode)


if __name__ == "__main__":
    main()
