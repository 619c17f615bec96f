"""Status bits one at a time, as real printers may report them: paper end in ``DLE EOT 2``
only, in ``DLE EOT 4`` only, near end alone. Every fixture and the fake printer used to set
paper end in both replies together, so a decoder that read only one of them passed.

The service-level test runs the whole tree against ``BitsPrinter``, a minimal ESC/POS
responder whose four status bytes the test sets directly (the shared fake printer models a
printer's states, not raw bits): with paper end reported in EOT 4 alone, the job is held and
not one byte of the ticket is sent; once the bit clears, it prints once.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
import trio.testing

from tests.integration.harness import (
    config_text,
    get_json,
    jobs_of,
    new_order,
    open_rig,
    pass_time,
    wait_for,
)
from wixprint.printing.protocol import parse_status, tag_owner
from wixprint.vocabulary import PrinterStatus

OK = 0x12
EOT1_OFFLINE = 0x1A
EOT2_PAPER_END_STOP = 0x32  # bit 5: printing stopped at paper end
EOT4_PAPER_END = 0x72  # bits 5-6: paper end sensor
EOT4_NEAR_END = 0x1E  # bits 2-3: near-end sensor

# (EOT 1, EOT 2, EOT 4) → what the service must understand
BITS = {
    "all ok": ((OK, OK, OK), PrinterStatus(online=True, paper="ok")),
    "paper end in EOT 2 only": (
        (OK, EOT2_PAPER_END_STOP, OK),
        PrinterStatus(online=True, paper="out"),
    ),
    "paper end in EOT 4 only": ((OK, OK, EOT4_PAPER_END), PrinterStatus(online=True, paper="out")),
    "paper end in EOT 4, offline in EOT 1": (
        (EOT1_OFFLINE, OK, EOT4_PAPER_END),
        PrinterStatus(online=False, paper="out"),
    ),
    "near end alone": ((OK, OK, EOT4_NEAR_END), PrinterStatus(online=True, paper="near_end")),
    "near end with paper end in EOT 2": (
        (OK, EOT2_PAPER_END_STOP, EOT4_NEAR_END),
        PrinterStatus(online=True, paper="out"),
    ),
}
CAN_PRINT = {"all ok", "near end alone"}


@pytest.mark.parametrize("case", BITS)
def test_each_status_bit_alone_is_understood(case: str) -> None:
    (eot1, eot2, eot4), expected = BITS[case]
    status = parse_status(eot1, eot2, OK, eot4)
    assert status == expected
    assert status.can_print is (case in CAN_PRINT)
    # Asked without EOT 3 (as the network transport does): the same answer.
    assert parse_status(eot1, eot2, None, eot4) == expected


class BitsPrinter:
    """Answers ``DLE EOT n`` with ``self.eot[n]``, records every other byte as ticket data and
    answers ``GS ( H`` with the process-id reply (it is only ever sent once the status said
    the printer can print); ``proofs`` are the jobs' tags, ``probes`` the capability probe's."""

    def __init__(self) -> None:
        self.eot = {1: OK, 2: OK, 3: OK, 4: OK}
        self.data = bytearray()
        self.proofs: list[bytes] = []
        self.probes: list[bytes] = []
        self.port = 0

    async def serve(self, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.port = listeners[0].socket.getsockname()[1]
        task_status.started(self.port)
        await trio.serve_listeners(self._session, listeners)

    async def _session(self, stream: trio.SocketStream) -> None:
        buf = bytearray()
        async with stream:
            while data := await stream.receive_some(4096):
                buf += data
                while buf:
                    if buf[:2] == b"\x10\x04":
                        if len(buf) < 3:
                            break
                        await stream.send_all(bytes((self.eot[buf[2]],)))
                        del buf[:3]
                    elif buf[:3] == b"\x1d\x28\x48":
                        if len(buf) < 11:
                            break
                        tag = bytes(buf[7:11])
                        # A job's tag, or the capability probe's at connect (issue 12).
                        (self.proofs if tag_owner(tag) else self.probes).append(tag)
                        await stream.send_all(b"\x37\x22" + tag + b"\x00")
                        del buf[:11]
                    else:
                        self.data.append(buf[0])
                        del buf[:1]


async def test_paper_end_in_eot4_alone_holds_the_job_until_it_clears(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    printer = BitsPrinter()
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        await rig.nursery.start(printer.serve)
        printer.eot[4] = EOT4_PAPER_END  # EOT 1 and 2 say all is well
        await rig.start(config_text(tmp_path, rig.shop_url, {"kitchen": printer.port}))
        number = str(new_order(rig)["number"])
        await wait_for(lambda: rig.service is not None and bool(rig.service.ctx.queue_cache))
        await pass_time(thread_clock, 60)
        assert printer.data == bytearray()  # not one byte of the ticket left
        assert printer.proofs == []
        [ticket] = jobs_of(await get_json(rig, "/orders"), number)
        assert ticket["state"] == "queued"
        kitchen = (await get_json(rig, "/connectivity/status"))["printers"]["kitchen"]
        assert kitchen["paper"] == "out"

        printer.eot[4] = OK
        await wait_for(lambda: len(printer.proofs) == 1)
        await pass_time(thread_clock, 10)
        assert len(printer.proofs) == 1
        assert number.encode() in printer.data
        [ticket] = jobs_of(await get_json(rig, "/orders"), number)
        assert (ticket["state"], ticket["reprint"]) == ("printed", False)
