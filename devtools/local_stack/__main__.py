"""`make run` / `python -m local_stack`: start the local stack, print how to use it, run until
Ctrl-C. Configuration: RELAY_PORT, WIX_EMULATOR_PORT, AWS_ENDPOINT_PORT, RELAY_DEMO_PORT,
RELAY_CALLBACK_RECEIVER_PORT, RELAY_DEV_API_KEY, RELAY_INBOX_BUCKET, and real Wix credentials
(see docs/local-stack.md)."""

from __future__ import annotations

import shlex
import signal
import sys
import threading
from pathlib import Path

from local_stack import resources as r
from local_stack.sample import sample_png
from local_stack.stack import RunningStack, StackConfig, StackError, start_stack

_EXTRACT = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"{field}\"])'"


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def usage(stack: RunningStack, sample: str, sample_size: int, python: str) -> str:
    """The banner: endpoints, the dev key, and commands to paste (`python` has boto3)."""
    c = stack.config
    key = shlex.quote(c.dev_api_key)
    bucket = stack.deployed.inbox_bucket
    aws = stack.aws_url
    emulator = stack.emulator_url
    wix = (
        f"{emulator}   (Wix emulator; what it stored: {emulator}/_emulator/files)"
        if emulator
        else f"{stack.wix_api_base_url}   (REAL Wix: credentials from WIX_* variables)"
    )
    key_note = (
        "generated; set RELAY_DEV_API_KEY to keep one"
        if c.dev_key_generated
        else "from RELAY_DEV_API_KEY"
    )
    creds = f"AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION={r.REGION}"
    boto = (
        f"{python} -c \"import boto3; boto3.client('s3', endpoint_url='"
        + aws
        + f"', region_name='{r.REGION}', aws_access_key_id='testing', "
        "aws_secret_access_key='testing').upload_file('"
        + sample
        + "', '"
        + bucket
        + "', 'any/folder/photo.png')\""
    )
    receiver = stack.receiver.base_url if stack.receiver else ""
    files = (
        f"curl -s {emulator}/_emulator/files"
        if emulator
        else "# (real Wix: see the site's Media Manager)"
    )
    lines = [
        f"Wix Media Relay — local stack ready in {stack.started_in_s:.1f} s (Ctrl-C stops it)",
        "",
        f"  relay API     {stack.relay_url}   (API function behind a local API Gateway)",
        f"  Wix           {wix}",
        f"  AWS (moto)    {aws}   region {r.REGION}, keys testing/testing",
        f"  inbox         s3://{bucket} → SQS {r.QUEUE_NAME} (DLQ {r.DLQ_NAME}) → worker function",
        f"  demo page     {stack.demo_url}   (sends a dev JWT: Authorization: Bearer)",
        *(
            [
                f"  callbacks     {receiver}/deliveries   (the dev key's callback URL "
                f"{stack.receiver.url}: SQS {r.CALLBACK_QUEUE_NAME} → callback function → "
                "this receiver, which verifies each with standardwebhooks)"
            ]
            if stack.receiver and receiver
            else []
        ),
        f"  dev API key   {c.dev_api_key}   ({key_note})",
        *(
            [f"  dev JWT       issuer {stack.identity.issuer}   (JWKS {stack.identity.jwks_url})"]
            if stack.identity
            else []
        ),
        *(f"  note          {note}" for note in stack.notes),
        f"  function env  {_relative(stack.env_file)}   (used by make invoke)",
        "",
        "Try it (copy and paste; for another file, change its name, type and size):",
        f"  export RELAY={stack.relay_url} KEY={key} RECEIVER={receiver}",
        "  curl -s $RELAY/v1/health",
        "",
        "  # 1. Upload URL (what a browser does): ask the relay, then PUT the file to the URL",
        '  ISSUED=$(curl -s -X POST $RELAY/v1/upload-url -H "x-api-key: $KEY" \\',
        "      -H 'content-type: application/json' \\",
        '      -d \'{"mimeType":"image/png","fileName":"sample.png",'
        f'"sizeInBytes":{sample_size}}}\')',
        '  UPLOAD_URL=$(echo "$ISSUED" | ' + _EXTRACT.format(field="uploadUrl") + ")",
        '  UPLOAD_ID=$(echo "$ISSUED" | ' + _EXTRACT.format(field="uploadId") + ")",
        f"  curl -s -T {sample} -H 'content-type: image/png' \"$UPLOAD_URL\"",
        "  # the emulator's File Ready event moves the upload to ready (docs/readiness.md):",
        '  curl -s "$RELAY/v1/uploads/$UPLOAD_ID?waitSeconds=8" -H "x-api-key: $KEY"',
        "  # ...and the dev key has a callback: the receiver got upload.ready, signed per",
        "  # Standard Webhooks and verified with the standardwebhooks package (docs/api.md):",
        '  curl -s "$RECEIVER/deliveries?subject=$UPLOAD_ID&waitSeconds=10"',
        "",
        "  # 2. S3 → Wix: drop a file in the inbox; the worker puts it in Wix at /any/folder/",
        f"  {creds} \\",
        f"      aws s3 cp {sample} s3://{bucket}/any/folder/photo.png --endpoint-url {aws}",
        f"  {boto}   # same, without the aws CLI",
        f"  {files}",
        "",
        "  # 3. Partner import: move an S3 object into Wix, then poll the job",
        '  JOB=$(curl -s -X POST $RELAY/v1/imports -H "x-api-key: $KEY" \\',
        "      -H 'content-type: application/json' -H 'Idempotency-Key: demo-1' \\",
        f'      -d \'{{"bucket":"{bucket}","key":"any/folder/photo.png"}}\' | '
        + _EXTRACT.format(field="id")
        + ")",
        '  curl -s $RELAY/v1/imports/$JOB -H "x-api-key: $KEY"',
        "  # when it is ready (or failed), its import.ready callback is at the receiver:",
        '  curl -s "$RECEIVER/deliveries?subject=$JOB&waitSeconds=25"',
        "",
        f"  # 4. Browser: open {stack.demo_url} and drop files (above 10 MB: resumable TUS)",
        "  # 5. One event, one function: make invoke FUNCTION=api EVENT=events/api/health.json",
    ]
    return "\n".join(lines)


def main() -> int:
    try:
        config = StackConfig.from_env()
        print("starting the local stack…", file=sys.stderr)
        stack = start_stack(config)
    except StackError as exc:
        print(f"local stack: {exc}", file=sys.stderr)
        return 2
    sample = config.state_dir / "sample.png"
    sample.write_bytes(png := sample_png())
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        python = _relative(Path(sys.executable))
        print(usage(stack, _relative(sample), len(png), python), flush=True)
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping…", file=sys.stderr)
        stack.stop()
        print("stopped.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
