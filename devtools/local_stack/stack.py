"""The whole local stack: moto (server mode), the Wix emulator, the bootstrap, the API function
behind the local gateway, the worker function on its queue, the callback function on the
callback queue, the dev key's webhook receiver, and the demo page — on loopback.

moto, the emulator, the receiver and the demo page run in this process (threads); each relay
function runs in
its own process with its own environment, as on Lambda. `start_stack(StackConfig(...))` is used by
`python -m local_stack` and by the e2e test fixture (ports 0 = free ports).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from wix_emulator.config import EmulatorConfig

from local_stack import resources as r
from local_stack.bootstrap import DEV_POLICY, Deployed, bootstrap, dev_caller_registry
from local_stack.child import REPO_ROOT, ChildFailed, ChildProcess
from local_stack.demo_server import DemoServer
from local_stack.dev_identity import DevIdentityProvider, merge_registries
from local_stack.webhook_receiver import WebhookReceiver

LOOPBACK = "127.0.0.1"
ENV_FILE = "env.json"

# Variables that configure the stack itself (never passed to the functions), and the real Wix
# credential variables (they go into the Secrets Manager secret, never into an environment).
# WIX_EMULATOR_* configure the embedded emulator (EmulatorConfig.from_env reads them all); they
# are not the functions' configuration either (and WIX_EMULATOR_API_KEY is a credential).
STACK_VARIABLES = frozenset(
    {
        "RELAY_PORT",
        "RELAY_DEMO_PORT",
        "AWS_ENDPOINT_PORT",
        "RELAY_DEV_API_KEY",
        "RELAY_CALLBACK_RECEIVER_PORT",
    }
)
EMULATOR_PREFIX = "WIX_EMULATOR_"
WIX_API_KEY_VARIABLES = ("WIX_API_KEY", "WIX_SITE_ID")
WIX_APP_VARIABLES = ("WIX_APP_ID", "WIX_APP_SECRET", "WIX_INSTANCE_ID")
_PASSTHROUGH_PREFIXES = ("RELAY_", "WIX_", "POWERTOOLS_")


class StackError(RuntimeError):
    """The stack could not start; the message says what to change."""


def real_wix_credentials(environ: Mapping[str, str]) -> dict[str, str] | None:
    """The Wix credential document when real credentials are in the environment, else None."""
    for names, keys in (
        (WIX_API_KEY_VARIABLES, ("apiKey", "siteId")),
        (WIX_APP_VARIABLES, ("appId", "appSecret", "instanceId")),
    ):
        present = [n for n in names if environ.get(n, "").strip()]
        if present and len(present) < len(names):
            missing = ", ".join(n for n in names if n not in present)
            raise StackError(f"real Wix credentials are incomplete: also set {missing}")
        if present:
            return {k: environ[n].strip() for n, k in zip(names, keys, strict=True)}
    return None


def _port(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) > 65535:
        raise StackError(f"{name} must be a port number (0 = any free port), not {raw!r}")
    return int(raw)


def emulator_config(environ: Mapping[str, str]) -> EmulatorConfig:
    """The embedded emulator's configuration: every WIX_EMULATOR_* variable docs/emulator.md
    documents, read by the emulator's own `EmulatorConfig.from_env` (the one place that reads
    them). Unset: the emulator's defaults, on loopback."""
    _port(environ, "WIX_EMULATOR_PORT", 0)  # a clear message for a bad port
    try:
        return EmulatorConfig.from_env(environ)
    except ValueError as exc:
        raise StackError(str(exc)) from exc


