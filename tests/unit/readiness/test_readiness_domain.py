"""domain/readiness.py: correlation ids, the file document and `wixUrl` encoding (as
encodeURIComponent), the report checks, the record's shapes."""

from __future__ import annotations

from typing import Any

import pytest

from wix_relay.domain.readiness import (
    FileOwner,
    Outcome,
    UploadRecord,
    check_reported_file,
    external_info,
    file_document,
    folder_chain,
    subject_of,
    wix_media_url,
)


def test_external_info_names_the_relay_first() -> None:
    assert external_info("upl-1", ("theirs",)) == {
        "origin": "wix-media-relay",
        "externalIds": ["upl-1", "theirs"],
    }


@pytest.mark.parametrize(
    ("origin", "ids", "subject"),
    [
        ("wix-media-relay", ("upl-abc",), ("upload", "upl-abc")),
        ("wix-media-relay", ("imp-abc", "x"), ("job", "imp-abc")),
        ("wix-media-relay", ("s3-abc",), ("job", "s3-abc")),
        ("someone-else", ("upl-abc",), None),
        ("wix-media-relay", (), None),
        ("wix-media-relay", ("other",), None),
        (None, ("upl-abc",), None),
    ],
)
def test_subject_of(origin: str | None, ids: tuple[str, ...], subject: Any) -> None:
    assert subject_of(origin, ids) == subject


def test_names_are_encoded_as_encode_uri_component() -> None:
    descriptor = {
        "id": "a1_b~mv2.jpg",
        "operationStatus": "READY",
        "media": {"image": {"image": {"id": "a1_b~mv2.jpg", "filename": "summer day (1)/é?.jpg",
                                      "width": 10, "height": 20}}},
    }  # fmt: skip
    assert wix_media_url(descriptor) == (
        "wix:image://v1/a1_b~mv2.jpg/summer%20day%20(1)%2F%C3%A9%3F.jpg"
        "#originWidth=10&originHeight=20"
    )


def test_no_media_no_wix_url() -> None:
    pending = {"id": "x", "operationStatus": "PENDING", "url": "https://static/x"}
    assert wix_media_url(pending) is None
    assert file_document(pending) == {
        "id": "x",
        "operationStatus": "PENDING",
        "url": "https://static/x",
    }


def test_outcome_state_round_trip() -> None:
    failed = Outcome("failed", {"id": "f"}, "BAD", "broken")
    assert Outcome.from_state(failed.as_state()) == failed
    assert Outcome.from_state({"status": "pending", "file": {}}) is None


def record(**request: Any) -> UploadRecord:
    return UploadRecord.issued(
        caller_id="c", kind="resumable", request=request, now="2026-12-01T10:00:00.000Z"
    )


ISSUED_S = 1796119200.0  # 2026-12-01T10:00:00Z


def descriptor(**changes: Any) -> dict[str, Any]:
    base = {"createdDate": "2026-12-01T10:00:05.000Z", "sizeInBytes": "10",
            "displayName": "a.png", "private": False}  # fmt: skip
    return {**base, **changes}


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({}, None),
        ({"createdDate": "2026-12-01T09:58:00.000Z"}, "not created by this upload"),
        ({"createdDate": None}, "no creation time"),
        ({"sizeInBytes": "11"}, "size"),
        ({"displayName": "b.png"}, None),
        ({"private": True}, "privacy"),
    ],
)
def test_report_checks(changes: dict[str, Any], problem: str | None) -> None:
    found = check_reported_file(
        record(sizeInBytes="10", fileName="a.png"), descriptor(**changes), ISSUED_S + 10, 3600
    )
    assert (found is None) if problem is None else (problem in (found or ""))


def test_a_report_long_after_the_url_is_refused() -> None:
    found = check_reported_file(record(), descriptor(), ISSUED_S + 7200, 3600)
    assert found is not None and "too old" in found


def test_folder_chain() -> None:
    assert folder_chain({"filePath": "/users/u1"}) == ("media-root", ("users", "u1"))
    assert folder_chain({"parentFolderId": "abc", "filePath": "x"}) == ("abc", ("x",))
    assert folder_chain({}) == ("media-root", ())


def test_records_and_owners_round_trip() -> None:
    issued = record(fileName="a.png")
    assert UploadRecord.from_item(issued.to_item()) == issued
    assert UploadRecord.from_item({"id": "imp-1", "status": "queued"}) is None
    owner = FileOwner("f", "job", "s3-1", bucket="b", key="k")
    assert FileOwner.from_item(owner.to_item()) == owner
    public = issued.reach(Outcome("ready", {"id": "f"})).to_public()
    assert public["status"] == "ready" and public["file"] == {"id": "f"} and "error" not in public
