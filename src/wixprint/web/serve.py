"""Run the web app in the caller's nursery: one local listener, optionally a public one.

The **local** listener (``[http] host``/``port``) serves every route: status, dashboard,
metrics, admin, live events, and the webhook paths too (so a single-port reverse proxy still
works). The **public** listener (``[http] public_host``/``public_port``), when configured,
serves only the public routes (``guard.is_public_route``): it is what a tunnel or a TLS reverse
proxy forwards from the internet, and a flood there fills only its own connection cap.

Access logging happens in the app's after_request hook; server errors go to a stdlib logger
and so come out as the service's JSON. Stop it by setting ``shutdown``, never by cancelling:
only then do in-flight requests finish and websockets get 1001.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial
from typing import cast

import trio
from quart_trio import QuartTrio

from wixprint.config import HttpConfig
from wixprint.web.guard import AsgiApp, Guard, HostPolicy
from wixprint.web.limits import Limits, descriptor_limit, fit_descriptor_budget
from wixprint.web.metrics import Metrics
from wixprint.web.server import Endpoint, bind_socket, serve_endpoints

__all__ = ["Address", "Serving", "ServingUrls", "serve_web"]

log = logging.getLogger("wixprint.web.server")


@dataclass(frozen=True, slots=True)
class Address:
    host: str
    port: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Serving:
    """Where and how to serve: the listeners, the limits, and the Host/Origin policy."""

    local: Address = Address("127.0.0.1", 8000)
    public: Address | None = None
    limits: Limits = field(default_factory=Limits)
    policy: HostPolicy = field(default_factory=HostPolicy.build)

    @classmethod
    def from_config(cls, http: HttpConfig) -> Serving:
        return cls(
            local=Address(http.host, http.port),
            public=Address(http.public_host, http.public_port) if http.public_host else None,
            limits=Limits.from_config(http),
            policy=HostPolicy.build(http.allowed_hosts, http.allowed_origins),
        )


@dataclass(frozen=True, slots=True)
class ServingUrls:
    local: str
    """e.g. ``http://127.0.0.1:43123`` (the real port when 0 was asked for)."""
    public: str | None = None


def _budgeted(limits: Limits, listeners: int) -> Limits:
    fitted = fit_descriptor_budget(limits, listeners, descriptor_limit())
    if fitted != limits:
        log.warning(
            "http_connection_cap_reduced",
            extra={
                "limit": fitted.max_connections,
                "connections": limits.max_connections,
                "budget": descriptor_limit(),
            },
        )
    return fitted


async def serve_web(
    app: QuartTrio,
    serving: Serving,
    *,
    shutdown: trio.Event,
    metrics: Metrics,
    task_status: trio.TaskStatus[ServingUrls] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``app`` until ``shutdown`` is set; ``task_status.started`` gets the URLs.

    Raises a plain ``OSError`` naming the address when it cannot listen (port in use,
    address not available), before anything is started.
    """
    addresses = {"local": serving.local}
    if serving.public is not None:
        addresses["public"] = serving.public
    limits = _budgeted(serving.limits, len(addresses))
    endpoints: list[Endpoint] = []
    try:
        for name, address in addresses.items():
            sock = await bind_socket(address.host, address.port)
            policy = partial(
                Guard,
                listener=name,
                public_only=name == "public",
                policy=serving.policy,
                metrics=metrics,
            )
            endpoints.append(Endpoint(name, sock, policy))
    except OSError:
        for endpoint in endpoints:
            endpoint.sock.close()
        raise
    asgi = cast(AsgiApp, app)
    async with trio.open_nursery() as nursery:
        urls: dict[str, str] = await nursery.start(
            partial(
                serve_endpoints, asgi, endpoints, limits=limits, metrics=metrics, shutdown=shutdown
            )
        )
        log.info("http_listening", extra={"url": urls["local"]})
        if "public" in urls:
            log.info("http_listening", extra={"url": urls["public"], "listener": "public"})
        task_status.started(ServingUrls(urls["local"], urls.get("public")))
    log.info("http_stopped")
