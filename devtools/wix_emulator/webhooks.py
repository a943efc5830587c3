"""File Ready / File Failed events, signed and delivered as Wix delivers them to an app.

Envelope [doc: docs/wix-facts.md "Events", checked by @wix/sdk's `webhooks.process`]: the whole
POST body is one RS256 JWT; its claim `data` is a JSON string of
`{eventType, instanceId, data: <JSON string>, identity: <JSON string>, accountInfo}`, whose `data`
is the domain event `{id, entityFqdn, slug, entityId, eventTime, triggeredByAnonymizeRequest,
entityEventSequence, actionEvent: {body}}`.

Two kinds of background thread, neither ever blocks request handling:
- the finisher watches the files waiting to reach READY/FAILED (`Store.due`) and emits one
  event per file when its time comes (the emulator's clock, so `advance_clock` counts);
- the delivery workers POST queued deliveries, retrying non-2xx answers and connection errors
  on `webhook_retry_ms` (at-least-once, like Wix). The queue is bounded (`webhook_queue_max`).
Control switches (`/_emulator/webhooks/faults`) duplicate, delay, reorder or drop the next events.
"""

from __future__ import annotations

import heapq
import itertools
import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .config import EmulatorConfig
from .state import Store, StoredFile, iso

ENTITY_FQDN = "wix.media.site_media.v1.file_descriptor"  # [doc]
FILE_READY = "wix.media.site_media.v1.file_descriptor_file_ready"  # [doc]
FILE_FAILED = "wix.media.site_media.v1.file_descriptor_file_failed"  # [doc]
ACTIONS = ("duplicate", "delay", "reorder", "drop")
LOG_MAX = 5000


def load_or_make_key(pem: str | None) -> rsa.RSAPrivateKey:
    """The signing key: from PEM (WIX_EMULATOR_WEBHOOK_PRIVATE_KEY) or a fresh 2048-bit one."""
    if pem:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("WIX_EMULATOR_WEBHOOK_PRIVATE_KEY must be an RSA private key (PEM)")
        return key
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Delivery:
    """One event to one URL (a duplicate is a second Delivery with the same event id)."""

    seq: int
    event_id: str
    event_type: str
    file_id: str
    url: str
    body: bytes = field(repr=False)
    state: str = "pending"  # pending | held | delivered | failed | dropped
    attempts: int = 0
    last_status: int | None = None
    last_error: str | None = None
    note: str | None = None  # duplicate | delayed | reordered | dropped by switch | queue full
    due: float = 0.0  # time.monotonic() of the next attempt
    generation: int = 0  # the Webhooks.reset() generation it belongs to
    followers: list[Delivery] = field(default_factory=list, repr=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "eventId": self.event_id,
            "eventType": self.event_type,
            "fileId": self.file_id,
            "url": self.url,
            "state": self.state,
            "attempts": self.attempts,
            "lastStatus": self.last_status,
            "lastError": self.last_error,
            "note": self.note,
        }


@dataclass
class Switch:
    action: str
    remaining: int
    delay_ms: int = 0
    hold_ms: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "remaining": self.remaining,
            "delayMs": self.delay_ms,
            "holdMs": self.hold_ms,
        }