@dataclass
class StackConfig:
    relay_port: int = 3000
    emulator_port: int = 3001
    """Where the emulator listens (its `emulator.port` when read from the environment)."""
    emulator: EmulatorConfig = field(default_factory=lambda: EmulatorConfig(host=LOOPBACK))
    """The embedded emulator's settings (WIX_EMULATOR_*); its credential becomes the one the
    relay's Wix secret holds."""
    aws_port: int = 4566
    demo_port: int = 8000
    receiver_port: int = 0
    """The dev key's callback receiver (RELAY_CALLBACK_RECEIVER_PORT; 0 = any free port)."""
    dev_api_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    dev_key_generated: bool = True
    inbox_bucket: str = r.DEFAULT_INBOX_BUCKET
    real_wix: dict[str, str] | None = None
    """Wix credential document from the environment; None = use the emulator."""
    relay_env: dict[str, str] = field(default_factory=dict)
    """Extra function configuration (RELAY_*/WIX_* tuning variables from the environment)."""
    state_dir: Path = field(default_factory=lambda: REPO_ROOT / ".local-stack")
    log_dir: Path | None = None
    """None: the functions log to this terminal; else to <log_dir>/<function>.log."""
    visibility_timeout_s: int = r.QUEUE_VISIBILITY_TIMEOUT_S
    handlers: dict[str, str] = field(default_factory=dict)
    """Per function key, a handler to run instead of the template's (tests only)."""
    worker_instances: int = 1
    """Worker processes polling the queue at once (deployed: up to `WorkerConcurrency`)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StackConfig:
        env = os.environ if environ is None else environ
        key = env.get("RELAY_DEV_API_KEY", "").strip()
        passthrough = {
            name: value
            for name, value in env.items()
            if name.startswith(_PASSTHROUGH_PREFIXES)
            and name not in STACK_VARIABLES
            and not name.startswith(EMULATOR_PREFIX)
            and name not in (*WIX_API_KEY_VARIABLES, *WIX_APP_VARIABLES)
        }
        emulator = emulator_config(env)
        config = cls(
            relay_port=_port(env, "RELAY_PORT", 3000),
            emulator_port=emulator.port,
            emulator=emulator,
            aws_port=_port(env, "AWS_ENDPOINT_PORT", 4566),
            demo_port=_port(env, "RELAY_DEMO_PORT", 8000),
            receiver_port=_port(env, "RELAY_CALLBACK_RECEIVER_PORT", 0),
            inbox_bucket=env.get("RELAY_INBOX_BUCKET", "").strip() or r.DEFAULT_INBOX_BUCKET,
            real_wix=real_wix_credentials(env),
            relay_env=passthrough,
        )
        if key:
            config.dev_api_key, config.dev_key_generated = key, False
        return config


@dataclass
class RunningStack:
    config: StackConfig
    relay_url: str
    aws_url: str
    demo_url: str
    emulator_url: str | None
    wix_api_base_url: str
    deployed: Deployed
    function_env: dict[str, dict[str, str]]
    """Per function key, its configuration (what template.yaml gives it, resolved locally)."""
    env_file: Path
    started_in_s: float
    identity: DevIdentityProvider | None = None
    """The demo page's identity provider (its JWKS is in the caller registry)."""
    receiver: WebhookReceiver | None = None
    """The dev key's callback URL: every delivery verified with `standardwebhooks`."""
    notes: list[str] = field(default_factory=list)
    """Things the banner must say (e.g. how RELAY_CALLERS_JSON was treated)."""
    _stoppers: list[Any] = field(default_factory=list, repr=False)

    def stop(self) -> None:
        while self._stoppers:
            with contextlib.suppress(Exception):
                self._stoppers.pop()()

    def __enter__(self) -> RunningStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _listen(port: int, variable: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LOOPBACK, port))
    except OSError as exc:
        sock.close()
        raise StackError(f"port {port} is in use ({exc.strerror}); set {variable}") from exc
    sock.listen(128)
    return sock


def _ensure_free(port: int, variable: str) -> None:
    if port:
        _listen(port, variable).close()


