"""The root of the process: signals, graceful stop, exit codes, restart history.

Python's default SIGTERM ends the interpreter without running ``finally`` blocks, so the root
opens a Trio signal receiver: the first SIGTERM/SIGINT sends ``STOPPING=1`` and stops the tree
in reverse order within ``service.stop_timeout``; a second signal cancels at once.

Every stop in the tree is bounded (grace, cancel, deadline), so the tree's worst case
(:meth:`~wixprint.supervisor.Supervisor.stop_budget`) fits ``stop_timeout``, which fits the
unit's ``TimeoutStopSec``. One thing Trio cannot end is a task stuck in a worker thread that
cannot be abandoned: if the cancelled tree has still not ended ``EXIT_DEADLINE`` seconds after
``stop_timeout``, the exit is recorded and the process exits anyway, before systemd's SIGKILL
would leave no record. Whatever ends the tree — giving up, a failed start, ``SystemExit`` from
an actor — the restart history gets an exit record.
"""

from __future__ import annotations

import faulthandler
import signal
import sys
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path

import trio

from wixprint.app import Service, ServiceOptions, create_service
from wixprint.config import Config
from wixprint.errors import ConfigError, RestartIntensityExceeded
from wixprint.logs import get_logger
from wixprint.receipts.render import import_escpos
from wixprint.sdnotify import notify
from wixprint.supervisor import HistoryStore

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_SOFTWARE = 70
EXIT_CONFIG = 78
HISTORY_FILE = "restart-history.json"
EXIT_DEADLINE = 2.0
"""Seconds the tree gets to end once ``stop_timeout`` cancelled it; then the process exits."""


def gave_up(exc: BaseException) -> bool:
    """True if ``exc`` (or a group around it) is the root supervisor giving up."""
    if isinstance(exc, RestartIntensityExceeded):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return any(gave_up(e) for e in exc.exceptions)
    return False


def first_error(exc: BaseException) -> BaseException:
    """The first leaf of an exception group (``exc`` itself if it is not a group)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def not_cancelled(exc: BaseException) -> BaseException | None:
    """``exc`` without its ``trio.Cancelled`` parts (None if that was all of it)."""
    if isinstance(exc, BaseExceptionGroup):
        return exc.split(trio.Cancelled)[1]
    return None if isinstance(exc, trio.Cancelled) else exc


async def watch_signals(
    signals: AsyncIterator[int], service: Service, stop_timeout: float, environ: dict[str, str]
) -> None:
    log = get_logger("root")
    async for signum in signals:
        log.info("stop_requested", signal=signal.Signals(signum).name)
        notify("STOPPING=1", environ=environ)
        break
    async with trio.open_nursery() as nursery:

        async def second_signal() -> None:
            async for _ in signals:
                log.warning("stop_forced")
                nursery.cancel_scope.cancel()
                return

        nursery.start_soon(second_signal)
        with trio.move_on_after(stop_timeout) as scope:
            await service.stop()
        if scope.cancelled_caught:
            log.warning("stop_timeout_exceeded", timeout=stop_timeout)
        nursery.cancel_scope.cancel()


async def last_resort(
    tree_done: trio.Event, history: HistoryStore, hard_exit: Callable[[int], object]
) -> None:
    """After the stop: give the cancelled tree ``EXIT_DEADLINE`` seconds to end, else record
    the exit and leave (a task in a worker thread that cannot be abandoned never ends)."""
    with trio.CancelScope(shield=True):
        with trio.move_on_after(EXIT_DEADLINE):
            await tree_done.wait()
        if tree_done.is_set():
            return
        get_logger("root").critical("stop_stuck", deadline=EXIT_DEADLINE)
        history.record_process_exit(EXIT_SOFTWARE, "stop did not finish: a task would not end")
        with trio.move_on_after(EXIT_DEADLINE):
            await history.flush()
        hard_exit(EXIT_SOFTWARE)


async def serve(config: Config, options: ServiceOptions) -> int:
    """Run the service until a signal stops it (0), or the root gives up, the tree cannot
    start or an actor raised ``SystemExit`` (70), or the configuration turns out unusable at
    start (78). Why it ended is left in ``options.exit_reason``."""
    log = get_logger("root")
    faulthandler.enable()
    history = options.history or HistoryStore(Path(config.service.state_dir) / HISTORY_FILE)
    options.history = history
    history.record_process_start()
    service = create_service(config, options)
    budget, stop_timeout = service.root.stop_budget(), config.service.stop_timeout
    if budget > stop_timeout:
        log.warning("stop_budget_exceeds_stop_timeout", budget=budget, stop_timeout=stop_timeout)
    tree_done = trio.Event()
    code = EXIT_OK
    reason = "stopped"
    try:
        # Signals are ours before the tree starts: a SIGTERM during start-up or right after
        # READY=1 must stop the tree gracefully, not end the interpreter mid-write.
        with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async with trio.open_nursery() as nursery:

                async def run_tree(
                    *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
                ) -> None:
                    try:
                        await service.run(task_status=task_status)
                    finally:
                        tree_done.set()

                async def stopper() -> None:
                    await watch_signals(signals, service, stop_timeout, dict(options.environ))
                    nursery.cancel_scope.cancel()
                    await last_resort(tree_done, history, options.hard_exit)

                nursery.start_soon(stopper)
                await nursery.start(history.run)
                await nursery.start(run_tree)
                log.info("service_ready", printers=[p.name for p in config.printers])
                nursery.start_soon(
                    partial(trio.to_thread.run_sync, import_escpos, abandon_on_cancel=True)
                )
    except Exception as exc:
        # A configuration-class failure at start (port in use, unusable key, state folder
        # not writable): 78, one line naming it, and systemd does not restart in a loop.
        # Giving up at run time and other start failures (a spool that will not open):
        # 70, recorded, and systemd starts a fresh process.
        code = EXIT_SOFTWARE
        config_error = _config_error(exc)
        if config_error is not None:
            code = EXIT_CONFIG
            reason = f"cannot start: {'; '.join(config_error.problems)}"
            log.critical("service_config_error", problems=list(config_error.problems))
            print(f"wixprint: {reason}", file=sys.stderr, flush=True)
        elif gave_up(exc):
            reason = "root supervisor gave up"
            log.critical("root_gave_up", error=str(exc))
        else:
            reason = f"service failed: {type(first_error(exc)).__name__}"
            log.critical("service_failed", exc_info=first_error(exc))
    except BaseException as exc:
        # SystemExit or KeyboardInterrupt from an actor: the tree stopped in order; the
        # process decides the exit code, and the history says why.
        rest = not_cancelled(exc)
        if rest is None:
            raise
        code = EXIT_SOFTWARE
        reason = f"service stopped by {type(first_error(rest)).__name__}"
        log.critical("service_interrupted", exc_info=first_error(rest))
    history.record_process_exit(code, reason)
    await history.flush()
    options.exit_reason = reason
    return code


def _config_error(exc: BaseException) -> ConfigError | None:
    """The ConfigError inside *exc* (a group around it), if any."""
    if isinstance(exc, ConfigError):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            if (found := _config_error(inner)) is not None:
                return found
    return None
