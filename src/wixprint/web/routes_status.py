"""Read-only status routes: health, recovery, connectivity, metrics, recent orders."""

from __future__ import annotations

import os

from quart import Response, request
from quart_trio import QuartTrio

from wixprint.version import package_version
from wixprint.web.deps import WebDeps
from wixprint.web.responses import error_response, json_response

__all__ = ["DEFAULT_ORDERS_LIMIT", "MAX_ORDERS_LIMIT", "parse_limit", "register_status_routes"]

DEFAULT_ORDERS_LIMIT = 50
MAX_ORDERS_LIMIT = 500


def parse_limit(raw: str | None) -> int | None:
    """``?limit=`` as an int in 1..MAX_ORDERS_LIMIT, the default when absent, None if bad."""
    if raw is None or raw == "":
        return DEFAULT_ORDERS_LIMIT
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6:
        return None
    limit = int(raw)
    return limit if 1 <= limit <= MAX_ORDERS_LIMIT else None


def register_status_routes(app: QuartTrio, deps: WebDeps) -> None:
    @app.get("/health")
    async def health() -> Response:
        snapshot = deps.health()
        # version and pid: an upgrade proves that the unit's new process is what answers.
        body = {**snapshot.to_json(), "version": package_version(), "pid": os.getpid()}
        return json_response(body, 503 if snapshot.status == "down" else 200)

    @app.get("/recovery/status")
    async def recovery_status() -> Response:
        return json_response(deps.recovery())

    @app.get("/connectivity/status")
    async def connectivity_status() -> Response:
        return json_response(deps.connectivity())

    @app.get("/metrics")
    async def metrics() -> Response:
        body, content_type = deps.metrics.render(request.headers.get("Accept"))
        response: Response = app.response_class(body, content_type=content_type)
        return response

    @app.get("/orders")
    async def orders() -> Response:
        limit = parse_limit(request.args.get("limit"))
        if limit is None:
            return error_response(400, f"limit must be an integer from 1 to {MAX_ORDERS_LIMIT}")
        rows = await deps.orders(limit)
        return json_response({"orders": list(rows), "limit": limit})
