"""A development identity provider for `make run`: an RSA signing key made at start, its JWKS on
loopback (`GET /.well-known/jwks.json`), and short-lived RS256 tokens for the demo page — so the
demo sends `Authorization: Bearer <JWT>` exactly as a real site does, and the relay verifies it
through the caller registry's `jwt` entry like any other issuer's."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

AUDIENCE = "wix-relay-local-demo"
SUBJECT = "demo-user"
TOKEN_TTL_S = 3600
JWKS_PATH = "/.well-known/jwks.json"


class DevIdentityProvider:
    """Serves its JWKS until `stop()`; `issue()` signs a token for the demo."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex[:16]
        public = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        jwks = json.dumps(
            {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}
        ).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] != JWKS_PATH:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(jwks)))
                self.end_headers()
                self.wfile.write(jwks)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="dev-identity", daemon=True
        )
        self._thread.start()

    @property
    def issuer(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/"

    @property
    def jwks_url(self) -> str:
        return self.issuer.rstrip("/") + JWKS_PATH

    def issue(self, subject: str = SUBJECT, ttl_s: int = TOKEN_TTL_S) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + ttl_s,
        }
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    def registry_entry(self, policy: dict[str, Any]) -> dict[str, Any]:
        """The caller registry's `jwt` issuer for this provider."""
        return {
            "jwksUrl": self.jwks_url,
            "issuer": self.issuer,
            "audience": [AUDIENCE],
            "algorithms": ["RS256"],
            "policy": policy,
        }

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


def merge_registries(given: str, dev: dict[str, Any]) -> tuple[str, str | None]:
    """RELAY_CALLERS_JSON from the shell takes precedence over the dev registry's secret: merge
    the dev key and the dev issuer into it so the printed key and the demo keep working.
    Returns (the document to pass on, a banner note or None)."""
    try:
        document = json.loads(given)
    except ValueError:
        return given, "RELAY_CALLERS_JSON is not JSON: passed on as is (the relay will refuse it)"
    if not isinstance(document, dict):
        return given, "RELAY_CALLERS_JSON is not an object: passed on as is"
    keys = document.get("apiKeys") or []
    issuers = document.get("jwt") or []
    if not isinstance(keys, list) or not isinstance(issuers, list | dict):
        return given, "RELAY_CALLERS_JSON has an unexpected shape: the dev key may not work"
    issuers = [issuers] if isinstance(issuers, dict) else issuers
    taken = {k.get("id") for k in keys if isinstance(k, dict)}
    merged = {
        **document,
        "apiKeys": [*keys, *(k for k in dev["apiKeys"] if k["id"] not in taken)],
        "jwt": [*issuers, *dev.get("jwt", [])],
    }
    return json.dumps(merged), "RELAY_CALLERS_JSON merged with the dev key and the demo's issuer"