class Webhooks:
    """Event building, signing, the delivery queue and its log."""

    def __init__(self, cfg: EmulatorConfig, store: Store) -> None:
        self.cfg = cfg
        self.store = store
        self.key = load_or_make_key(cfg.webhook_private_key)
        self.public_pem = (
            self.key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        self.urls: list[str] = list(cfg.webhook_urls)
        self._cond = threading.Condition()
        self._queue: list[tuple[float, int, Delivery]] = []  # (due, seq, delivery)
        self._waiting = 0  # pending deliveries (in the queue or in flight)
        self._generation = 0
        self._seq = itertools.count(1)
        self._switches: list[Switch] = []
        self._held: list[Delivery] = []  # a reorder waiting for the next event
        self._sequence: dict[str, int] = {}  # entity id -> last entityEventSequence
        self.log: deque[Delivery] = deque(maxlen=LOG_MAX)
        self._stop = threading.Event()
        self._local = threading.local()
        self._threads: list[threading.Thread] = []

    # --- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        targets = [("wix-emulator-finisher", self._finish_loop)] + [
            (f"wix-emulator-webhook-{i}", self._deliver_loop)
            for i in range(self.cfg.webhook_workers)
        ]
        for name, target in targets:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        with self.store.due_changed:
            self.store.due_changed.notify_all()
        with self._cond:
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)

    def reset(self) -> None:
        """Forget queued deliveries, the log, switches and per-file sequences; URLs back to the
        configured ones."""
        with self._cond:
            self._queue.clear()
            self._held.clear()
            self._switches.clear()
            self._sequence.clear()
            self.log.clear()
            self._waiting = 0
            self._generation += 1
            self.urls = list(self.cfg.webhook_urls)

    # --- control ----------------------------------------------------------------------------
    def add_switch(self, action: str, count: int, delay_ms: int, hold_ms: int) -> Switch:
        switch = Switch(action, count, delay_ms, hold_ms)
        with self._cond:
            self._switches.append(switch)
        return switch

    def switches(self) -> list[dict[str, Any]]:
        with self._cond:
            return [s.as_json() for s in self._switches]

    def clear_switches(self) -> None:
        with self._cond:
            self._switches.clear()

    def set_urls(self, urls: list[str]) -> None:
        with self._cond:
            self.urls = list(urls)

    def listing(self) -> list[dict[str, Any]]:
        with self._cond:
            return [d.as_json() for d in self.log]

    def pending(self) -> int:
        with self._cond:
            return self._waiting

    # --- events -----------------------------------------------------------------------------
    def event_for(self, f: StoredFile) -> tuple[str, str, bytes]:
        """(event id, event type, signed body) of the file's READY/FAILED event."""
        store = self.store
        failed = store.status(f) == "FAILED"
        body: dict[str, Any] = {}
        if f.external_info is not None:
            body["externalInfo"] = f.external_info  # [doc] echoed from the creating call
        if failed:
            # [doc] File Failed carries `error`, the file id only in entityId. [guess] codes.
            body["error"] = {
                "code": f.failure_code or "FILE_PROCESSING_FAILED",
                "description": f.failure or "the file could not be processed",
                "data": {},
            }
        else:
            body["file"] = store.descriptor(f)
            body["triggeredByUndelete"] = False
        with self._cond:
            sequence = self._sequence.get(f.id, 0) + 1
            self._sequence[f.id] = sequence
        event_id = str(uuid.uuid4())
        event_type = FILE_FAILED if failed else FILE_READY
        domain_event = {
            "id": event_id,
            "entityFqdn": ENTITY_FQDN,
            "slug": "file_failed" if failed else "file_ready",
            "entityId": f.id,
            "eventTime": iso(store.now()),
            "triggeredByAnonymizeRequest": False,
            # [guess] an int64, so a decimal string in JSON like every Wix int64.
            "entityEventSequence": str(sequence),
            "actionEvent": {"body": body},
        }
        account_info = {
            "accountId": self.cfg.account_id,
            "siteId": self.cfg.site_id,
            "parentAccountId": self.cfg.account_id,
        }
        envelope = {
            "eventType": event_type,
            "instanceId": self.cfg.instance_id,
            "data": json.dumps(domain_event, separators=(",", ":")),
            # [guess] the identity of a media event: the app itself.
            "identity": json.dumps({"identityType": "APP", "appId": self.cfg.app_id}),
            "accountInfo": account_info,
        }
        claims = {
            "data": json.dumps(envelope, separators=(",", ":")),
            "iss": "wix.com",  # [doc] checked by the SDK only when asked
            "aud": self.cfg.app_id,
            "iat": int(time.time()),
            "accountInfo": account_info,
        }
        return event_id, event_type, jwt.encode(claims, self.key, algorithm="RS256").encode()

    def file_finished(self, f: StoredFile) -> None:
        """Queue the file's event for every configured URL, through the control switches."""
        with self._cond:
            urls = list(self.urls)
        if not urls:
            return
        event_id, event_type, body = self.event_for(f)
        now = time.monotonic()
        with self._cond:
            switch = self._switches[0] if self._switches else None
            if switch is not None:
                switch.remaining -= 1
                if switch.remaining <= 0:
                    self._switches.pop(0)
            earlier_held, self._held = self._held, []
            batch: list[Delivery] = []
            for url in urls:
                copies = 2 if switch and switch.action == "duplicate" else 1
                for copy in range(copies):
                    d = Delivery(next(self._seq), event_id, event_type, f.id, url, body)
                    d.due, d.generation = now, self._generation
                    d.note = "duplicate" if copy else None
                    batch.append(d)
            for d in batch:
                self.log.append(d)
                action = switch.action if switch else None
                if action == "drop":
                    d.state, d.note = "dropped", "dropped by switch"
                    continue
                if self._waiting >= self.cfg.webhook_queue_max:
                    d.state, d.note = "dropped", "queue full"
                    continue
                self._waiting += 1
                if action == "delay" and switch is not None:
                    d.due, d.note = now + switch.delay_ms / 1000, "delayed"
                if action == "reorder" and switch is not None:
                    # Sent after the next event's delivery (or after holdMs if none comes).
                    d.state, d.note = "held", "reordered"
                    d.due = now + switch.hold_ms / 1000
                    self._held.append(d)
                self._push(d)
            if earlier_held:
                # The reordered ones go out once the first of this event's deliveries has
                # had its first attempt.
                leader = next((d for d in batch if d.state == "pending"), None)
                for d in earlier_held:
                    if d.state != "held":
                        continue
                    d.due = float("inf")  # its queue entry is now stale
                    if leader is None:
                        d.state, d.due = "pending", now
                        self._push(d)
                    else:
                        leader.followers.append(d)

    def _push(self, d: Delivery) -> None:
        heapq.heappush(self._queue, (d.due, d.seq, d))
        self._cond.notify()

    # --- the finisher -----------------------------------------------------------------------
    def _finish_loop(self) -> None:
        store = self.store
        while not self._stop.is_set():
            ready: list[StoredFile] = []
            with store.due_changed:
                now = store.now()
                while store.due and store.due[0][0] <= now:
                    _, _, file_id = heapq.heappop(store.due)
                    f = store.files.get(file_id)
                    if f is not None and not f.announced and (f.ready_at or now + 1) <= now:
                        f.announced = True
                        ready.append(f)
                if not ready:
                    wait = store.due[0][0] - now if store.due else 1.0
                    store.due_changed.wait(timeout=min(max(wait, 0.001), 1.0))
            for f in ready:
                try:
                    self.file_finished(f)
                except Exception as exc:  # an event must never kill the finisher
                    print(f"wix-emulator: event for {f.id} not built: {exc!r}", flush=True)

    # --- delivery ---------------------------------------------------------------------------
    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _next(self) -> Delivery | None:
        with self._cond:
            while not self._stop.is_set():
                now = time.monotonic()
                while self._queue and self._queue[0][2].due != self._queue[0][0]:
                    heapq.heappop(self._queue)  # stale entry (a reordered delivery moved)
                if self._queue and self._queue[0][0] <= now:
                    d = heapq.heappop(self._queue)[2]
                    if d.state in ("pending", "held"):
                        d.state = "pending"
                        return d
                    continue
                timeout = self._queue[0][0] - now if self._queue else None
                self._cond.wait(timeout=min(timeout, 1.0) if timeout is not None else 1.0)
        return None

    def _deliver_loop(self) -> None:
        while (d := self._next()) is not None:
            status: int | None = None
            error: str | None = None
            try:
                response = self._session().post(
                    d.url,
                    data=d.body,
                    # [guess] the body is the bare JWT; Wix's samples read it as text.
                    headers={"Content-Type": "text/plain; charset=utf-8"},
                    timeout=self.cfg.webhook_timeout_ms / 1000,
                    allow_redirects=False,
                )
                status = response.status_code
                response.close()
            except requests.RequestException as exc:
                error = type(exc).__name__
                self._local.session = None  # a fresh connection next time
            with self._cond:
                d.attempts += 1
                d.last_status, d.last_error = status, error
                followers, d.followers = d.followers, []
                for follower in followers:
                    follower.state, follower.due = "pending", time.monotonic()
                    self._push(follower)
                if d.generation != self._generation:
                    continue  # reset while in flight: forgotten
                if status is not None and 200 <= status < 300:
                    d.state = "delivered"
                    self._waiting -= 1
                elif d.attempts <= len(self.cfg.webhook_retry_ms):
                    d.due = time.monotonic() + self.cfg.webhook_retry_ms[d.attempts - 1] / 1000
                    self._push(d)
                else:
                    d.state = "failed"
                    self._waiting -= 1
