"""The durable spool: orders, print jobs, cursors, webhook dedupe and the alert outbox.

Open it once at start-up with :func:`open_spool` and hand the :class:`Spool` to the actors
that need it. See ``client.py`` for the API, ``revisions.py`` for what an order update prints
and ``machine.py`` for the job states.
"""

from wixprint.spool.client import Spool, open_spool
from wixprint.spool.machine import JobEvent, transition
from wixprint.spool.schema import SCHEMA_VERSION, MigrationReport
from wixprint.spool.types import (
    AcceptOutcome,
    AcceptResult,
    IncomingOrder,
    Job,
    JobHistoryEntry,
    JobState,
    NewAlert,
    OrderSummary,
    OutboxAlert,
    QuarantinedOrder,
    QueueStats,
    SpoolStatistics,
    TicketSummary,
)
from wixprint.vocabulary import JobTarget, Variant

__all__ = [
    "SCHEMA_VERSION",
    "AcceptOutcome",
    "AcceptResult",
    "IncomingOrder",
    "Job",
    "JobEvent",
    "JobHistoryEntry",
    "JobState",
    "JobTarget",
    "MigrationReport",
    "NewAlert",
    "OrderSummary",
    "OutboxAlert",
    "QuarantinedOrder",
    "QueueStats",
    "Spool",
    "SpoolStatistics",
    "TicketSummary",
    "Variant",
    "open_spool",
    "transition",
]
