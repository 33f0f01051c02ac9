"""What the fixture's Python servers share: a threaded HTTP(S) server that
can be stopped with its open connections, and the request log.

Stdlib only (http.server, ssl, threading): the fixture must run on a
fresh Debian 12 with nothing but python3, openssl, skopeo and
docker-registry.
"""

import http.server
import socket
import ssl
import threading
import time


class RequestLog:
    """Every request the fixture's servers saw, in arrival order, so that
    a test can assert what a client sent where (e.g. that a redirected
    blob GET carried no Authorization). Thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entries = []

    def add(self, server, method, path, headers):
        """Records a request (HEADERS: an http.client.HTTPMessage); returns its entry, whose "status" the server
        fills in once it has answered (None until then, or if cut)."""
        # a header sent several times (Go sends one Accept per media type)
        # is one entry, its values joined as RFC 9110 5.3 allows
        names = {k.lower() for k in headers.keys()}
        entry = {"server": server, "method": method, "path": path, "time": time.time(),
                 "headers": {k: ", ".join(headers.get_all(k)) for k in sorted(names)},
                 "status": None}
        with self._lock:
            self._entries.append(entry)
        return entry

    def entries(self, server=None, method=None, contains=None):
        """Copies of the entries, filtered by server name, method, and a
        substring of the path."""
        with self._lock:
            es = list(self._entries)
        return [dict(e) for e in es
                if (server is None or e["server"] == server)
                and (method is None or e["method"] == method)
                and (contains is None or contains in e["path"])]

    def clear(self):
        with self._lock:
            self._entries.clear()


class Server(http.server.ThreadingHTTPServer):
    """A ThreadingHTTPServer on 127.0.0.1 and a free port, HTTPS when given
    an SSL context. The TLS handshake runs in the connection's thread (a
    client stalling in its handshake must not stop the others); stop()
    closes the connections still open, so no keep-alive thread outlives
    the fixture."""

    daemon_threads = True

    def __init__(self, handler, tls=None, name="server"):
        super().__init__(("127.0.0.1", 0), handler)
        self.tls, self.name = tls, name
        self.port = self.server_address[1]
        self._conns, self._lock = set(), threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, name=name, daemon=True)

    def finish_request(self, raw, client_address):
        with self._lock:
            self._conns.add(raw)
        try:
            raw.settimeout(Handler.timeout)  # also bounds a stalled handshake
            request = self.tls.wrap_socket(raw, server_side=True) if self.tls else raw
            super().finish_request(request, client_address)
        except (OSError, ssl.SSLError):
            pass  # a client gone, or a failed handshake: nothing to serve
        finally:
            with self._lock:
                self._conns.discard(raw)

    def handle_error(self, request, client_address):
        pass  # clients cut by the fault controls raise here: not an error

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self.shutdown()
        self.server_close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(5)


def server_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


class Handler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, as registries speak; quiet (the request
    log records what matters); bounded waits for idle clients."""

    protocol_version = "HTTP/1.1"
    timeout = 30

    def log_message(self, format, *args):
        pass

    def record(self):
        """This request in the server's request log."""
        self.entry = self.server.log.add(self.server.name, self.command, self.path, self.headers)
        return self.entry

    def reply(self, status, body=b"", headers=()):
        """A complete response with a body (JSON, or the empty body)."""
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.entry["status"] = status
