"""Property: no request body makes a POST route answer 5xx (the handler as deployed: secrets in
moto, the real Wix emulator; a body good enough to reach Wix gets its upload URL)."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fixtures.api import OPEN_PARTNER_KEY, RelayApi, api_event

ROUTES = ["/v1/upload-url", "/v1/resumable-upload-url", "/v1/imports"]
NAMES = ["mimeType", "fileName", "sizeInBytes", "filePath", "labels", "private", "bucket", "key"]

leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["image/png", "/uploads/a", "wix-relay-inbox", "12", "\u0000", "\ud800"])
)
documents = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(NAMES), inner),
    max_leaves=12,
)


def _deep(depth: int, opener: str) -> str:
    closer = {"[": "]", '{"a":': "}"}[opener]
    return opener * depth + ("1" if opener != "[" else "") + closer * depth


bodies = st.one_of(
    st.builds(
        lambda d: json.dumps({"mimeType": "image/png", "sizeInBytes": 5, **d}),
        st.dictionaries(st.sampled_from(NAMES), documents, max_size=3),
    ),
    documents.map(lambda d: json.dumps(d, allow_nan=True)),
    st.text(max_size=200),
    st.binary(max_size=200),
    st.builds(_deep, st.integers(1, 20_000), st.sampled_from(["[", '{"a":'])),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies, route=st.sampled_from(ROUTES), encoded=st.booleans())
def test_no_body_gives_a_5xx(
    deployed_relay: RelayApi, body: str | bytes, route: str, encoded: bool
) -> None:
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    event: dict[str, Any] = api_event(
        "POST", route, body="{}", headers={"x-api-key": OPEN_PARTNER_KEY}
    )
    if encoded or isinstance(body, bytes):
        event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
    else:
        event["body"], event["isBase64Encoded"] = body, False
    response = deployed_relay(event)
    assert response.status < 500, response.body
    if response.status >= 400:
        assert response.error_code, response.body