def function_environment(
    function: r.FunctionSpec,
    config: StackConfig,
    deployed: Deployed,
    *,
    aws_url: str,
    wix_base_url: str,
    upload_hosts: str,
    demo_port: int,
    events_public_key: str | None = None,
) -> dict[str, str]:
    """One function's configuration: the variables template.yaml gives it (Globals + its own),
    resolved to the local resources, plus the local AWS endpoint and dummy credentials.
    RELAY_*/WIX_*/POWERTOOLS_* variables set in the shell are passed on as overrides."""
    origins = [f"http://{LOOPBACK}:{demo_port}", f"http://localhost:{demo_port}"]
    extra = config.relay_env.get("RELAY_CORS_ORIGINS", "")
    origins += [o.strip() for o in extra.split(",") if o.strip() and o.strip() not in origins]
    resolved = {
        **r.PARAMETER_DEFAULTS,
        "WIX_API_BASE_URL": wix_base_url,
        "WIX_UPLOAD_HOSTS": upload_hosts,
        "WIX_CREDENTIALS_SECRET_ID": deployed.wix_secret_id,
        "RELAY_JOBS_TABLE": deployed.jobs_table,
        "RELAY_QUEUE_URL": deployed.queue_url,
        "RELAY_CALLERS_SECRET_ID": deployed.callers_secret_id,
        "RELAY_CORS_ORIGINS": ",".join(origins),
        "RELAY_CALLBACK_QUEUE_URL": deployed.callback_queue_url,
        "RELAY_CALLBACK_DLQ_URL": deployed.callback_dlq_url,
        # Local: the emulator's key is given directly (WIX_EVENTS_PUBLIC_KEY, below).
        "WIX_EVENTS_PUBLIC_KEY_SECRET_ID": "",
    }
    overrides = {
        k: v
        for k, v in config.relay_env.items()
        if (k not in resolved or k in r.PARAMETER_DEFAULTS) and k != "RELAY_CORS_ORIGINS"
    }
    env = {name: resolved[name] for name in (*r.GLOBAL_VARIABLES, *function.variables)}
    env.update(function.fixed)
    env.update(function.local)
    env.update(overrides)
    if events_public_key:
        # Local only: deployed, the key is a secret (WIX_EVENTS_PUBLIC_KEY_SECRET_ID). The API
        # verifies the emulator's events with it; the worker then leaves jobs to the events.
        env.setdefault("WIX_EVENTS_PUBLIC_KEY", events_public_key)
    return {
        **env,
        "AWS_ENDPOINT_URL": aws_url,
        "AWS_REGION": r.REGION,
        "AWS_DEFAULT_REGION": r.REGION,
        **r.DUMMY_CREDENTIALS,
    }


def process_environment(
    function: r.FunctionSpec, function_env: Mapping[str, str]
) -> dict[str, str]:
    """What a function process sees: its configuration plus what the Lambda runtime sets, and
    nothing from the developer's shell or ~/.aws (as on Lambda)."""
    return {
        **_base_environment(),
        **function_env,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
    }


