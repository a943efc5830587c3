"""Caller registry, policies and destination rules (pure domain)."""

from __future__ import annotations

from typing import Any

import pytest

from wix_relay.domain.callers import (
    CallerRegistry,
    Policy,
    RegistryError,
    hash_api_key,
    mime_matches,
    normalize_folder,
)
from wix_relay.domain.errors import Forbidden, InvalidInput

ACME_POLICY: dict[str, Any] = {
    "folders": ["/partners/acme", "/shared/in"],
    "defaultFolder": "/partners/acme/inbox",
    "mimeTypes": ["image/*", "application/pdf"],
    "maxSizeBytes": 1000,
    "allowPrivate": False,
    "importSources": [{"bucket": "acme-bucket", "prefix": "acme/"}],
}


def registry() -> CallerRegistry:
    return CallerRegistry.from_document(
        {
            "apiKeys": [
                {"id": "partner-acme", "sha256": hash_api_key("acme-key"), "policy": ACME_POLICY},
                {"id": "partner-b", "sha256": hash_api_key("b-key"), "policy": {"folders": ["/b"]}},
            ],
            "jwt": {
                "jwksUrl": "http://127.0.0.1:1/jwks.json",
                "issuer": "https://issuer.example/",
                "audience": "client-1",
                "policy": {"folders": ["/users/{sub}"], "mimeTypes": ["image/*"]},
            },
        }
    )


def test_api_key_lookup_matches_only_the_right_key() -> None:
    reg = registry()
    caller = reg.caller_for_api_key("acme-key")
    assert caller is not None and caller.id == "partner-acme" and caller.kind == "api_key"
    other = reg.caller_for_api_key("b-key")
    assert other is not None and other.id == "partner-b"
    assert reg.caller_for_api_key("acme-key ") is None
    assert reg.caller_for_api_key("") is None


def test_registry_defaults_default_folder_to_first_folder() -> None:
    caller = registry().caller_for_api_key("b-key")
    assert caller is not None
    assert caller.policy.default_folder == "/b"
    assert caller.policy.resolve_folder(None) == "/b"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/partners/acme", "/partners/acme"),
        ("/partners/acme/", "/partners/acme"),
        ("partners/acme/2024/dec", "/partners/acme/2024/dec"),
        ("/shared/in/x y", "/shared/in/x y"),
        ("/partners/acme/ü", "/partners/acme/ü"),
    ],
)
def test_paths_inside_the_folders_are_accepted(path: str, expected: str) -> None:
    policy = Policy.from_document(ACME_POLICY)
    assert policy.resolve_folder(path) == expected


@pytest.mark.parametrize(
    "path", ["/partners/acmex", "/partners", "/", "/shared/inbox", "/other/partners/acme"]
)
def test_paths_outside_the_folders_are_forbidden(path: str) -> None:
    with pytest.raises(Forbidden) as info:
        Policy.from_document(ACME_POLICY).resolve_folder(path)
    assert info.value.code == "FOLDER_NOT_ALLOWED"
    assert info.value.details[0].field == "filePath"


@pytest.mark.parametrize(
    "path",
    [
        "/partners/acme/../bravo",
        "/partners/acme/..",
        "/partners/acme/./x",
        "/partners//acme",
        "//partners/acme",
        "/partners/acme\\..\\x",
        "/partners/acme/%2e%2e/x",
        "/partners/acme%2fx",
        "/partners/acme/%252e%252e",
        "/partners/acme/\x00",
        "/partners/acme/\nx",
        "/partners/acme/\u202ex",
        "/partners/acme/\uff0e\uff0e/x",  # fullwidth dots: NFKC → ..
        "/partners/acme\uff0f..",  # fullwidth solidus
        "",
    ],
)
def test_unsafe_paths_are_invalid_input(path: str) -> None:
    with pytest.raises(InvalidInput) as info:
        Policy.from_document(ACME_POLICY).resolve_folder(path)
    assert info.value.status == 400
    assert info.value.code == "INVALID_PATH"
    assert info.value.details[0].field == "filePath"


def test_normalize_folder_root() -> None:
    assert normalize_folder("/") == "/"


@pytest.mark.parametrize(
    ("pattern", "mime", "ok"),
    [
        ("image/*", "image/png", True),
        ("image/*", "IMAGE/JPEG; q=1", True),
        ("image/*", "video/mp4", False),
        ("image/*", "imagex/png", False),
        ("application/pdf", "application/pdf", True),
        ("application/pdf", "application/pdfx", False),
        ("*/*", "text/plain", True),
    ],
)
def test_mime_patterns(pattern: str, mime: str, ok: bool) -> None:
    assert mime_matches(pattern, mime) is ok


