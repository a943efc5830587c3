"""Partner imports: POST /v1/imports, GET /v1/imports/{id} (built by the S3-path work)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]
