"""Connections from before a power loss, as a rebooted printer treats them.

A printer that loses power forgets its connections without a word: no FIN, no RST. Once it
has booted it does not reset them by itself either: a client learns that its connection is
dead only when one of its packets reaches the printer, which answers with RST. That packet is
either new data sent after the boot, or a retransmission of data the printer never
acknowledged (sent while it was off, or held in the client's send queue by a full window),
which the client's TCP sends again with exponential backoff. New data sent while earlier
data is still unacknowledged waits behind it (Linux's loss recovery sends one segment at a
time), so then the next retransmission is what reaches the printer first. Linux gives up
:data:`GIVE_UP` seconds after the first unacknowledged send. A client that sends nothing
hears nothing, ever (plain TCP: a host that lost a connection's state answers the next
segment of it with RST, and sends nothing of its own).

On loopback the kernel acknowledges everything, so the fake draws the line itself: what sits
in the socket's receive buffer at the power loss had been acknowledged by the printer and is
gone; whatever arrives later stands for unacknowledged data. While the printer is off nothing
is read: the receive buffer fills as a dead printer's window would stay shut, and the
client's send blocks.

Simplified: data held back by a window the printer had closed (a long ticket during a
paper-out) is treated like data sent at the power loss, retransmitted from 0.2 s on. Linux
sends zero-window probes instead, whose backoff may already be near 120 s when the power
goes, and gives up after 15 unanswered probes rather than at :data:`GIVE_UP`; a test with a
ticket larger than the printer's buffers would see the reset too early here. At give-up the
fake resets the connection (the client sees ECONNRESET; Linux reports ETIMEDOUT; both end
the connection the same way for the client).
"""

from __future__ import annotations

import os

from tests.fakes.epson.session import Session

RTO_MIN = 0.2
"""Linux's first retransmission timeout on a fast link (TCP_RTO_MIN)."""
RTO_MAX = 120.0
"""Linux's longest wait between retransmissions (TCP_RTO_MAX)."""
GIVE_UP = 924.6
"""Seconds after the first unacknowledged send when Linux gives up on the connection
(tcp_retries2 = 15 from :data:`RTO_MIN`: ETIMEDOUT)."""


def retransmitted_at(first_sent: float, up_at: float) -> float:
    """When data first sent at ``first_sent`` (and never acknowledged) is sent again for
    the first time at or after ``up_at``: the waits double from :data:`RTO_MIN`, capped at
    :data:`RTO_MAX`."""
    at, rto = first_sent + RTO_MIN, RTO_MIN
    while at < up_at:
        rto = min(2 * rto, RTO_MAX)
        at += rto
    return at


def drain(session: Session) -> bytes:
    """What sits in the session's receive buffer, read without waiting."""
    fd, got = session.stream.socket.fileno(), bytearray()
    try:
        while data := os.read(fd, 65536):
            got += data
    except OSError:  # BlockingIOError: nothing more (the socket is non-blocking)
        pass
    return bytes(got)