def _base_environment() -> dict[str, str]:
    keep = {"PATH", "LANG", "LC_ALL", "TZ", "HOME"}
    return {
        **{k: v for k, v in os.environ.items() if k in keep},
        "PYTHONPATH": os.pathsep.join(
            str(p) for p in (REPO_ROOT / "src", REPO_ROOT / "devtools", REPO_ROOT)
        ),
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def _start_moto(port: int, log_dir: Path | None) -> ChildProcess:
    return ChildProcess(
        "moto",
        "local_stack.moto_process",
        ["--port", str(port)],
        _base_environment(),
        log_dir=log_dir,
    )


def _moto_url(moto: ChildProcess) -> str:
    try:
        return f"http://{LOOPBACK}:{int(moto.wait_ready())}"
    except (ChildFailed, ValueError) as exc:
        raise StackError(f"moto did not start: {exc}") from exc


def _start_function(
    spec: r.FunctionSpec,
    env: dict[str, str],
    *,
    handler: str | None,
    listen: socket.socket | None,
    queue_url: str,
    log_dir: Path | None,
    name: str | None = None,
) -> ChildProcess:
    args = [spec.key]
    if spec.batch is not None:  # what the SQS event source mapping knows, not the function
        args += ["--queue-url", queue_url]
    fds: tuple[int, ...] = ()
    if listen is not None:
        args += ["--listen-fd", str(listen.fileno())]
        fds = (listen.fileno(),)
    if handler:
        args += ["--handler", handler]
    return ChildProcess(
        name or spec.key, "local_stack.function", args, env, pass_fds=fds, log_dir=log_dir
    )


def _queue_of(spec: r.FunctionSpec, deployed: Deployed) -> str:
    """The queue an SQS-triggered function's event source mapping polls."""
    return deployed.callback_queue_url if spec is r.CALLBACK_FUNCTION else deployed.queue_url


def _log_to(config: StackConfig, name: str) -> Any:
    """A line logger: to <log_dir>/<name>.log, or to this terminal."""
    if config.log_dir is None:
        return None  # the receiver's default: stderr
    config.log_dir.mkdir(parents=True, exist_ok=True)
    path = config.log_dir / f"{name}.log"

    def log(line: str) -> None:
        with path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")

    return log


def _start_emulator(config: EmulatorConfig, port: int) -> Any:
    from wix_emulator import start_emulator

    return start_emulator(replace(config, port=port), port)


def emulator_upload_hosts(emulator: Any) -> str:
    """WIX_UPLOAD_HOSTS for the emulator: the host of the upload URLs it hands out."""
    public = emulator.config.public_base_url
    return urlsplit(public).netloc if public else str(emulator.upload_host)


def write_private(path: Path, text: str) -> None:
    """Write `text` to a file only its owner can read: created 0600 (never readable by others,
    not even for a moment), then moved into place."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(partial, 0o600)  # an existing partial file keeps its old mode through O_CREAT
    os.replace(partial, path)


def _write_env_file(stack: RunningStack) -> None:
    """.local-stack/env.json for `make invoke`: the functions' environments (no Wix credential:
    that is only in the Secrets Manager secret) and the dev API key — a credential, hence 0600."""
    stack.config.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    stack.config.state_dir.chmod(0o700)
    (stack.config.state_dir / ".gitignore").write_text("*\n")
    document = {
        "relayUrl": stack.relay_url,
        "awsEndpointUrl": stack.aws_url,
        "wixApiBaseUrl": stack.wix_api_base_url,
        "wixEmulatorUrl": stack.emulator_url,
        "demoUrl": stack.demo_url,
        "callbackReceiverUrl": stack.receiver.base_url if stack.receiver else None,
        "devApiKey": stack.config.dev_api_key,
        "inboxBucket": stack.deployed.inbox_bucket,
        "functions": {
            key: process_environment(spec, stack.function_env[key])
            for key, spec in r.FUNCTIONS.items()
        },
    }
    write_private(stack.env_file, json.dumps(document, indent=2) + "\n")


def _keep_dev_callers(
    env: dict[str, dict[str, str]],
    config: StackConfig,
    jwt_issuer: dict[str, Any],
    callback: dict[str, str],
) -> list[str]:
    """A RELAY_CALLERS_JSON from the shell wins over the dev registry's secret; merge the dev key
    and the demo's issuer into it (in place) so neither is silently disabled."""
    given = config.relay_env.get("RELAY_CALLERS_JSON")
    if given is None:
        return []
    dev = dev_caller_registry(
        hashlib.sha256(config.dev_api_key.encode()).hexdigest(),
        config.inbox_bucket,
        jwt_issuer,
        callback,
    )
    merged, note = merge_registries(given, dev)
    for function_env in env.values():
        if "RELAY_CALLERS_JSON" in function_env:
            function_env["RELAY_CALLERS_JSON"] = merged
    return [note] if note else []


