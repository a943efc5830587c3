"""The signature check of Wix events: the whole POST body is one RS256 JWT signed with the Wix
app's key, verified with the app's public key (PEM; no JWKS) [doc].

Mirrors `@wix/sdk` 1.21.16 (`AppStrategy.decodeJWT` → jose `jwtVerify(token, importSPKI(key,
"RS256"))`): only RS256 with an RSA key of at least 2048 bits; `exp`/`nbf` enforced when present
(with `LEEWAY_S` for clock skew between Wix and Lambda, where jose has none); `iat`, `sub`, `jti`
not checked (jose does not either: PyJWT would refuse an `iat` a second in the future);
`iss == "wix.com"` and `aud` containing the app id only when asked for — the SDK's
`webhooks.process` does not ask (only its service-plugin path does), so they are off by default
here too. The key may be PEM text or base64 of the PEM text, as the SDK accepts.

The body is verified exactly as received: no re-encoding, no trimming but of trailing
whitespace (which jose ignores too: it is outside the signed `header.payload`). The size limit
is checked before anything is parsed. PyJWT is imported on first use.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wix_relay.domain.wix_events import (
    EventMalformed,
    EventSignatureInvalid,
    EventTooLarge,
    WixEvent,
    decode_event,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

WIX_ISSUER = "wix.com"
ALGORITHM = "RS256"
MIN_KEY_BITS = 2048
LEEWAY_S = 30
DEFAULT_MAX_EVENT_BYTES = 256 * 1024


def load_public_key(text: str) -> RSAPublicKey:
    """The app's public key from PEM text or base64-encoded PEM text (`ValueError` otherwise)."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    pem = text.strip()
    if "\n" not in pem and "\r" not in pem:
        try:
            pem = base64.b64decode(pem, validate=True).decode("ascii").strip()
        except (binascii.Error, UnicodeDecodeError):
            raise ValueError("the Wix public key is neither PEM nor base64-encoded PEM") from None
    try:
        key = load_pem_public_key(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise ValueError("the Wix public key is not a PEM public key") from None
    if not isinstance(key, RSAPublicKey) or key.key_size < MIN_KEY_BITS:
        raise ValueError(f"the Wix public key must be an RSA key of at least {MIN_KEY_BITS} bits")
    return key


class WixEventVerifier:
    def __init__(
        self,
        public_key: str,
        *,
        app_id: str | None = None,
        verify_caller_claims: bool = False,
        max_body_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    ) -> None:
        if verify_caller_claims and not app_id:
            raise ValueError("checking the event's audience needs the Wix app id")
        self._key = load_public_key(public_key)
        self._app_id = app_id
        self._verify_caller_claims = verify_caller_claims
        self.max_body_bytes = max_body_bytes

    def claims(self, raw_body: bytes | str) -> Mapping[str, Any]:
        """The verified claims of the body, or EventTooLarge / EventMalformed /
        EventSignatureInvalid. Messages never echo the body."""
        import jwt
        from jwt import exceptions as jwt_errors

        body = raw_body.encode("utf-8") if isinstance(raw_body, str) else bytes(raw_body)
        if len(body) > self.max_body_bytes:
            raise EventTooLarge(f"the event is larger than {self.max_body_bytes} bytes")
        if not body.isascii():
            raise EventMalformed("the body is not a JWT")
        # Trailing whitespace (a final newline) is tolerated, as the SDK's jose does: it is not
        # part of the signed `header.payload`. Nothing else is changed before verification.
        token = body.decode("ascii").rstrip(" \t\r\n")
        try:
            header = jwt.get_unverified_header(token)
        except jwt_errors.DecodeError:
            raise EventMalformed("the body is not a JWT") from None
        if header.get("alg") != ALGORITHM:
            raise EventSignatureInvalid(f"the event must be signed with {ALGORITHM}")
        verify_claims = self._verify_caller_claims
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                issuer=WIX_ISSUER if verify_claims else None,
                audience=self._app_id if verify_claims else None,
                leeway=LEEWAY_S,
                options={
                    "verify_aud": verify_claims,
                    "verify_iss": verify_claims,
                    "verify_iat": False,
                    "verify_sub": False,
                    "verify_jti": False,
                },
            )
        except jwt_errors.InvalidSignatureError:
            raise EventSignatureInvalid("the event's signature is not valid") from None
        except jwt_errors.ExpiredSignatureError:
            raise EventSignatureInvalid("the event's token has expired") from None
        except jwt_errors.ImmatureSignatureError:
            raise EventSignatureInvalid("the event's token is not valid yet") from None
        except (jwt_errors.InvalidIssuerError, jwt_errors.InvalidAudienceError) as exc:
            raise EventSignatureInvalid(f"the event's token is not for this app ({exc})") from None
        except jwt_errors.MissingRequiredClaimError as exc:
            raise EventSignatureInvalid(f"the event's token lacks a claim ({exc})") from None
        except jwt_errors.DecodeError:
            raise EventMalformed("the body is not a well-formed JWT") from None
        except jwt_errors.InvalidTokenError:
            raise EventSignatureInvalid("the event's token is not valid") from None
        return claims

    def event(self, raw_body: bytes | str) -> WixEvent:
        """Verify, then decode the JSON-string layers into a typed event."""
        return decode_event(self.claims(raw_body))
