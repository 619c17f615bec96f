"""The quart-trio application: status, metrics, webhook, reprint, live events, dashboard.

``create_app`` takes a ``WebDeps`` and nothing else, so the whole HTTP surface runs against
fakes in tests. The app has no lifespan hooks: whatever must be ready before the first
request is prepared by the caller before ``serve_web`` starts (trio-stack.md §2.2).
"""

from __future__ import annotations

import logging
import time

from quart import Response, g, has_request_context, has_websocket_context, request, websocket
from quart_trio import QuartTrio
from werkzeug.exceptions import HTTPException

from wixprint.errors import DependencyUnavailable, SpoolError
from wixprint.web.dashboard import register_dashboard_route
from wixprint.web.deps import WebDeps
from wixprint.web.guard import PUBLIC_PREFIX, is_public_route
from wixprint.web.responses import error_response
from wixprint.web.routes_actions import MAX_WEBHOOK_BODY, register_action_routes
from wixprint.web.routes_admin import register_admin_routes
from wixprint.web.routes_status import register_status_routes
from wixprint.web.routes_ws import register_ws_routes

__all__ = ["create_app"]

log = logging.getLogger("wixprint.web")

_QUIET_PATHS = frozenset({"/health", "/metrics"})
"""Polled every few seconds by monitors: logged at DEBUG so the journal stays readable."""


def create_app(deps: WebDeps) -> QuartTrio:
    app = QuartTrio("wixprint.web")
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_WEBHOOK_BODY,
        BODY_TIMEOUT=10,
        RESPONSE_TIMEOUT=30,
        PROPAGATE_EXCEPTIONS=False,
    )
    register_status_routes(app, deps)
    register_action_routes(app, deps)
    register_admin_routes(app, deps)
    register_ws_routes(app, deps)
    register_dashboard_route(app, deps)
    _register_hooks(app)
    _register_error_handlers(app)
    return app


def _register_hooks(app: QuartTrio) -> None:
    @app.before_request
    async def start_timer() -> None:
        g.started = time.perf_counter()

    @app.after_request
    async def finish(response: Response) -> Response:
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        started: float = g.get("started", time.perf_counter())
        status = response.status_code
        level = logging.INFO
        if request.path in _QUIET_PATHS and status < 500:
            level = logging.DEBUG
        elif status >= 500:
            level = logging.WARNING
        # Path only: never the query string, headers (token) or body (webhook).
        log.log(
            level,
            "http_request",
            extra={
                "method": request.method,
                "path": _loggable_path(),
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response


def _register_error_handlers(app: QuartTrio) -> None:
    @app.errorhandler(HTTPException)
    async def http_error(exc: HTTPException) -> Response:
        code = exc.code or 500
        return error_response(code, (exc.name or "error").lower())

    @app.errorhandler(DependencyUnavailable)
    async def dependency_down(exc: DependencyUnavailable) -> Response:
        log.warning("http_dependency_unavailable", extra={"error_type": type(exc).__name__})
        return error_response(503, "temporarily unavailable")

    @app.errorhandler(SpoolError)
    async def spool_down(exc: SpoolError) -> Response:
        log.error("http_spool_error", extra={"error_type": type(exc).__name__})
        return error_response(503, "spool unavailable")

    @app.errorhandler(Exception)
    async def internal_error(exc: Exception) -> Response:
        log.error(
            "http_handler_failed",
            exc_info=exc,
            extra={"path": _current_path(), "error_type": type(exc).__name__},
        )
        return error_response(500, "internal error")


def _loggable_path() -> str:
    """The request's path, except that a public route is logged as its route template
    (``/webhooks/automation/<token>``): its path may carry a secret. Cut at 200 characters."""
    if is_public_route(request.method, request.path):
        rule = request.url_rule
        return rule.rule if rule is not None else PUBLIC_PREFIX + "..."
    return request.path[:200]


def _current_path() -> str:
    if has_request_context():
        return _loggable_path()
    if has_websocket_context():
        return websocket.path
    return ""