def start_stack(config: StackConfig) -> RunningStack:
    """Start everything and return once the relay answers; `stop()` undoes it all."""
    started = time.monotonic()
    stoppers: list[Any] = []

    def undo() -> None:
        while stoppers:
            with contextlib.suppress(Exception):
                stoppers.pop()()

    try:
        for port, variable in (
            (config.aws_port, "AWS_ENDPOINT_PORT"),
            (config.demo_port, "RELAY_DEMO_PORT"),
            (config.receiver_port, "RELAY_CALLBACK_RECEIVER_PORT"),
            (0 if config.real_wix else config.emulator_port, "WIX_EMULATOR_PORT"),
        ):
            _ensure_free(port, variable)
        listen = _listen(config.relay_port, "RELAY_PORT")
        stoppers.append(listen.close)
        relay_url = f"http://{LOOPBACK}:{listen.getsockname()[1]}"

        moto = _start_moto(config.aws_port, config.log_dir)  # starts while the emulator does
        stoppers.append(moto.stop)
        emulator_url: str | None = None
        if config.real_wix is None:
            # Wix's File Ready / File Failed go to the relay's events route (docs/readiness.md).
            events_url = f"{relay_url}/v1/wix/events"
            webhooks = (*config.emulator.webhook_urls, events_url)
            emulator = _start_emulator(
                replace(config.emulator, webhook_urls=webhooks), config.emulator_port
            )
            stoppers.append(emulator.stop)
            events_public_key = emulator.webhook_public_key
            emulator_url = wix_base_url = emulator.url
            upload_hosts = emulator_upload_hosts(emulator)
            credentials = emulator.credentials_document()
        else:
            events_public_key = None
            credentials = config.real_wix
            wix_base_url = config.relay_env.get("WIX_API_BASE_URL") or "https://www.wixapis.com"
            upload_hosts = config.relay_env.get("WIX_UPLOAD_HOSTS") or "upload.wixmp.com"

        identity = DevIdentityProvider(LOOPBACK)
        stoppers.append(identity.stop)
        jwt_issuer = identity.registry_entry(DEV_POLICY)
        receiver = WebhookReceiver(LOOPBACK, config.receiver_port, log=_log_to(config, "receiver"))
        stoppers.append(receiver.stop)
        callback = {"url": receiver.url, "secret": receiver.secret}
        aws_url = _moto_url(moto)
        deployed = bootstrap(
            aws_url,
            wix_credentials=credentials,
            dev_key_sha256=hashlib.sha256(config.dev_api_key.encode()).hexdigest(),
            inbox_bucket=config.inbox_bucket,
            visibility_timeout_s=config.visibility_timeout_s,
            jwt_issuer=jwt_issuer,
            callback=callback,
        )
        demo = DemoServer(config.demo_port, relay_url=relay_url, token=identity.issue)
        stoppers.append(demo.stop)
        env = {
            spec.key: function_environment(
                spec,
                config,
                deployed,
                aws_url=aws_url,
                wix_base_url=wix_base_url,
                upload_hosts=upload_hosts,
                demo_port=demo.port,
                events_public_key=events_public_key,
            )
            for spec in r.FUNCTIONS.values()
        }
        notes = _keep_dev_callers(env, config, jwt_issuer, callback)
        processes = [
            _start_function(
                spec,
                process_environment(spec, env[spec.key]),
                handler=config.handlers.get(spec.key),
                listen=listen if spec is r.API_FUNCTION else None,
                queue_url=_queue_of(spec, deployed),
                log_dir=config.log_dir,
            )
            for spec in r.FUNCTIONS.values()
        ]
        processes += [  # more containers on the same queue, as Lambda scales the mapping out
            _start_function(
                r.WORKER_FUNCTION,
                process_environment(r.WORKER_FUNCTION, env[r.WORKER_FUNCTION.key]),
                handler=config.handlers.get(r.WORKER_FUNCTION.key),
                listen=None,
                queue_url=deployed.queue_url,
                log_dir=config.log_dir,
                name=f"{r.WORKER_FUNCTION.key}-{n}",
            )
            for n in range(2, config.worker_instances + 1)
        ]
        stoppers += [p.stop for p in processes]
        for process in processes:
            try:
                process.wait_ready()
            except ChildFailed as exc:
                raise StackError(f"the {process.name} function: {exc}") from exc
        stack = RunningStack(
            config=config,
            relay_url=relay_url,
            aws_url=aws_url,
            demo_url=demo.url,
            emulator_url=emulator_url,
            wix_api_base_url=wix_base_url,
            deployed=deployed,
            function_env=env,
            env_file=config.state_dir / ENV_FILE,
            started_in_s=time.monotonic() - started,
            identity=identity,
            receiver=receiver,
            notes=notes,
            _stoppers=stoppers,
        )
        _write_env_file(stack)
        stoppers.insert(0, lambda: stack.env_file.unlink(missing_ok=True))
        return stack
    except BaseException:
        undo()
        raise
