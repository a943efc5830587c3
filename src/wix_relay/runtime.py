"""The per-container composition root: settings in, integrations out.

Each part is built on first use and then reused across invocations (a Lambda container serves
many), so nothing heavy loads at cold start: `requests`, PyJWT and the Wix client are imported
by the first request that needs them, boto3 only where the environment has no AWS credentials
(`integrations/aws_clients.py`). Both functions use one `Runtime`; the worker's
is sized for its thread pool (`Runtime.for_worker`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from wix_relay.config import Settings, required

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    import requests

    from wix_relay.domain.callbacks import CallbackTarget
    from wix_relay.domain.callers import Caller
    from wix_relay.integrations.callback_delivery import CallbackSender
    from wix_relay.integrations.callback_queue import CallbackQueue
    from wix_relay.integrations.event_store import EventStore
    from wix_relay.integrations.identity import JwtKeys
    from wix_relay.integrations.job_store import JobStore
    from wix_relay.integrations.queue import JobQueue
    from wix_relay.integrations.s3_source import S3Source
    from wix_relay.integrations.secrets import CallerRegistrySource, TtlCache
    from wix_relay.integrations.upload_store import UploadStore
    from wix_relay.integrations.wix import WixMediaClient
    from wix_relay.integrations.wix.events import WixEventVerifier
    from wix_relay.services.imports import ImportPorts, Imports
    from wix_relay.services.readiness import Readiness, ReadinessPorts
    from wix_relay.services.relay import Relay
    from wix_relay.services.uploads import Uploads

EVENTS_OFF = frozenset({"", "{}"})
"""A public-key secret holding this (the stack's placeholder) means Wix events are off."""
HTTP_POOL = 10  # requests' own defaults: 10 host pools of 10 connections
CALLBACK_THREADS = 4
"""Callback deliveries of one SQS batch at once (network-bound POSTs)."""


def pooled_session(connections: int = HTTP_POOL, hosts: int = HTTP_POOL) -> requests.Session:
    """A keep-alive session holding `connections` connections per host for `hosts` hosts."""
    import requests
    from requests.adapters import HTTPAdapter

    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=hosts, pool_maxsize=max(connections, 1))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class Runtime:
    """Per-container services, each built on first use and then reused across invocations."""

    def __init__(
        self,
        settings: Settings,
        *,
        http_connections: int = HTTP_POOL,
        http_hosts: int = HTTP_POOL,
        aws_connections: int | None = None,
        interactive: bool = False,
        pool_threads: int | None = None,
    ) -> None:
        self.settings = settings
        self.pool_threads = pool_threads or settings.transfer.worker_concurrency
        self.interactive = interactive
        """The API's: its Wix client gets the short retry budget (`WixSettings.for_api`)."""
        self.http_connections = http_connections
        self.http_hosts = http_hosts
        self.aws_connections = aws_connections
        self.lock = threading.RLock()  # for callers that build parts from several threads
        self._verifiers: dict[str, WixEventVerifier] = {}
        self._aws_clients: dict[str, Any] = {}

    @classmethod
    def for_api(cls, settings: Settings) -> Runtime:
        """A caller waits on every Wix call: the short retry budget."""
        return cls(settings, interactive=True)

    @classmethod
    def for_worker(cls, settings: Settings) -> Runtime:
        """Pools sized so every concurrent record has its own connection."""
        concurrency = settings.transfer.worker_concurrency
        return cls(
            settings, http_connections=concurrency, http_hosts=4, aws_connections=concurrency + 2
        )

    @classmethod
    def for_callbacks(cls, settings: Settings) -> Runtime:
        return cls(settings, pool_threads=CALLBACK_THREADS)

    @cached_property
    def session(self) -> requests.Session:
        return pooled_session(self.http_connections, self.http_hosts)

    def close(self) -> None:
        """Close what this runtime opened: the pooled connections and the worker's threads (a
        SnapStart restore drops the runtime it resumed with, `wix_relay.snapstart`)."""
        built = vars(self)
        for name in ("session", "aws_session"):
            if name in built:
                built[name].close()
        if "pool" in built:
            built["pool"].shutdown(wait=False)

    @cached_property
    def secrets(self) -> TtlCache:
        from wix_relay.integrations.secrets import TtlCache, secrets_manager_reader

        return TtlCache(
            secrets_manager_reader(lambda: self._aws("secretsmanager")), self.settings.secrets_ttl_s
        )

    @cached_property
    def callers(self) -> CallerRegistrySource:
        from wix_relay.integrations.secrets import CallerRegistrySource

        return CallerRegistrySource(self.settings, lambda: self.secrets)

    @cached_property
    def jwt_keys(self) -> JwtKeys:
        from wix_relay.integrations.identity import JwtKeys

        return JwtKeys(self.session, (self.settings.wix.connect_timeout_s, 5.0))

    def authenticate(
        self, headers: Mapping[str, str], authorizer_claims: Mapping[str, Any] | None
    ) -> Caller:
        """The caller of an API request (lower-case header names), against the registry."""
        from wix_relay.integrations.identity import authenticate

        return authenticate(headers, authorizer_claims, self.callers.registry(), self.jwt_keys)

    @cached_property
    def wix(self) -> WixMediaClient:
        """The Wix client: credential from the secret (TTL cache), the pooled session."""
        from wix_relay.integrations.secrets import WixCredentialSource
        from wix_relay.integrations.wix import WixMediaClient

        wix = self.settings.wix.for_api() if self.interactive else self.settings.wix
        credentials = WixCredentialSource(wix.credentials_secret_id, self.secrets)
        return WixMediaClient(credentials, wix, session=self.session)

    def wix_client(self) -> WixMediaClient:
        return self.wix

    @cached_property
    def aws_session(self) -> requests.Session:
        """The AWS clients' keep-alive pools (S3's virtual hosts are one host per bucket)."""
        from wix_relay.integrations.aws_clients import DEFAULT_POOL_CONNECTIONS

        return pooled_session(self.aws_connections or DEFAULT_POOL_CONNECTIONS, HTTP_POOL)

    def _aws(self, service: str) -> Any:
        """The container's one client for `service` (sized for the worker's threads), built on
        first use: boto3-free with environment credentials (`aws_clients.aws_client`)."""
        with self.lock:
            client = self._aws_clients.get(service)
            if client is None:
                from wix_relay.integrations.aws_clients import DEFAULT_POOL_CONNECTIONS, aws_client

                aws = self.settings.aws.for_api() if self.interactive else self.settings.aws
                client = self._aws_clients[service] = aws_client(
                    service,
                    self.aws_connections or DEFAULT_POOL_CONNECTIONS,
                    session=self.aws_session,
                    region=aws.region,
                    endpoint_url=aws.endpoint_url,
                    timeouts_s=aws.timeouts_s,
                )
            return client

    @cached_property
    def source(self) -> S3Source:
        from wix_relay.integrations.s3_source import S3Source

        return S3Source(self._aws("s3"))

    @cached_property
    def jobs(self) -> JobStore:
        from wix_relay.integrations.job_store import JobStore

        aws = self.settings.aws
        table = required("RELAY_JOBS_TABLE", aws.jobs_table)
        return JobStore(table, self._aws("dynamodb"), aws.job_retention_s)

    @cached_property
    def queue(self) -> JobQueue:
        from wix_relay.integrations.queue import JobQueue

        return JobQueue(required("RELAY_QUEUE_URL", self.settings.aws.queue_url), self._aws("sqs"))

    # --- the API's use cases --------------------------------------------------------------------
    @cached_property
    def uploads(self) -> Uploads:
        from wix_relay.services.uploads import Uploads

        return Uploads(self.wix_client, self.upload_store_or_none)

    @cached_property
    def imports(self) -> Imports:
        from wix_relay.services.imports import Imports

        return Imports(self.import_ports, self.settings.transfer.default_mode)

    def import_ports(self) -> ImportPorts:
        """S3, the jobs table and the queue, for the API's imports."""
        from wix_relay.domain.errors import RelayError
        from wix_relay.observability import logger
        from wix_relay.services.imports import ImportPorts

        if not self.settings.aws.jobs_table or not self.settings.aws.queue_url:
            logger.error("imports need RELAY_JOBS_TABLE and RELAY_QUEUE_URL")
            raise RelayError("the import service is not configured", code="CONFIGURATION_ERROR")
        return ImportPorts(self.source, self.jobs, self.queue)

    # --- readiness: upload records, Wix events, partner callbacks ------------------------------
    @cached_property
    def upload_store(self) -> UploadStore:
        from wix_relay.integrations.upload_store import UploadStore

        aws = self.settings.aws
        table = required("RELAY_JOBS_TABLE", aws.jobs_table)
        return UploadStore(table, self._aws("dynamodb"), retention_s=aws.job_retention_s)

    def upload_store_or_none(self) -> UploadStore | None:
        """Upload records need the jobs table; without it upload URLs carry no status."""
        return self.upload_store if self.settings.aws.jobs_table else None

    @cached_property
    def event_store(self) -> EventStore:
        from wix_relay.integrations.event_store import EventStore

        table = self.settings.events.table or self.settings.aws.jobs_table
        return EventStore(required("RELAY_EVENTS_TABLE", table), self._aws("dynamodb"))

    @cached_property
    def callback_queue(self) -> CallbackQueue | None:
        from wix_relay.integrations.callback_queue import CallbackQueue

        callbacks = self.settings.callbacks
        if not callbacks.queue_url:
            return None
        return CallbackQueue(callbacks.queue_url, callbacks.dead_letter_queue_url, self._aws("sqs"))

    @cached_property
    def callback_sender(self) -> CallbackSender:
        from wix_relay.integrations.callback_delivery import CallbackSender

        callbacks = self.settings.callbacks
        return CallbackSender(
            allow_loopback=callbacks.allow_loopback,
            connect_timeout_s=callbacks.connect_timeout_s,
            read_timeout_s=callbacks.read_timeout_s,
            max_response_bytes=callbacks.max_response_bytes,
        )

    def _event_key(self) -> str | None:
        """The Wix app's public key (the setting, else the secret, re-read after the secrets
        TTL so a rotated key is picked up); None when events are not configured."""
        events = self.settings.events
        key = events.public_key
        if key is None and events.public_key_secret_id:
            key = self.secrets.get(events.public_key_secret_id)
        if not key or key.strip() in EVENTS_OFF:
            return None
        return key

    def events_configured(self) -> bool:
        """Whether Wix events move jobs, without parsing the key: the worker only asks this, and
        its package has no `cryptography` (docs/deploy.md, "Packages")."""
        return self._event_key() is not None

    def event_verifier(self) -> WixEventVerifier | None:
        """The verifier of the app's public key (`_event_key`); None when events are off."""
        key = self._event_key()
        if key is None:
            return None
        from wix_relay.integrations.wix.events import WixEventVerifier

        events = self.settings.events
        with self.lock:
            cached = self._verifiers.get(key)
            if cached is None:
                cached = WixEventVerifier(
                    key,
                    app_id=events.app_id,
                    verify_caller_claims=events.verify_caller_claims,
                    max_body_bytes=events.max_body_bytes,
                )
                self._verifiers = {key: cached}
            return cached

    def readiness_ports(self) -> ReadinessPorts:
        from wix_relay.services.readiness import ReadinessPorts

        return ReadinessPorts(
            uploads=self.upload_store,
            events=self.event_store,
            callbacks=self.callback_queue,
            callback_target=self.callback_target,
        )

    def callback_target(self, ref: str) -> CallbackTarget | None:
        """A caller's registered callback (URL and signing secret), by its reference."""
        return self.callers.registry().callback_for(ref)

    def deliver_callback(self, body: str, *, receive_count: int, receipt_handle: str) -> None:
        """One attempt of a queued partner callback: signed and POSTed (services.callbacks)."""
        from wix_relay.services.callbacks import deliver_callback_message

        required("RELAY_CALLBACK_QUEUE_URL", self.settings.callbacks.queue_url)
        assert self.callback_queue is not None

        def secret_for(ref: str) -> Any:
            target = self.callback_target(ref)
            return None if target is None else target.secret

        deliver_callback_message(
            body,
            receive_count=receive_count,
            receipt_handle=receipt_handle,
            sender=self.callback_sender,
            queue=self.callback_queue,
            secret_for=secret_for,
            settings=self.settings.callbacks,
        )

    @cached_property
    def readiness(self) -> Readiness:
        from wix_relay.services.readiness import Readiness, ReadinessOptions

        options = ReadinessOptions(
            dedupe_ttl_s=self.settings.events.dedupe_ttl_s,
            state_ttl_s=self.settings.aws.job_retention_s,
        )
        return Readiness(
            self.readiness_ports,
            verifier=self.event_verifier,
            wix=self.wix_client,
            options=options,
        )

    # --- SQS consumers: the worker and the callback consumer -----------------------------------
    @cached_property
    def pool(self) -> ThreadPoolExecutor:
        """The records of one SQS batch run concurrently on this bounded pool."""
        from concurrent.futures import ThreadPoolExecutor

        return ThreadPoolExecutor(max_workers=self.pool_threads, thread_name_prefix="relay")

    def sqs_batch(
        self, event: Mapping[str, Any], record_handler: Callable[[Any], None], context: Any
    ) -> dict[str, Any]:
        """An SQS batch → `{"batchItemFailures"}`: each record through `record_handler` on the
        pool, only the ones that raised reported (redelivered)."""
        from wix_relay.integrations.batch import process_sqs_batch

        return process_sqs_batch(event, record_handler, self.pool, context)

    @cached_property
    def relay(self) -> Relay:
        """S3 objects and import jobs → Wix (S3, the Wix client, the jobs table); `uploaded`
        jobs then go to the readiness service (events, or delayed checks on the queue)."""
        from wix_relay.integrations.batch import MessageVisibility
        from wix_relay.services.relay import ReadinessHooks, Relay, transfer_options
        from wix_relay.services.transfer import Ports

        transfer = self.settings.transfer
        hooks = ReadinessHooks(
            service=lambda: self.readiness,
            events_configured=self.events_configured,
            checks=lambda: self.queue,
            max_checks=transfer.ready_checks,
            first_delay_s=transfer.ready_check_delay_s,
        )
        with self.lock:
            ports = Ports(source=self.source, media=self.wix, jobs=self.jobs)
            return Relay(
                ports,
                transfer_options(self.settings),
                transfer,
                pool=self.pool,
                batch=self.sqs_batch,
                readiness=hooks,
                redelivery=MessageVisibility(lambda: self._aws("sqs")),
            )
