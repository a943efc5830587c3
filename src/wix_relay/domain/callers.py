"""Who may call the relay, and where their files may go.

The caller registry is one JSON document (docs/architecture.md):

    {"apiKeys": [{"id": "partner-acme", "sha256": "<hex>", "policy": {...}}],
     "jwt": {"jwksUrl": ..., "issuer": ..., "audience": [...], "policy": {...}}}

A policy: `folders` (Wix `filePath` prefixes, matched on whole path segments; JWT policies may use
`{sub}`), `defaultFolder`, `mimeTypes` (`image/*` patterns), `maxSizeBytes` (then `sizeInBytes` is
required), `allowPrivate`, `allowParentFolderId` (an explicit Wix folder id bypasses the folder
rules, so it is refused unless allowed), `importSources` (`[{"bucket", "prefix"}]`),
`callbackUrls` (URL prefixes under which an import may name its `callbackUrl`; needs a callback).
An API-key entry or a JWT issuer may carry `"callback": {"url"?, "secret": "whsec_…"}`
(domain/callbacks.py); the secret is never logged, returned or printed.

The relay decides the destination: a missing `filePath` becomes the default folder; traversal
(`..`, `.`, `//`), backslashes, control characters and any percent-encoding are refused with 400,
a clean path outside the caller's folders with 403. Pure Python: no I/O here.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from wix_relay.domain.callbacks import CallbackTarget, normalize_callback_url, url_under_prefix
from wix_relay.domain.errors import FieldProblem, Forbidden, InvalidInput

__all__ = [
    "Caller",
    "CallerRegistry",
    "ImportSource",
    "JwtIssuer",
    "Policy",
    "RegistryError",
    "hash_api_key",
    "mime_matches",
    "normalize_folder",
]

CallerKind = Literal["api_key", "jwt", "service"]

# Asymmetric algorithms only: "none" and HMAC (HS*) are never accepted for browser tokens, which
# stops the "HS256 signed with the public key" trick.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
DEFAULT_JWT_ALGORITHMS = ("RS256", "ES256")
ISSUER_REF_PREFIX = "issuer:"

_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# A JWT `sub` substituted into a folder must be one harmless path segment.
_SAFE_SUBJECT = re.compile(r"[A-Za-z0-9_@|:+=.-]{1,128}")
_MIME = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9*][A-Za-z0-9!#$&^_.+*-]*")


class RegistryError(ValueError):
    """The caller registry document is invalid (a deployment problem, never the caller's)."""


def hash_api_key(key: str) -> str:
    """The registry stores only this: the SHA-256 hex digest of the key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def mime_matches(pattern: str, mime_type: str) -> bool:
    """`image/*` style match, case-insensitive, MIME parameters (`; charset=…`) ignored."""
    pattern = pattern.strip().lower()
    base = mime_type.split(";", 1)[0].strip().lower()
    if pattern in {"*", "*/*"}:
        return True
    if pattern.endswith("/*"):
        return base.split("/", 1)[0] == pattern[:-2]
    return base == pattern


def _path_problem(path: str) -> str | None:
    """Why `path` is not an acceptable folder path, or None."""
    if not path:
        return "must not be empty"
    if "\\" in path:
        return "must not contain backslashes"
    if any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in path):
        return "must not contain control characters"
    if _PERCENT_ESCAPE.search(path):
        return "must not contain percent-encoded characters"
    # Compatibility forms (fullwidth dot and solidus, …) must not smuggle separators or dots.
    for form in {path, unicodedata.normalize("NFKC", path)}:
        if "\\" in form or _PERCENT_ESCAPE.search(form):
            return "must not contain encoded separators"
        body = form[1:] if form.startswith("/") else form
        if body.endswith("/"):
            body = body[:-1]
        if not body:
            continue
        segments = body.split("/")
        if any(segment == "" for segment in segments):
            return "must not contain empty segments (//)"
        if any(segment.strip() in {".", ".."} for segment in segments):
            return "must not contain . or .. segments"
    return None


@functools.cache
def folder_path_pattern() -> str:
    """A JSON Schema `pattern` (valid in ECMA-262 and Python `re`) for the paths `_path_problem`
    accepts, a little stricter: no `%` at all, no character whose NFKC form holds `.`, `/`, `\\`
    or `%` (other than `.` itself). Characters outside the BMP are not covered (a portable
    pattern cannot name them); the validation still refuses the few that matter."""
    excluded = [
        cp
        for cp in range(0x10000)
        if not 0xD800 <= cp <= 0xDFFF
        and (
            chr(cp) in "/\\%"
            or unicodedata.category(chr(cp)) in {"Cc", "Cf"}
            or (cp > 0x7F and any(c in unicodedata.normalize("NFKC", chr(cp)) for c in "./\\%"))
        )
    ]
    ranges: list[list[int]] = []
    for cp in excluded:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    chars = "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)
    segment = rf"(?!\s*\.{{1,2}}\s*(?:/|$))[^{chars}]+"
    return rf"^(?:/|/?{segment}(?:/{segment})*/?)$"


def normalize_folder(path: str, field_name: str = "filePath") -> str:
    """`/a/b` form (leading slash, no trailing slash), or InvalidInput naming the field."""
    problem = _path_problem(path)
    if problem is not None:
        raise InvalidInput(
            f"{field_name} {problem}",
            [FieldProblem(field_name, problem, "UNSAFE_PATH")],
            code="INVALID_PATH",
        )
    clean = "/" + path.strip("/")
    return clean


def folder_within(path: str, prefix: str) -> bool:
    """Segment-wise prefix match: `/a/b/c` is under `/a/b`, `/a/bc` is not."""
    if prefix == "/":
        return True
    return path == prefix or path.startswith(prefix + "/")


@dataclass(frozen=True)
class ImportSource:
    bucket: str
    prefix: str = ""
    """Matched on whole key segments: `acme` and `acme/` both mean keys under `acme/`."""

    def allows(self, bucket: str, key: str) -> bool:
        if bucket != self.bucket:
            return False
        prefix = self.prefix.strip("/")
        return not prefix or key.startswith(prefix + "/")


@dataclass(frozen=True)
class Policy:
    folders: tuple[str, ...]
    default_folder: str
    mime_types: tuple[str, ...] = ("*/*",)
    max_size_bytes: int | None = None
    allow_private: bool = False
    allow_parent_folder_id: bool = False
    import_sources: tuple[ImportSource, ...] = ()
    callback_urls: tuple[str, ...] = ()
    """Normalised URL prefixes an import's `callbackUrl` must be under."""

    # --- parsing ---------------------------------------------------------------------------
    @classmethod
    def from_document(cls, doc: Any, where: str = "policy") -> Policy:
        if not isinstance(doc, Mapping):
            raise RegistryError(f"{where} must be an object")
        folders_raw = doc.get("folders")
        if not _is_str_list(folders_raw) or not folders_raw:
            raise RegistryError(f"{where}.folders must be a non-empty list of paths")
        folders = tuple(_registry_folder(f, f"{where}.folders") for f in folders_raw)
        default_raw = doc.get("defaultFolder", folders_raw[0])
        if not isinstance(default_raw, str):
            raise RegistryError(f"{where}.defaultFolder must be a path")
        default_folder = _registry_folder(default_raw, f"{where}.defaultFolder")
        if not any(folder_within(default_folder, f) for f in folders):
            raise RegistryError(f"{where}.defaultFolder must be inside one of the folders")
        mime_types = doc.get("mimeTypes", ["*/*"])
        if not _is_str_list(mime_types) or not all(
            _MIME.fullmatch(m) or m in {"*", "*/*"} for m in mime_types
        ):
            raise RegistryError(f"{where}.mimeTypes must be a list of type/subtype patterns")
        max_size = doc.get("maxSizeBytes")
        if max_size is not None and (
            not isinstance(max_size, int) or isinstance(max_size, bool) or max_size < 1
        ):
            raise RegistryError(f"{where}.maxSizeBytes must be a positive integer")
        sources = doc.get("importSources", [])
        if not isinstance(sources, list) or not all(
            isinstance(s, Mapping) and isinstance(s.get("bucket"), str) and s["bucket"]
            for s in sources
        ):
            raise RegistryError(f"{where}.importSources must be a list of {{bucket, prefix}}")
        return cls(
            folders=folders,
            default_folder=default_folder,
            mime_types=tuple(mime_types),
            max_size_bytes=max_size,
            allow_private=_flag(doc, "allowPrivate", where),
            allow_parent_folder_id=_flag(doc, "allowParentFolderId", where),
            import_sources=tuple(
                ImportSource(str(s["bucket"]), str(s.get("prefix", ""))) for s in sources
            ),
            callback_urls=_callback_prefixes(doc.get("callbackUrls", []), where),
        )

    def for_subject(self, subject: str) -> Policy:
        """Substitute `{sub}` in the folders; the subject must be one safe path segment."""
        if not any("{sub}" in f for f in (*self.folders, self.default_folder)):
            return self
        if not _SAFE_SUBJECT.fullmatch(subject) or subject.strip(".") == "":
            raise Forbidden("the token's subject cannot name a folder", code="SUBJECT_NOT_ALLOWED")
        return replace(
            self,
            folders=tuple(f.replace("{sub}", subject) for f in self.folders),
            default_folder=self.default_folder.replace("{sub}", subject),
        )

    # --- checks ----------------------------------------------------------------------------
    def resolve_folder(self, file_path: str | None, field_name: str = "filePath") -> str:
        """The Wix `filePath` to use: the default folder, or the caller's path if allowed."""
        if file_path is None:
            return self.default_folder
        path = normalize_folder(file_path, field_name)
        if not any(folder_within(path, prefix) for prefix in self.folders):
            raise _forbidden(
                field_name, "is outside the folders you may write to", "FOLDER_NOT_ALLOWED"
            )
        return path

    def check_mime_type(self, mime_type: str, field_name: str = "mimeType") -> None:
        if not any(mime_matches(p, mime_type) for p in self.mime_types):
            raise _forbidden(field_name, "is not a type you may upload", "MIME_TYPE_NOT_ALLOWED")

    def check_size(self, size_bytes: int | None, field_name: str = "sizeInBytes") -> None:
        if self.max_size_bytes is None:
            return
        if size_bytes is None:
            raise InvalidInput(
                f"{field_name} is required (your policy limits the size)",
                [FieldProblem(field_name, "is required by your policy", "REQUIRED")],
            )
        if size_bytes > self.max_size_bytes:
            raise _forbidden(
                field_name, f"exceeds your limit of {self.max_size_bytes} bytes", "SIZE_NOT_ALLOWED"
            )

    def check_private(self, private: bool | None, field_name: str = "private") -> None:
        if private and not self.allow_private:
            raise _forbidden(
                field_name, "private files are not allowed for you", "PRIVATE_NOT_ALLOWED"
            )

    def check_parent_folder_id(
        self, folder_id: str | None, field_name: str = "parentFolderId"
    ) -> None:
        if folder_id is not None and not self.allow_parent_folder_id:
            raise _forbidden(
                field_name, "is not allowed for you; use filePath", "PARENT_FOLDER_NOT_ALLOWED"
            )

    def allows_import(self, bucket: str, key: str) -> bool:
        return any(source.allows(bucket, key) for source in self.import_sources)

    def check_callback_url(self, url: Any, field_name: str = "callbackUrl") -> str:
        """The normalised URL if it is under one of `callbackUrls`: 400 when it is not a clean
        URL, 403 when it is outside the caller's prefixes."""
        try:
            clean = normalize_callback_url(url)
        except ValueError as exc:
            problem = str(exc)
            raise InvalidInput(
                f"{field_name} {problem}",
                [FieldProblem(field_name, problem, "INVALID_URL")],
                code="INVALID_CALLBACK_URL",
            ) from None
        if not any(url_under_prefix(clean, prefix) for prefix in self.callback_urls):
            raise _forbidden(
                field_name, "is not under a callback URL you may use", "CALLBACK_URL_NOT_ALLOWED"
            )
        return clean

    def check_import_source(self, bucket: str, key: str, field_name: str = "key") -> None:
        if not self.allows_import(bucket, key):
            raise _forbidden(
                field_name,
                "is not in a bucket/prefix you may import from",
                "IMPORT_SOURCE_NOT_ALLOWED",
            )

    def authorize_destination(
        self,
        *,
        file_path: str | None,
        mime_type: str,
        size_bytes: int | None,
        private: bool | None,
        parent_folder_id: str | None = None,
    ) -> str | None:
        """Run every destination check; return the Wix `filePath` to send (None when the caller
        chose an allowed `parentFolderId` and no `filePath`)."""
        self.check_parent_folder_id(parent_folder_id)
        self.check_mime_type(mime_type)
        self.check_size(size_bytes)
        self.check_private(private)
        if parent_folder_id is not None and file_path is None:
            return None
        return self.resolve_folder(file_path)


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: what handlers put in `app.context["caller"]`."""

    id: str
    kind: CallerKind
    policy: Policy
    subject: str | None = None
    claims: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    callback: CallbackTarget | None = field(default=None, repr=False, compare=False)
    callback_ref: str | None = None
    """What a queued callback names to find `callback` again (`CallerRegistry.callback_for`):
    the API key's id, or `issuer:<issuer>` for a JWT caller; None without a callback."""


@dataclass(frozen=True)
class JwtIssuer:
    jwks_url: str
    issuer: str
    audience: tuple[str, ...]
    policy: Policy
    algorithms: tuple[str, ...] = DEFAULT_JWT_ALGORITHMS
    callback: CallbackTarget | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_document(cls, doc: Any, where: str = "jwt") -> JwtIssuer:
        if not isinstance(doc, Mapping):
            raise RegistryError(f"{where} must be an object")
        for key in ("jwksUrl", "issuer"):
            if not isinstance(doc.get(key), str) or not doc[key]:
                raise RegistryError(f"{where}.{key} must be a non-empty string")
        if not str(doc["jwksUrl"]).startswith(("https://", "http://")):
            raise RegistryError(f"{where}.jwksUrl must be an http(s) URL")
        audience = doc.get("audience")
        if isinstance(audience, str):
            audience = [audience]
        if not _is_str_list(audience) or not audience:
            raise RegistryError(f"{where}.audience must be a string or a non-empty list")
        algorithms = doc.get("algorithms", list(DEFAULT_JWT_ALGORITHMS))
        if (
            not _is_str_list(algorithms)
            or not algorithms
            or not set(algorithms) <= ASYMMETRIC_ALGORITHMS
        ):
            raise RegistryError(
                f"{where}.algorithms must list asymmetric algorithms only "
                f"({', '.join(sorted(ASYMMETRIC_ALGORITHMS))})"
            )
        policy = Policy.from_document(doc.get("policy"), f"{where}.policy")
        return cls(
            jwks_url=str(doc["jwksUrl"]),
            issuer=str(doc["issuer"]),
            audience=tuple(audience),
            policy=policy,
            algorithms=tuple(algorithms),
            callback=_callback(doc, policy, where),
        )

    def caller_for(self, claims: Mapping[str, Any]) -> Caller:
        """The caller for verified claims (signature, iss, aud, exp already checked)."""
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise Forbidden("the token has no subject", code="SUBJECT_NOT_ALLOWED")
        return Caller(
            id=f"jwt:{subject}",
            kind="jwt",
            policy=self.policy.for_subject(subject),
            subject=subject,
            claims=dict(claims),
            callback=self.callback,
            callback_ref=f"{ISSUER_REF_PREFIX}{self.issuer}" if self.callback else None,
        )


@dataclass(frozen=True)
class _KeyEntry:
    id: str
    digest: bytes
    policy: Policy
    callback: CallbackTarget | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class CallerRegistry:
    api_keys: tuple[_KeyEntry, ...] = ()
    jwt_issuers: tuple[JwtIssuer, ...] = ()

    @classmethod
    def from_document(cls, doc: Any) -> CallerRegistry:
        if not isinstance(doc, Mapping):
            raise RegistryError("the caller registry must be a JSON object")
        keys_raw = doc.get("apiKeys", [])
        if not isinstance(keys_raw, list):
            raise RegistryError("apiKeys must be a list")
        entries: list[_KeyEntry] = []
        seen: set[str] = set()
        for index, item in enumerate(keys_raw):
            where = f"apiKeys[{index}]"
            if not isinstance(item, Mapping):
                raise RegistryError(f"{where} must be an object")
            caller_id, digest = item.get("id"), item.get("sha256")
            if not isinstance(caller_id, str) or not caller_id or caller_id in seen:
                raise RegistryError(f"{where}.id must be a unique non-empty string")
            if not isinstance(digest, str) or not _SHA256_HEX.fullmatch(digest.lower()):
                raise RegistryError(f"{where}.sha256 must be 64 hex characters")
            seen.add(caller_id)
            policy = Policy.from_document(item.get("policy"), f"{where}.policy")
            entries.append(
                _KeyEntry(caller_id, bytes.fromhex(digest), policy, _callback(item, policy, where))
            )
        jwt_raw = doc.get("jwt")
        issuers: Sequence[Any] = (
            [] if jwt_raw is None else jwt_raw if isinstance(jwt_raw, list) else [jwt_raw]
        )
        return cls(
            api_keys=tuple(entries),
            jwt_issuers=tuple(
                JwtIssuer.from_document(item, f"jwt[{i}]" if isinstance(jwt_raw, list) else "jwt")
                for i, item in enumerate(issuers)
            ),
        )

    def caller_for_api_key(self, key: str) -> Caller | None:
        """Constant time over the whole registry: every entry is compared, no early exit."""
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
        found: _KeyEntry | None = None
        for entry in self.api_keys:
            if hmac.compare_digest(digest, entry.digest) and found is None:
                found = entry
        if found is None:
            return None
        return Caller(
            id=found.id,
            kind="api_key",
            policy=found.policy,
            callback=found.callback,
            callback_ref=found.id if found.callback else None,
        )

    def callback_for(self, callback_ref: str) -> CallbackTarget | None:
        """The callback a `Caller.callback_ref` names (the delivery consumer finds the secret
        here, at delivery time, so a rotated secret signs the retries)."""
        if callback_ref.startswith(ISSUER_REF_PREFIX):
            issuer = self.issuer_named(callback_ref[len(ISSUER_REF_PREFIX) :])
            return issuer.callback if issuer else None
        for entry in self.api_keys:
            if entry.id == callback_ref:
                return entry.callback
        return None

    def issuer_named(self, issuer: str | None) -> JwtIssuer | None:
        for candidate in self.jwt_issuers:
            if candidate.issuer == issuer:
                return candidate
        return None


def _forbidden(field_name: str, problem: str, code: str) -> Forbidden:
    return Forbidden(
        f"{field_name} {problem}", [FieldProblem(field_name, problem, code)], code=code
    )


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _flag(doc: Mapping[str, Any], key: str, where: str) -> bool:
    value = doc.get(key, False)
    if not isinstance(value, bool):
        raise RegistryError(f"{where}.{key} must be true or false")
    return value


def _callback_prefixes(value: Any, where: str) -> tuple[str, ...]:
    if not _is_str_list(value):
        raise RegistryError(f"{where}.callbackUrls must be a list of URL prefixes")
    prefixes = []
    for index, prefix in enumerate(value):
        try:
            clean = normalize_callback_url(prefix)
        except ValueError as exc:
            raise RegistryError(f"{where}.callbackUrls[{index}] {exc}") from None
        if "?" in clean:
            raise RegistryError(f"{where}.callbackUrls[{index}] must not contain a query")
        prefixes.append(clean)
    return tuple(prefixes)


def _callback(doc: Mapping[str, Any], policy: Policy, where: str) -> CallbackTarget | None:
    raw = doc.get("callback")
    if raw is None:
        if policy.callback_urls:
            raise RegistryError(f"{where}.policy.callbackUrls needs {where}.callback.secret")
        return None
    try:
        return CallbackTarget.parse(raw)
    except ValueError as exc:
        raise RegistryError(f"{where}.callback {exc}") from None


def _registry_folder(path: str, where: str) -> str:
    try:
        normalize_folder(path.replace("{sub}", "sub"), where)
    except InvalidInput as exc:
        raise RegistryError(f"{where}: {exc.message}") from None
    return "/" + path.strip("/")
