#!/usr/bin/env python3
"""The bearer token service of the registry fixture, as registry:2's token
auth expects it (docker-registry's `auth: token:` with realm, service,
issuer and rootcertbundle; docs/registry-fixture.md).

  GET /token?service=SERVICE&scope=repository:NAME:pull[&scope=...]
      Authorization: Basic (the test user), or none (anonymous)

answers 200 {"token", "access_token", "expires_in", "issued_at"}: a JWT
(RS256, header x5c = the signing certificate, which is the registry's
rootcertbundle) with iss = the issuer, aud = the service, sub = the user,
and "access" granting `pull` on each requested repository the caller may
read: repositories under a private prefix only to the test user, the others
to anyone (as Docker Hub grants anonymous tokens for public images). Push
and other actions are never granted. Wrong credentials: 401; a missing or
other service, a bad scope: 400. POST (the OAuth2 form some clients try
first) answers 405, so they fall back to GET.

Run in the fixture's own process (tests/registry/registry.py), or by hand:

  token_server.py --cert server.crt --key server.key --signer signer.crt
                  --signer-key signer.key [--service S] [--issuer I]
                  [--user NAME:PASSWORD] [--private PREFIX]...
"""

import argparse
import base64
import hmac
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from httpserv import Handler, RequestLog, Server, server_context  # noqa: E402

SERVICE = "wisp-test-registry"
ISSUER = "wisp-test-token-issuer"
LIFETIME = 300
SCOPE = re.compile(r"^repository:([a-z0-9][a-z0-9._/-]*):([a-z,*]+)$")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(claims, signer_der, signer_key):
    """A compact JWS (RS256) of CLAIMS. The x5c header carries the signing
    certificate: registry:2 verifies it against its rootcertbundle, then
    the signature with its key (registry/auth/token/token.go)."""
    header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(signer_der).decode()]}
    signing_input = "%s.%s" % (b64url(json.dumps(header).encode()),
                               b64url(json.dumps(claims).encode()))
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", signer_key],
                         input=signing_input.encode(), capture_output=True, check=True).stdout
    return signing_input + "." + b64url(sig)


class TokenService:
    """Who gets what: the issuing policy, apart from HTTP."""

    def __init__(self, signer_der, signer_key, user, password, private=("private/",),
                 service=SERVICE, issuer=ISSUER):
        self.signer_der, self.signer_key = signer_der, signer_key
        self.user, self.password = user, password
        self.private, self.service, self.issuer = tuple(private), service, issuer

    def caller(self, authorization):
        """The authenticated user name, "" for anonymous, None for a bad
        credential (which must fail, not fall back to anonymous)."""
        if not authorization:
            return ""
        kind, _, value = authorization.partition(" ")
        if kind.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return None
        ok = hmac.compare_digest(user, self.user) and hmac.compare_digest(password, self.password)
        return user if ok else None

    def grant(self, user, scopes):
        """The access list for USER's requested SCOPES; raises ValueError
        on a scope that is not repository:NAME:ACTIONS."""
        access = []
        for scope in scopes:
            m = SCOPE.match(scope)
            if not m:
                raise ValueError("bad scope %r" % scope)
            name, actions = m.groups()
            allowed = user == self.user or not name.startswith(self.private)
            granted = ["pull"] if allowed and "pull" in actions.split(",") else []
            access.append({"type": "repository", "name": name, "actions": granted})
        return access

    def token(self, user, access):
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": user, "aud": self.service, "exp": now + LIFETIME,
                  "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        t = jwt(claims, self.signer_der, self.signer_key)
        return {"token": t, "access_token": t, "expires_in": LIFETIME,
                "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}


class TokenHandler(Handler):
    def do_GET(self):
        self.record()
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        svc = self.server.service
        if url.path != "/token":
            return self.error(404, "NOT_FOUND", "no such endpoint")
        if q.get("service") != [svc.service]:
            return self.error(400, "INVALID_REQUEST", "service must be %s" % svc.service)
        user = svc.caller(self.headers.get("Authorization"))
        if user is None:
            return self.error(401, "UNAUTHORIZED", "bad credentials",
                              [("WWW-Authenticate", 'Basic realm="wisp-test-token"')])
        try:
            access = svc.grant(user, q.get("scope", []))
        except ValueError as e:
            return self.error(400, "INVALID_REQUEST", str(e))
        self.reply(200, json.dumps(svc.token(user, access)).encode(),
                   [("Content-Type", "application/json")])

    def do_POST(self):
        self.record()
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.error(405, "UNSUPPORTED", "use GET", [("Allow", "GET")])

    def error(self, status, code, message, headers=()):
        body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
        self.reply(status, body, [("Content-Type", "application/json"), *headers])


def token_server(service, tls, log):
    """A started Server of SERVICE (a TokenService) logging into LOG."""
    srv = Server(TokenHandler, tls, name="token")
    srv.service, srv.log = service, log
    return srv.start()


def main():
    p = argparse.ArgumentParser(prog="token_server.py", description=__doc__.split("\n\n")[0])
    for opt in ("cert", "key", "signer", "signer-key"):
        p.add_argument("--" + opt, required=True)
    p.add_argument("--service", default=SERVICE)
    p.add_argument("--issuer", default=ISSUER)
    p.add_argument("--user", default="wisp:wisp-test-password")
    p.add_argument("--private", action="append", default=[])
    a = p.parse_args()
    der = subprocess.run(["openssl", "x509", "-in", a.signer, "-outform", "DER"],
                         capture_output=True, check=True).stdout
    user, _, password = a.user.partition(":")
    svc = TokenService(der, a.signer_key, user, password, a.private or ["private/"],
                       a.service, a.issuer)
    srv = token_server(svc, server_context(a.cert, a.key), RequestLog())
    print("token service: https://127.0.0.1:%d/token" % srv.port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()


if __name__ == "__main__":
    main()
