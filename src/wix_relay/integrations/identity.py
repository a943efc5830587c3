"""Who is calling: partner API keys, browser JWTs (PyJWT + JWKS), or claims that API Gateway's JWT
authorizer already verified.

- API keys: the registry holds SHA-256 digests only; every entry is compared in constant time
  (`CallerRegistry.caller_for_api_key`).
- JWTs: the issuer comes from the registry; only its asymmetric algorithms are accepted (never
  `none`, never HS* — so a token "signed" with the public key as an HMAC secret is refused); the
  key is looked up by `kid` in the issuer's JWKS, which is cached per container and re-fetched on
  an unknown `kid` at most once per `min_refresh_s`; `exp`, `nbf`, `iss`, `aud` and `sub` are
  enforced with a small leeway. PyJWT is imported only when a bearer token arrives.
- Error messages say what is wrong with the credential, never echo it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from wix_relay.domain.callers import Caller, CallerRegistry, JwtIssuer
from wix_relay.domain.errors import Unauthenticated, UpstreamFailed
from wix_relay.observability import logger

if TYPE_CHECKING:
    import requests
    from jwt import PyJWK

LEEWAY_S = 30
MAX_JWKS_BYTES = 256 * 1024
_KTY_FOR_ALG_PREFIX = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}


def invalid_token(message: str, code: str = "INVALID_TOKEN") -> Unauthenticated:
    return Unauthenticated(message, code=code)


class JwksCache:
    """JWKS documents per URL, kept for `max_age_s`, re-fetched early on an unknown `kid` (rate
    limited by `min_refresh_s`)."""

    def __init__(
        self,
        fetch: Callable[[str], Mapping[str, Any]],
        *,
        min_refresh_s: float = 30.0,
        max_age_s: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._min_refresh = min_refresh_s
        self._max_age = max_age_s
        self._clock = clock
        self._lock = threading.Lock()
        self._docs: dict[str, tuple[float, list[Mapping[str, Any]]]] = {}
        self.fetches = 0

    def _keys(self, url: str, *, refresh: bool) -> list[Mapping[str, Any]]:
        with self._lock:
            now = self._clock()
            cached = self._docs.get(url)
            if cached is not None:
                age = now - cached[0]
                if age < self._max_age and (not refresh or age < self._min_refresh):
                    return cached[1]
            document = self._fetch(url)
            self.fetches += 1
            keys = document.get("keys")
            if not isinstance(keys, list):
                raise UpstreamFailed(
                    "the identity provider's key set is invalid", code="JWKS_INVALID"
                )
            usable = [k for k in keys if isinstance(k, Mapping) and k.get("use", "sig") == "sig"]
            self._docs[url] = (now, usable)
            return usable

    def key(self, url: str, kid: str | None, alg: str) -> PyJWK:
        from jwt import PyJWK
        from jwt.exceptions import PyJWKError

        kty = _KTY_FOR_ALG_PREFIX.get(alg[:2])
        for refresh in (False, True):
            candidates = [
                k
                for k in self._keys(url, refresh=refresh)
                if k.get("kty") == kty and (kid is None or k.get("kid") == kid)
            ]
            if len(candidates) == 1 or (candidates and kid is not None):
                try:
                    return PyJWK(dict(candidates[0]), algorithm=alg)
                except PyJWKError:
                    raise invalid_token("the token's signing key is not usable") from None
            if kid is None and candidates:
                raise invalid_token("the token has no kid and the key set has several keys")
        raise invalid_token("the token's signing key is unknown")


def http_jwks_fetcher(
    session: requests.Session, timeout: tuple[float, float]
) -> Callable[[str], Mapping[str, Any]]:
    def fetch(url: str) -> Mapping[str, Any]:
        import requests

        try:
            response = session.get(url, timeout=timeout, headers={"Accept": "application/json"})
            if response.status_code != 200 or len(response.content) > MAX_JWKS_BYTES:
                raise ValueError(f"HTTP {response.status_code}")
            document = response.json()
        except (requests.RequestException, ValueError) as exc:
            logger.warning("JWKS fetch failed", extra={"jwks_url": url, "reason": str(exc)[:200]})
            raise UpstreamFailed(
                "the identity provider's keys are unavailable", code="JWKS_UNAVAILABLE"
            ) from None
        if not isinstance(document, dict):
            raise UpstreamFailed("the identity provider's key set is invalid", code="JWKS_INVALID")
        return document

    return fetch


def verify_bearer(token: str, registry: CallerRegistry, jwks: JwksCache) -> Caller:
    """Verify a browser's JWT against its issuer's JWKS and return the caller."""
    import jwt

    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise invalid_token("the bearer token is not a well-formed JWT") from None
    issuer = registry.issuer_named(unverified.get("iss"))
    if issuer is None:
        raise invalid_token("the token's issuer is not trusted")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in issuer.algorithms:
        raise invalid_token("the token's algorithm is not allowed")
    kid = header.get("kid")
    key = jwks.key(issuer.jwks_url, kid if isinstance(kid, str) else None, alg)
    try:
        claims = jwt.decode(
            token,
            key=key.key,
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
    except jwt.PyJWTError:
        raise invalid_token("the token is invalid") from None
    return issuer.caller_for(claims)


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
    jwks: JwksCache,
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
        return verify_bearer(token.strip(), registry, jwks)
    if authorization:
        raise Unauthenticated(
            "unsupported Authorization scheme; use Bearer <JWT> or x-api-key",
            code="UNAUTHENTICATED",
        )
    raise Unauthenticated(
        "a credential is required: x-api-key or Authorization: Bearer <JWT>",
        code="UNAUTHENTICATED",
    )


__all__ = [
    "JwksCache",
    "authenticate",
    "caller_from_verified_claims",
    "http_jwks_fetcher",
    "verify_bearer",
]