def test_authorize_destination_runs_every_check() -> None:
    policy = Policy.from_document(ACME_POLICY)
    ok = policy.authorize_destination(
        file_path=None, mime_type="image/png", size_bytes=10, private=False
    )
    assert ok == "/partners/acme/inbox"
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"mime_type": "video/mp4"}, Forbidden, "MIME_TYPE_NOT_ALLOWED"),
        ({"size_bytes": 1001}, Forbidden, "SIZE_NOT_ALLOWED"),
        ({"size_bytes": None}, InvalidInput, "INVALID_INPUT"),
        ({"private": True}, Forbidden, "PRIVATE_NOT_ALLOWED"),
        ({"parent_folder_id": "abc"}, Forbidden, "PARENT_FOLDER_NOT_ALLOWED"),
    ]
    for change, error, code in cases:
        args: dict[str, Any] = {
            "file_path": None,
            "mime_type": "image/png",
            "size_bytes": 10,
            "private": False,
            **change,
        }
        with pytest.raises(error) as info:
            policy.authorize_destination(**args)
        assert getattr(info.value, "code", None) == code, change


def test_parent_folder_id_allowed_only_by_policy() -> None:
    policy = Policy.from_document({**ACME_POLICY, "allowParentFolderId": True})
    assert (
        policy.authorize_destination(
            file_path=None,
            mime_type="image/png",
            size_bytes=1,
            private=None,
            parent_folder_id="folder-1",
        )
        is None
    )


def test_import_sources_match_on_segments() -> None:
    policy = Policy.from_document(ACME_POLICY)
    assert policy.allows_import("acme-bucket", "acme/a/b.png")
    assert not policy.allows_import("acme-bucket", "acme-evil/b.png")
    assert not policy.allows_import("acme-bucket", "acme")
    assert not policy.allows_import("other", "acme/b.png")
    with pytest.raises(Forbidden) as info:
        policy.check_import_source("other", "acme/b.png")
    assert info.value.code == "IMPORT_SOURCE_NOT_ALLOWED"
    whole = Policy.from_document({"folders": ["/"], "importSources": [{"bucket": "b1"}]})
    assert whole.allows_import("b1", "any/key")


def test_jwt_caller_gets_its_own_folder() -> None:
    issuer = registry().jwt_issuers[0]
    caller = issuer.caller_for({"sub": "auth0|abc-123", "iss": issuer.issuer})
    assert caller.id == "jwt:auth0|abc-123" and caller.kind == "jwt"
    assert caller.policy.resolve_folder(None) == "/users/auth0|abc-123"
    assert caller.policy.resolve_folder("/users/auth0|abc-123/pics") == "/users/auth0|abc-123/pics"
    with pytest.raises(Forbidden):
        caller.policy.resolve_folder("/users/someone-else")


@pytest.mark.parametrize("sub", ["..", "a/b", "a\\b", "", "x" * 200, "a%2fb"])
def test_jwt_subject_that_cannot_be_a_segment_is_refused(sub: str) -> None:
    issuer = registry().jwt_issuers[0]
    with pytest.raises(Forbidden):
        issuer.caller_for({"sub": sub})


@pytest.mark.parametrize(
    "doc",
    [
        [],
        {"apiKeys": [{"id": "a", "sha256": "nothex", "policy": {"folders": ["/a"]}}]},
        {"apiKeys": [{"id": "a", "sha256": "0" * 64, "policy": {"folders": []}}]},
        {"apiKeys": [{"id": "a", "sha256": "0" * 64, "policy": {"folders": ["/a/../b"]}}]},
        {
            "apiKeys": [
                {
                    "id": "a",
                    "sha256": "0" * 64,
                    "policy": {"folders": ["/a"], "defaultFolder": "/b"},
                }
            ]
        },
        {
            "apiKeys": [
                {"id": "a", "sha256": "0" * 64, "policy": {"folders": ["/a"], "maxSizeBytes": 0}}
            ]
        },
        {
            "jwt": {
                "jwksUrl": "http://x/jwks",
                "issuer": "i",
                "audience": "a",
                "algorithms": ["HS256"],
                "policy": {"folders": ["/a"]},
            }
        },
        {"jwt": {"jwksUrl": "file:///etc/x", "issuer": "i", "audience": "a", "policy": {}}},
    ],
)
def test_invalid_registry_documents_are_refused(doc: Any) -> None:
    with pytest.raises(RegistryError):
        CallerRegistry.from_document(doc)
