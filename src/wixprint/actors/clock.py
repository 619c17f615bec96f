"""Clock actor: keeps ``ctx.clock`` honest, and records the first start from a true time.

A Raspberry Pi has no battery-backed clock. After a power cut it may boot days behind (the
last shutdown time) or, with a bad fake-hwclock, ahead, and run so until NTP answers. The
first start is the ``not_before`` gate: recorded from a clock weeks behind it would print
weeks of approved history, from one ahead it would drop new orders. So it is recorded only
from a time someone vouches for: the kernel's NTP sync, or Wix's own ``Date`` header; with
the Pi's clock off by more than ``service.clock_skew_limit``, Wix's time is the one written.

Every ``CHECK_EVERY`` seconds (``DOUBT_EVERY`` while in doubt) the kernel's NTP state is read
(one system call); Wix is asked for its time every ``PROBE_EVERY`` seconds, more often while
in doubt, and at once when the wall clock jumped. ``timesync.judge`` weighs the two; health,
a ``ClockState`` event (the alert) and ``ctx.clock`` follow.
"""

from __future__ import annotations

from datetime import UTC, datetime

import trio

from wixprint.actors.context import ActorContext
from wixprint.errors import SpoolUnwritable, WixUnavailable
from wixprint.events import ClockState
from wixprint.health import Health
from wixprint.logs import get_logger
from wixprint.spool import Spool
from wixprint.timesync import ClockVerdict, WixTimeSample, best_now, judge
from wixprint.timesync.judge import sample_fresh
from wixprint.timesync.kernel import read_kernel_clock
from wixprint.wix.client import WixClient, open_wix_client

FIRST_START = "first_start"
"""Spool meta key of the first start (the ``not_before`` gate without ``wix.not_before``)."""
CHECK_EVERY = 60.0
DOUBT_EVERY = 10.0
PROBE_EVERY = 600.0


async def run_clock(
    ctx: ActorContext, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    cfg = ctx.config
    ctx.health.register("clock")
    spool = await ctx.spool.wait_open()
    if ctx.clock.first_start is None and (recorded := await spool.get_meta(FIRST_START)):
        ctx.clock.set_first_start(recorded)
    sample: WixTimeSample | None = None
    last_probe = -PROBE_EVERY
    async with open_wix_client(
        cfg.wix.base_url, cfg.wix.api_key, cfg.wix.site_id, request_timeout=cfg.wix.request_timeout
    ) as client:
        task_status.started()
        while True:
            in_doubt = not ctx.clock.trusted() or ctx.clock.verdict.skewed
            stale = not sample_fresh(
                sample, wall=ctx.wall(), monotonic=trio.current_time(), max_age=PROBE_EVERY
            )
            every = DOUBT_EVERY if in_doubt else PROBE_EVERY
            if stale or trio.current_time() - last_probe >= every:
                sample = await _probe(ctx, client) or sample
                last_probe = trio.current_time()
            verdict = judge(
                read_kernel_clock(),
                sample,
                wall=ctx.wall(),
                monotonic=trio.current_time(),
                limit=cfg.service.clock_skew_limit,
            )
            _report(ctx, verdict)
            if ctx.clock.first_start is None:
                await _record_first_start(ctx, spool, verdict)
            doubt = not verdict.trusted or verdict.skewed
            await trio.sleep(DOUBT_EVERY if doubt else CHECK_EVERY)


async def _probe(ctx: ActorContext, client: WixClient) -> WixTimeSample | None:
    """Wix's time, paired with ours at the middle of the request; None if Wix is away."""
    wall, monotonic = ctx.wall(), trio.current_time()
    try:
        server = await client.server_time()
    except WixUnavailable:
        return None
    wall = (wall + ctx.wall()) / 2
    monotonic = (monotonic + trio.current_time()) / 2
    return WixTimeSample(server=server, wall=wall, monotonic=monotonic)


def _report(ctx: ActorContext, verdict: ClockVerdict) -> None:
    old = ctx.clock.verdict
    ctx.clock.verdict = verdict
    good = verdict.trusted and not verdict.skewed
    ctx.health.set("clock", Health.READY if good else Health.DEGRADED, verdict.reason)
    if (verdict.trusted, verdict.skewed) == (
        old.trusted,
        old.skewed,
    ) and old is not ctx.clock.UNCHECKED:
        return
    log = get_logger("clock")
    if good:
        log.info("clock_trusted", reason=verdict.reason, offset=verdict.offset)
    else:
        log.warning("clock_in_doubt", reason=verdict.reason, offset=verdict.offset)
    ctx.publish(
        ClockState(
            at=ctx.wall(),
            trusted=verdict.trusted,
            skewed=verdict.skewed,
            offset=verdict.offset,
            since=ctx.wall(),
            reason=verdict.reason,
        )
    )


async def _record_first_start(ctx: ActorContext, spool: Spool, verdict: ClockVerdict) -> None:
    now = best_now(verdict, ctx.wall())
    if now is None:
        return  # nobody vouches for the time yet: intake waits
    first = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        await spool.set_meta(FIRST_START, first)
    except SpoolUnwritable:
        return  # the spool actor reports it; the next round tries again
    ctx.clock.set_first_start(first)
    source = "Wix's time" if verdict.skewed else "the clock"
    get_logger("clock").info("first_start_recorded", first_start=first, source=source)
