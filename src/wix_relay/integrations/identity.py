"""Who is calling: partner API keys, browser JWTs (PyJWT + JWKS), or claims that API Gateway's JWT
authorizer already verified.

- API keys: the registry holds SHA-256 digests only; every entry is compared in constant time
  (`CallerRegistry.caller_for_api_key`).
- JWTs: the issuer comes from the registry; only its asymmetric algorithms are accepted (never
  `none`, never HS* — so a token "signed" with the public key as an HMAC secret is refused); the
  key is looked up by `kid` in the issuer's JWKS through PyJWT's `PyJWKClient` (one per issuer:
  cached `JWKS_LIFESPAN_S`, re-fetched on an unknown `kid` at most once per `JWKS_COOLDOWN_S`,
  fetched with a timeout and at most `MAX_JWKS_BYTES`); `exp`, `nbf`, `iss`, `aud` and `sub` are
  enforced with a small leeway, and `exp`/`nbf`/`iat` must be JSON numbers (PyJWT accepts numeric
  strings). PyJWT is imported only when a bearer token arrives.
- Error messages say what is wrong with the credential, never echo it.
"""

from __future__ import annotations

import base64
import functools
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from wix_relay.domain import json_text
from wix_relay.domain.callers import Caller, CallerRegistry, JwtIssuer
from wix_relay.domain.errors import Unauthenticated, UpstreamFailed
from wix_relay.observability import logger

if TYPE_CHECKING:
    import requests
    from jwt import PyJWKClient

LEEWAY_S = 30
MAX_JWKS_BYTES = 256 * 1024
JWKS_LIFESPAN_S = 3600.0
JWKS_COOLDOWN_S = 30.0
NUMERIC_CLAIMS = ("exp", "nbf", "iat")
_KTY_FOR_ALG_PREFIX = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}


def invalid_token(message: str, code: str = "INVALID_TOKEN") -> Unauthenticated:
    return Unauthenticated(message, code=code)


@functools.cache
def _jwks_client_class() -> Callable[[str, requests.Session, tuple[float, float]], PyJWKClient]:
    """PyJWKClient (JWK-set cache, lifespan, cooldown on unknown kids) fetching over the pooled
    `requests` session with a timeout and a size cap (its own urllib fetch has no cap). Built on
    the first bearer token, so API-key requests never import PyJWT."""
    from jwt import PyJWKClient

    class CappedJwksClient(PyJWKClient):
        def __init__(
            self, url: str, session: requests.Session, timeout: tuple[float, float]
        ) -> None:
            super().__init__(url, lifespan=JWKS_LIFESPAN_S, cooldown_duration=JWKS_COOLDOWN_S)
            self.session = session
            self.timeouts = timeout

        def fetch_data(self) -> Any:
            document = fetch_jwks(self.session, self.uri, self.timeouts)
            self._last_successful_fetch = time.monotonic()  # starts the cooldown, as the base
            return document  # get_jwk_set() parses and caches it

    return CappedJwksClient


def fetch_jwks(session: requests.Session, url: str, timeout: tuple[float, float]) -> dict[str, Any]:
    """The issuer's JWKS document: at most MAX_JWKS_BYTES, a JSON object with a `keys` list."""
    import requests

    try:
        with session.get(
            url, timeout=timeout, headers={"Accept": "application/json"}, stream=True
        ) as response:
            if response.status_code != 200:
                raise ValueError(f"HTTP {response.status_code}")
            data = response.raw.read(MAX_JWKS_BYTES + 1, decode_content=True)
    except (requests.RequestException, ValueError, OSError) as exc:
        logger.warning("JWKS fetch failed", extra={"jwks_url": url, "reason": str(exc)[:200]})
        raise UpstreamFailed(
            "the identity provider's keys are unavailable", code="JWKS_UNAVAILABLE"
        ) from None
    try:
        if len(data) > MAX_JWKS_BYTES:
            raise ValueError(f"over {MAX_JWKS_BYTES} bytes")
        document = json_text.loads(data.decode("utf-8"))
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise ValueError("not a JSON object with a keys list")
    except ValueError as exc:  # UnicodeDecodeError and JsonRefused included
        logger.warning("JWKS invalid", extra={"jwks_url": url, "reason": str(exc)[:200]})
        raise _jwks_invalid() from None
    return document


def _jwks_invalid() -> UpstreamFailed:
    return UpstreamFailed("the identity provider's key set is invalid", code="JWKS_INVALID")


