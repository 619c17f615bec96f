"""Waiting for a ticket's proof on an open link, polling status meanwhile.

Over TCP a status request waits behind the data the printer has not read yet (escpos.md
§12), so during a long ticket silence is our own ticket, not a lost printer: it counts only
once the wait for proof is over. A printer that reports a fault holds the ticket and prints
it later: the wait lasts while it does.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Collection

import trio

from wixprint.printing.link import LOST_AFTER, STATUS_ROUNDS, Lost, PrinterLink, Silent
from wixprint.vocabulary import PrinterStatus

__all__ = ["KEEPALIVE", "Unproven", "wait_confirmed"]

KEEPALIVE = LOST_AFTER
"""While earlier status requests go unanswered, another one only this often; a request this
old no longer holds polling back (it may have been ignored while the printer sent block
data)."""


class Unproven(Lost):
    """The printer answered status all along but never confirmed the ticket."""


async def wait_confirmed(
    link: PrinterLink,
    tags: Collection[bytes],
    wait: float,
    *,
    poll: Callable[[int], Awaitable[PrinterStatus]],
    poll_interval: float,
) -> None:
    """Wait for proof: ``37 22 tag 00`` for one of ``tags``, or with no tags (status
    proof) a healthy status read after sending. ``wait`` seconds of healthy status, and
    indefinitely while the printer reports a fault (it holds the ticket and prints it
    later).

    Status is polled meanwhile. A poll that goes unanswered most likely waits behind the
    rest of our own ticket in the printer's buffer (TCP, escpos.md §12): no new poll is
    sent until it is answered, and silence counts only once ``wait`` is over, whichever
    the proof. While a fault holds everything, a request now and then makes a rebooted
    printer reset the connection.
    """
    healthy_since: float | None = trio.current_time()
    last_poll = trio.current_time()
    ask_now = not tags  # status proof: the first answer after the ticket confirms it
    while True:
        now = trio.current_time()
        budget = math.inf if healthy_since is None else healthy_since + wait
        if not ask_now:
            with trio.move_on_at(min(now + poll_interval, budget)):
                await link.wait_proof(tags)
                return
        ask_now = False
        now = trio.current_time()
        final = now >= budget
        if link.waiting() and not final:
            if now - last_poll >= KEEPALIVE:
                last_poll = now
                await link.poke()
            continue
        last_poll = now
        try:
            status = await poll(STATUS_ROUNDS if final else 1)
        except Silent:
            if link.proven(tags) is not None:
                return  # the proof came while status went unanswered: it wins
            if final:
                raise
            continue
        if link.proven(tags) is not None:
            return
        if not status.can_print:
            healthy_since = None
        elif not tags:
            return
        elif healthy_since is None:
            healthy_since = trio.current_time()
        elif final:
            raise Unproven(f"no process-id reply within {wait:.0f} s")
