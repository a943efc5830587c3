"""Imports and S3-relayed jobs move `uploaded → ready | failed` by Wix's events through the same
service as uploads (the job written as the worker leaves it: `uploaded` with its file), with the
import's callback; an event that comes before `uploaded` is applied by `settle`. The files of an S3
job are readable by the callers whose importSources cover the object."""

from __future__ import annotations

import json
from typing import Any

from standardwebhooks import Webhook

from tests.fixtures.api import OPEN_PARTNER_KEY, PARTNER_KEY
from tests.fixtures.callbacks import WixAppKey
from tests.fixtures.readiness import CALLBACK_SECRET, JOBS_TABLE, ReadinessRig
from tests.integration.readiness.test_readiness_events import (
    failed_event,
    post_event,
    ready_event,
)
from wix_relay.domain.jobs import Destination, Job, ObjectRef, WixFileRef
from wix_relay.integrations.job_store import JobStore


def uploaded_job(job: Job, file_id: str) -> Job:
    stored, _ = JobStore(JOBS_TABLE).create(job.start().uploaded(WixFileRef(file_id)))
    return stored


def import_job(caller_id: str, **extra: Any) -> Job:
    job = Job.for_import(
        caller_id=caller_id,
        source=ObjectRef("wix-relay-inbox", "acme/a.png", size=75),
        destination=Destination("a.png", "/uploads", "image/png"),
        mode="import",
    )
    return Job.from_item({**job.to_item(), **extra})


def test_an_import_becomes_ready_by_its_event_with_one_callback(
    own_key_rig: ReadinessRig, wix_app_key: WixAppKey
) -> None:
    hooks = own_key_rig.receiver.url + "imports"
    job = uploaded_job(
        import_job("partner-open", callbackRef="partner-open", callbackUrl=hooks), "imp~mv2.png"
    )
    event = ready_event(wix_app_key, "imp~mv2.png", 1, job.id)
    assert post_event(own_key_rig, event).json()["outcome"] == "moved"
    assert post_event(own_key_rig, event).json()["outcome"] == "duplicate"
    public = own_key_rig.call("GET", f"/v1/imports/{job.id}").json()
    assert public["status"] == "ready" and public["file"]["id"] == "imp~mv2.png"
    assert own_key_rig.call("GET", "/v1/files/imp~mv2.png").json()["id"] == "imp~mv2.png"
    assert own_key_rig.call("GET", "/v1/files/imp~mv2.png", key=PARTNER_KEY).status_code == 404
    own_key_rig.drain_callbacks()
    (delivery,) = own_key_rig.receiver.deliveries
    assert delivery.path == "/hooks/imports"
    callback = Webhook(CALLBACK_SECRET).verify(delivery.body, delivery.headers)
    assert callback["type"] == "import.ready" and callback["data"] == public
    assert own_key_rig.wix_calls("get-file") == 0


def test_a_failed_import(own_key_rig: ReadinessRig, wix_app_key: WixAppKey) -> None:
    job = uploaded_job(import_job("partner-open", callbackRef="partner-open"), "bad~mv2.png")
    post_event(own_key_rig, failed_event(wix_app_key, "bad~mv2.png", 1, job.id))
    public = own_key_rig.call("GET", f"/v1/imports/{job.id}").json()
    assert public["status"] == "failed" and public["error"]["code"] == "FILE_PROCESSING_FAILED"
    (queued,) = own_key_rig.queued_callbacks()
    assert json.loads(queued["body"])["type"] == "import.failed"


def test_an_event_before_uploaded_is_settled_by_the_worker(
    own_key_rig: ReadinessRig, wix_app_key: WixAppKey
) -> None:
    job, _ = JobStore(JOBS_TABLE).create(import_job("partner-open").start())  # running
    event = ready_event(wix_app_key, "early~mv2.png", 1, job.id)
    assert post_event(own_key_rig, event).json()["outcome"] == "unchanged"
    # The worker records the upload, then asks the service to apply what came first.
    JobStore(JOBS_TABLE).save(job.uploaded(WixFileRef("early~mv2.png")))
    readiness = own_key_rig.relay.runtime.readiness
    assert readiness.settle(("job", job.id), "early~mv2.png") is True
    assert readiness.settle(("job", job.id), "early~mv2.png") is False  # once
    assert JobStore(JOBS_TABLE).get(job.id).status == "ready"  # type: ignore[union-attr]


def test_an_s3_jobs_file_is_read_through_import_sources(
    own_key_rig: ReadinessRig, wix_app_key: WixAppKey
) -> None:
    job = uploaded_job(
        Job.for_s3_object(ObjectRef("wix-relay-inbox", "acme/s3.png", etag="e"), "auto"),
        "s3~mv2.png",
    )
    post_event(own_key_rig, ready_event(wix_app_key, "s3~mv2.png", 1, job.id))
    # partner-acme may import from wix-relay-inbox/acme/; partner-open has no importSources.
    assert own_key_rig.call("GET", "/v1/files/s3~mv2.png", key=PARTNER_KEY).status_code == 200
    assert own_key_rig.call("GET", "/v1/files/s3~mv2.png", key=OPEN_PARTNER_KEY).status_code == 404
    assert own_key_rig.queued_callbacks() == []  # an S3 job has no caller to call back


def test_an_imports_callback_url_must_be_under_the_policys_prefixes(
    readiness_rig: ReadinessRig,
) -> None:
    body = {"bucket": "wix-relay-inbox", "key": "acme/a.png"}
    outside = readiness_rig.call(
        "POST", "/v1/imports", {**body, "callbackUrl": "https://evil.example/x"}, key=PARTNER_KEY
    )
    assert outside.status_code == 403
    assert outside.json()["error"]["code"] == "CALLBACK_URL_NOT_ALLOWED"
    garbage = readiness_rig.call(
        "POST", "/v1/imports", {**body, "callbackUrl": "ftp://x y"}, key=PARTNER_KEY
    )
    assert garbage.status_code == 400
    assert garbage.json()["error"]["code"] == "INVALID_CALLBACK_URL"
