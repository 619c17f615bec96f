"""Dependency chaos: printers, Wix, SMTP and the internet fail and recover on a seeded schedule.

Printers do everything the Epson fake can: go offline, run out of paper (also in the middle
of a ticket), open their cover, jam the cutter, fail unrecoverably, stop at paper near end,
vanish from the network, lose power (silence, then a slow boot), reset mid-job or inside a
QR code, answer status late or slowly, or send a proof exactly when a status request comes.

Each dependency runs its own loop of "up for a while, then one outage", so outages overlap at
random. Every outage is recorded (what, how, from, to) so a failing run can print it.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial

import trio

from tests.fakes.fake_printer import FakePrinter
from tests.fakes.smtp import FakeSmtpServer
from wixprint.printing.protocol import MAX_PENDING_PAYLOAD
from wixprint.sim.shop import FakeWixShop

HOST = "127.0.0.1"
FAULTS = ("offline", "paper_out", "cover_open", "cutter_jam", "recoverable_error")
"""Flags of the fake printer that hold its tickets until cleared."""
PRINTER_MODES = (
    *FAULTS,
    "unreachable",
    "power_cycle",
    "reset",
    "power_loss",
    "unrecoverable_error",
    "near_end_stop",
    "paper_out_mid_ticket",
    "cut_inside_qr",
    "late_status",
    "slow_replies",
    "collide",
)
HELD = (*FAULTS, "unreachable", "power_loss", "unrecoverable_error", "near_end_stop")
"""Printer outages that last (the others are momentary or only slow the printer down)."""
KEEPS_DATA = tuple(
    m for m in PRINTER_MODES if m not in ("power_cycle", "power_loss", "unrecoverable_error")
)
"""Outages after which a printer still prints what it held: the only ones a printer that
confirms by status alone survives without losing a ticket (its known weakness)."""
WIX_MODES = ("errors", "rate_limit", "timeouts", "down", "garbage")


class Link:
    """A TCP forwarder standing for the internet between the service and Wix.

    Down, it refuses connections and cuts the open ones, as a dead uplink does.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.down = False
        self._up = trio.Event()
        self._up.set()
        self._scope: trio.CancelScope | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def set_down(self, down: bool) -> None:
        self.down = down
        if down:
            self._up = trio.Event()
            if self._scope is not None:
                self._scope.cancel()
        else:
            self._up.set()

    async def serve(self, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        started = False
        while True:
            await self._up.wait()
            listeners = await trio.open_tcp_listeners(self.port, host=HOST)
            self.port = listeners[0].socket.getsockname()[1]
            if not started:
                task_status.started(self.port)
                started = True
            with trio.CancelScope() as scope:
                self._scope = scope
                if self.down:  # went down while we were binding
                    scope.cancel()
                await trio.serve_listeners(self._forward, listeners)

    async def _forward(self, client: trio.SocketStream) -> None:
        try:
            upstream = await trio.open_tcp_stream(HOST, self.target_port)
        except OSError:
            await client.aclose()
            return
        async with client, upstream, trio.open_nursery() as nursery:
            nursery.start_soon(_pump, client, upstream, nursery.cancel_scope)
            nursery.start_soon(_pump, upstream, client, nursery.cancel_scope)


async def _pump(src: trio.SocketStream, dst: trio.SocketStream, scope: trio.CancelScope) -> None:
    try:
        while data := await src.receive_some(65536):
            await dst.send_all(data)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    scope.cancel()


@dataclass(frozen=True, slots=True)
class Outage:
    what: str
    how: str
    start: float
    end: float

    def __str__(self) -> str:
        return f"{self.what}:{self.how} {self.start:.0f}-{self.end:.0f}s"


@dataclass
class Dependencies:
    """The fakes whose outages the schedule drives."""

    printers: Mapping[str, FakePrinter]
    shop: FakeWixShop
    link: Link
    smtp: FakeSmtpServer | None = None


class OutageSchedule:
    """Seeded, overlapping outages of every dependency until :meth:`heal`."""

    def __init__(self, deps: Dependencies, seed: int, *, mean_up: float, mean_down: float) -> None:
        self.deps = deps
        self.seed = seed
        self.mean_up = mean_up
        self.mean_down = mean_down
        self.outages: list[Outage] = []
        self._healing = trio.Event()
        self._heal: list[Callable[[], Awaitable[None]]] = []

    def describe(self) -> str:
        return "outages: " + ", ".join(str(o) for o in self.outages)

    def longest(self, prefix: str, hows: tuple[str, ...]) -> float:
        spans = [
            o.end - o.start for o in self.outages if o.what.startswith(prefix) and o.how in hows
        ]
        return max(spans, default=0.0)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            for name, printer in self.deps.printers.items():
                nursery.start_soon(self._loop, f"printer:{name}", partial(_printer_outage, printer))
            nursery.start_soon(self._loop, "wix", partial(_wix_outage, self.deps.shop))
            nursery.start_soon(self._loop, "internet", partial(_link_outage, self.deps.link))
            if self.deps.smtp is not None:
                nursery.start_soon(self._loop, "smtp", partial(_smtp_outage, self.deps.smtp))
            task_status.started()

    async def heal(self) -> None:
        """End every outage now and start no new one."""
        self._healing.set()
        cures, self._heal = self._heal, []
        for cure in cures:
            await cure()

    async def _loop(self, what: str, outage: OutageFn) -> None:
        rng = random.Random(f"{self.seed}:{what}")
        while not self._healing.is_set():
            with trio.move_on_after(rng.expovariate(1.0 / self.mean_up)):
                await self._healing.wait()
            if self._healing.is_set():
                return
            duration = rng.expovariate(1.0 / self.mean_down)
            start = trio.current_time()
            how, cure = await outage(rng)
            self._heal.append(cure)
            with trio.move_on_after(duration):
                await self._healing.wait()
            if cure in self._heal:
                self._heal.remove(cure)
                await cure()
            self.outages.append(Outage(what, how, start, trio.current_time()))


Cure = Callable[[], Awaitable[None]]
OutageFn = Callable[[random.Random], Awaitable[tuple[str, Cure]]]


async def _nothing() -> None:
    return None


async def _printer_outage(printer: FakePrinter, rng: random.Random) -> tuple[str, Cure]:
    how = rng.choice(PRINTER_MODES if printer.process_id else KEEPS_DATA)
    if how in ("power_cycle", "power_loss"):  # best while a ticket is on its way
        with trio.move_on_after(30.0):
            await printer.wait_job_bytes(printer.job_bytes + rng.randint(1, 400))
        printer.power_off()  # silence: no reset, no answer
        boot = rng.uniform(1.0, 20.0)
        if how == "power_cycle":
            printer.power_on(boot_seconds=boot)
            return how, _nothing
        return how, _later(lambda: printer.power_on(boot_seconds=boot))
    if how == "reset":
        after = MAX_PENDING_PAYLOAD + rng.randint(20, 600)  # past the padding of a job start
        printer.reset_mid_job(after, print_received=rng.random() < 0.5)
        return how, _later(printer.disarm)
    if how == "cut_inside_qr":  # the driver slip's QR payload, half sent
        printer.cut_inside("GS ( k", after=rng.randint(12, 80))
        return how, _later(printer.disarm)
    if how == "paper_out_mid_ticket":  # the roll ends a few lines into a ticket
        printer.paper_out_after(rng.randint(1, 60))
        return how, _later(printer.disarm, lambda: setattr(printer, "paper_out", False))
    if how == "unrecoverable_error":  # only a power cycle clears it
        printer.unrecoverable_error = True
        return how, _later(lambda: printer.power_cycle(boot_seconds=rng.uniform(1.0, 20.0)))
    if how == "near_end_stop":
        printer.faults.near_end_stop = True
        printer.paper_near_end = True
        return how, _later(lambda: setattr(printer, "paper_near_end", False))
    if how in ("late_status", "slow_replies", "collide"):
        attribute, value = {
            "late_status": ("status_delay", 1.5),
            "slow_replies": ("reply_delay", 0.4),
            "collide": ("collide", True),
        }[how]
        before = getattr(printer, attribute)
        setattr(printer, attribute, value)
        return how, _later(lambda: setattr(printer, attribute, before))
    setattr(printer, how, True)
    return how, _later(lambda: setattr(printer, how, False))


def _later(*actions: Callable[[], object]) -> Cure:
    async def cure() -> None:
        for action in actions:
            action()

    return cure


async def _wix_outage(shop: FakeWixShop, rng: random.Random) -> tuple[str, Cure]:
    how = rng.choice(WIX_MODES)
    if how == "errors":
        shop.fail_next(rng.randint(1, 8), rng.choice((500, 502, 503, 504)))
    elif how == "rate_limit":
        shop.rate_limit_next(rng.randint(1, 4), retry_after=rng.choice((1, 5, None)))
    elif how == "garbage":
        shop.garbage_next(rng.randint(1, 3))
    elif how == "timeouts":
        shop.delay_responses(60.0)  # beyond wix.request_timeout
    else:
        shop.set_down(True)

    async def cure() -> None:
        shop.delay_responses(0.0)
        shop.set_down(False)
        _use_up_faults(shop)

    return how, cure


def _use_up_faults(shop: FakeWixShop) -> None:
    """Spend the 5xx, 429 and garbage answers still queued: Wix is well again."""
    for _ in range(100):
        if shop.handle_get(None, None, "healed").status == 401:
            break
    for _ in range(100):
        if shop.handle_get(shop.api_key, shop.site_id, "healed").status != 200:
            break


async def _link_outage(link: Link, rng: random.Random) -> tuple[str, Cure]:
    link.set_down(True)

    async def cure() -> None:
        link.set_down(False)

    return "down", cure


async def _smtp_outage(smtp: FakeSmtpServer, rng: random.Random) -> tuple[str, Cure]:
    await trio.to_thread.run_sync(smtp.stop)

    async def cure() -> None:
        await trio.to_thread.run_sync(smtp.start)

    return "down", cure
