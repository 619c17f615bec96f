"""The ``printers`` alert channel: a problem prints a slip on the printers that still work.

Delivering a message here means queueing a spool job per chosen printer (``SlipSink``, the
alerter's handle on the spool and the printers' state): the printer actors print it like any
ticket, after every order ticket already waiting, with proof and without blind resends. The
slip is keyed by its problem, kind and raise time, so a delivery repeated after a crash or a
restart queues nothing twice. Which messages print, and where: ``slips.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from wixprint.alerts.channels import AlertMessage, ChannelCheck
from wixprint.alerts.slips import AlertSlip, slip_printers, wants_slip
from wixprint.config import Config
from wixprint.errors import AlertChannelUnavailable, SpoolError

__all__ = ["PrinterSlipChannel", "SlipSink", "announce_targets"]


class SlipSink(Protocol):
    def working(self) -> Mapping[str, bool]:
        """Per printer, whether it can print now (absent: not known yet)."""
        ...

    async def enqueue(self, slip: AlertSlip, printers: Sequence[str]) -> Sequence[str]:
        """Queue ``slip`` on ``printers`` once; the printers that got it now (none when it
        was queued before). Raises ``SpoolError``."""
        ...

    async def announced(self, key: str) -> Sequence[str]:
        """The printers the latest raise slip about problem ``key`` was queued on.
        Raises ``SpoolError``."""
        ...


def announce_list(config: Config) -> list[str] | None:
    """``[alerts] announce_printers`` as a list of names; None for "all"."""
    announce = config.alerts.announce_printers
    return None if announce == "all" else list(announce)


def announce_targets(config: Config) -> tuple[str, ...]:
    """The printers ``[alerts] announce_printers`` allows to print slips."""
    names = [p.name for p in config.printers]
    announce = announce_list(config)
    return tuple(names if announce is None else [n for n in names if n in announce])


class PrinterSlipChannel:
    name = "printers"

    def __init__(self, config: Config, sink: SlipSink) -> None:
        self._config = config
        self._sink = sink
        self._printers = [p.name for p in config.printers]

    @property
    def levels(self) -> frozenset[str]:
        """Every problem that prints a slip is critical (``slips.SLIP_CATEGORIES``)."""
        return frozenset({"critical"})

    def describe(self) -> str:
        return "printers " + ", ".join(announce_targets(self._config))

    async def deliver(self, message: AlertMessage) -> None:
        facts = message.facts
        alerts = self._config.alerts
        if facts is None or not wants_slip(
            message.kind, facts, announce_resolved=alerts.announce_resolved
        ):
            return
        printers = slip_printers(
            self._printers, announce_list(self._config), facts, self._sink.working()
        )
        slip = AlertSlip(
            key=message.key, kind=message.kind, raised_at=message.raised_at, facts=facts
        )
        try:
            if printers and slip.kind == "resolve":
                told = set(await self._sink.announced(slip.key))
                printers = tuple(p for p in printers if p in told)
            if printers:  # none: no other printer can print now (the other channels tell)
                await self._sink.enqueue(slip, printers)
        except SpoolError as exc:
            raise AlertChannelUnavailable(f"cannot queue the slip: {exc}", stage="queue") from exc

    async def check(self, message: AlertMessage) -> list[ChannelCheck]:
        """Slips are spool jobs of the running service: ``wixprint test-print`` tests the
        printers themselves; here only where slips would go."""
        targets = announce_targets(self._config)
        return [
            ChannelCheck(
                channel=self.name,
                target=", ".join(targets),
                ok=True,
                stage="ok",
                message="alert slips print on these printers while the service runs "
                "(wixprint test-print checks each printer)",
            )
        ]
