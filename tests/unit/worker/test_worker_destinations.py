"""S3 object → Wix destination, MIME detection and mode planning (pure domain)."""

from __future__ import annotations

import pytest

from wix_relay.domain.destinations import (
    InvalidDestination,
    Route,
    match_route,
    object_destination,
    parse_routes,
    wix_fields,
)
from wix_relay.domain.errors import InvalidInput
from wix_relay.domain.jobs import Destination, Job, JobError, ObjectRef, WixFileRef
from wix_relay.domain.media import detect_mime, plan_mode

ROOT = Route(folder_root="/inbox")


def test_key_folders_become_file_path_under_the_root() -> None:
    dest = object_destination("photos/café/Ünïcødé 日本語 ✓.jpeg", {}, ROOT)
    assert dest.file_path == "/inbox/photos/café"
    assert dest.file_name == "Ünïcødé 日本語 ✓.jpeg"
    assert object_destination("top.png", {}, Route()).file_path is None


def test_route_prefix_is_stripped_and_longest_route_wins() -> None:
    routes = parse_routes(
        '[{"bucket": "b", "prefix": "partners", "folderRoot": "/p", "mode": "import"},'
        ' {"bucket": "b", "prefix": "partners/acme/", "folderRoot": "/acme",'
        '  "labels": ["acme"], "private": true}]'
    )
    route = match_route(routes, ROOT, "b", "partners/acme/2026/x.pdf")
    assert route.folder_root == "/acme"
    dest = object_destination("partners/acme/2026/x.pdf", {}, route)
    assert (dest.file_path, dest.labels, dest.private) == ("/acme/2026", ("acme",), True)
    assert match_route(routes, ROOT, "b", "partners/zed/x.pdf").mode == "import"
    assert match_route(routes, ROOT, "other", "partners/acme/x.pdf") is ROOT
    assert match_route(routes, ROOT, "b", "partnersx/y.pdf") is ROOT  # whole segments only


def test_metadata_refines_within_the_route() -> None:
    meta = {"wix-file-path": "/campaigns/2026", "wix-labels": "a, b,a", "wix-private": "true"}
    dest = object_destination("x/y.jpg", meta, Route(folder_root="/inbox", labels=("r",)))
    assert dest.file_path == "/inbox/campaigns/2026"
    assert dest.labels == ("r", "a", "b")
    assert dest.private is True
    # a private route stays private whatever the metadata says
    assert object_destination("y.jpg", {"wix-private": "false"}, Route(private=True)).private


@pytest.mark.parametrize(
    "path", ["../escape", "/a/../../b", "a//b", "%2e%2e/x", "a\\b", "a/./b", "\u2025/x"]
)
def test_metadata_traversal_is_refused(path: str) -> None:
    with pytest.raises(InvalidInput) as info:
        object_destination("k.jpg", {"x-amz-meta-wix-file-path": path}, ROOT)
    assert "wix-file-path" in info.value.message


def test_paths_wix_would_refuse_fail_clearly_never_cut() -> None:
    deep = "/".join(["folder"] * 20) + "/f.jpg"
    with pytest.raises(InvalidDestination, match=r"filePath is 1\d\d characters; Wix allows"):
        object_destination(deep, {}, ROOT)
    with pytest.raises(InvalidDestination, match="fileName is 201 characters"):
        object_destination("a/" + "n" * 197 + ".jpg", {}, ROOT)
    with pytest.raises(InvalidDestination, match="names a folder"):
        object_destination("folder/", {}, ROOT)
    with pytest.raises(InvalidInput, match="key"):
        object_destination("a/../b.jpg", {}, ROOT)
    with pytest.raises(InvalidDestination, match="x-amz-meta-wix-private"):
        object_destination("b.jpg", {"wix-private": "maybe"}, ROOT)


def test_rfc2047_metadata_is_decoded() -> None:
    dest = object_destination("k.jpg", {"wix-labels": "=?UTF-8?B?w6l0w6k=?="}, ROOT)
    assert dest.labels == ("été",)


def test_invalid_routes_name_the_entry() -> None:
    with pytest.raises(ValueError, match=r"RELAY_ROUTES\[0\].mode"):
        parse_routes('[{"mode": "teleport"}]')
    with pytest.raises(ValueError, match=r"RELAY_ROUTES\[0\].folderRoot"):
        parse_routes('[{"folderRoot": "/a/../b"}]')


@pytest.mark.parametrize(
    ("content_type", "name", "expected"),
    [
        ("image/png; charset=binary", "x.jpg", "image/png"),
        ("binary/octet-stream", "x.jpg", "image/jpeg"),
        ("", "report.pdf", "application/pdf"),
        (None, "no-extension-file", "application/octet-stream"),
        ("application/octet-stream", "clip.mp4", "video/mp4"),
    ],
)
def test_mime_detection(content_type: str | None, name: str, expected: str) -> None:
    assert detect_mime(content_type, name) == expected


def test_mode_planning() -> None:
    assert plan_mode("auto", 10, 10) == "upload"
    assert plan_mode("auto", 11, 10) == "resumable"
    assert plan_mode("import", 10**12, 10) == "import"


def test_wix_fields_use_wix_names() -> None:
    dest = Destination("a.jpg", "/x", labels=("l",), private=True)
    assert wix_fields(dest, "image/jpeg", 5) == {
        "mimeType": "image/jpeg",
        "fileName": "a.jpg",
        "sizeInBytes": "5",
        "filePath": "/x",
        "labels": ["l"],
        "private": True,
    }


def test_job_round_trips_through_its_item_and_tracks_lifecycle() -> None:
    job = Job.for_s3_object(ObjectRef("b", "k.jpg", version_id="v", size=3), "auto")
    running = job.start()
    assert (running.status, running.attempts) == ("running", 1)
    retry = running.retry_later(JobError("HTTP_503", "Wix: down", retryable=True))
    assert not retry.finished
    done = retry.start().uploaded(WixFileRef("f1", "https://x", "PENDING"))
    assert done.finished and done.error is None and done.attempts == 2
    item = done.to_item()
    assert Job.from_item(item) == done
    public = done.to_public()
    assert set(public) == {"id", "status", "source", "file", "createdAt", "updatedAt"}
    failed = job.failed(JobError("FILE_SIZE_OVER_LIMIT", "too big"))
    assert failed.finished and failed.to_public()["error"]["code"] == "FILE_SIZE_OVER_LIMIT"