class JwtKeys:
    """One PyJWKClient per issuer's JWKS URL, for the life of the container."""

    def __init__(self, session: requests.Session, timeout: tuple[float, float]) -> None:
        self._session = session
        self._timeout = timeout
        self._clients: dict[str, PyJWKClient] = {}
        self._lock = threading.Lock()

    def key(self, url: str, kid: str, alg: str) -> Any:
        """The verification key (a `cryptography` public key) for `kid`, usable with `alg`."""
        from jwt.exceptions import PyJWKClientError, PyJWKError, PyJWKSetError

        with self._lock:
            client = self._clients.get(url)
            if client is None:
                client = _jwks_client_class()(url, self._session, self._timeout)
                self._clients[url] = client
        try:
            jwk = client.get_signing_key(kid)
        except PyJWKSetError:  # the set holds no key PyJWT can use
            raise _jwks_invalid() from None
        except (PyJWKClientError, PyJWKError):
            raise invalid_token("the token's signing key is unknown") from None
        if jwk.key_type != _KTY_FOR_ALG_PREFIX.get(alg[:2]):
            raise invalid_token("the token's signing key is not usable with its algorithm")
        return jwk.key


def verify_bearer(token: str, registry: CallerRegistry, keys: JwtKeys) -> Caller:
    """Verify a browser's JWT against its issuer's JWKS and return the caller."""
    import jwt

    if _nested_too_deep(token):
        raise invalid_token("the bearer token is not a well-formed JWT (nested too deep)")
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise invalid_token("the bearer token is not a well-formed JWT") from None
    for name in NUMERIC_CLAIMS:  # PyJWT itself would accept "1795093200"
        value = unverified.get(name)
        if name in unverified and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise invalid_token(f"the token's {name} claim must be a JSON number")
    issuer = registry.issuer_named(unverified.get("iss"))
    if issuer is None:
        raise invalid_token("the token's issuer is not trusted")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in issuer.algorithms:
        raise invalid_token("the token's algorithm is not allowed")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise invalid_token("the token has no kid")
    key = keys.key(issuer.jwks_url, kid, alg)
    try:
        claims = jwt.decode(
            token,
            key=key,
            algorithms=[alg],
            audience=list(issuer.audience),
            issuer=issuer.issuer,
            leeway=LEEWAY_S,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise invalid_token("the token has expired", "TOKEN_EXPIRED") from None
    except jwt.ImmatureSignatureError:
        raise invalid_token("the token is not valid yet", "TOKEN_NOT_YET_VALID") from None
    except jwt.InvalidAudienceError:
        raise invalid_token("the token is not meant for this API (aud)") from None
    except jwt.InvalidIssuerError:
        raise invalid_token("the token's issuer is not trusted") from None
    except jwt.MissingRequiredClaimError as exc:
        raise invalid_token(f"the token has no {exc.claim} claim") from None
    except jwt.InvalidSignatureError:
        raise invalid_token("the token's signature is invalid") from None
    except (jwt.PyJWTError, TypeError, ValueError):
        raise invalid_token("the token is invalid") from None
    return issuer.caller_for(claims)


def _nested_too_deep(token: str) -> bool:
    """Header or payload nested deeper than json_text allows (PyJWT's json.loads recurses)."""
    for segment in token.split(".")[:2]:
        try:
            text = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        except ValueError:
            return False  # PyJWT says what is wrong with it
        decoded = text.decode("utf-8", "replace")
        if json_text.nesting_depth(decoded, json_text.MAX_DEPTH) > json_text.MAX_DEPTH:
            return True
    return False


def caller_from_verified_claims(claims: Mapping[str, Any], registry: CallerRegistry) -> Caller:
    """Claims from API Gateway's JWT authorizer (already verified by API Gateway)."""
    issuer: JwtIssuer | None = registry.issuer_named(str(claims.get("iss", "")))
    if issuer is None:
        raise invalid_token("the token's issuer is not configured in the relay")
    return issuer.caller_for(claims)


def authenticate(
    headers: Mapping[str, str],
    authorizer_claims: Mapping[str, Any] | None,
    registry: CallerRegistry,
    keys: JwtKeys,
) -> Caller:
    """The caller of a request: authorizer claims, else `x-api-key`, else `Authorization: Bearer`.

    `headers` must have lower-case names (HTTP API and Function URLs deliver them so)."""
    if authorizer_claims:
        return caller_from_verified_claims(authorizer_claims, registry)
    api_key = headers.get("x-api-key")
    if api_key is not None:
        caller = registry.caller_for_api_key(api_key.strip())
        if caller is None:
            raise Unauthenticated("the API key is not valid", code="INVALID_API_KEY")
        return caller
    authorization = headers.get("authorization", "")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return verify_bearer(token.strip(), registry, keys)
    if authorization:
        raise Unauthenticated(
            "unsupported Authorization scheme; use Bearer <JWT> or x-api-key",
            code="UNAUTHENTICATED",
        )
    raise Unauthenticated(
        "a credential is required: x-api-key or Authorization: Bearer <JWT>",
        code="UNAUTHENTICATED",
    )


__all__ = ["JwtKeys", "authenticate", "caller_from_verified_claims", "verify_bearer"]
