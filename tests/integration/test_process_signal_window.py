"""A stop request the instant the service said READY=1 is still a graceful stop.

systemd may send SIGTERM at any moment after the start (``systemctl stop`` during a boot);
before the signal handlers were installed ahead of the tree, a SIGTERM right after READY=1
ended the interpreter with -15, skipping the graceful stop and the restart-history record.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import trio

START_LIMIT = 60.0


def config(tmp: Path) -> str:
    return f"""
[service]
state_dir = "{tmp / "state"}"
stop_timeout = 5.0

[http]
host = "127.0.0.1"
port = 0

[wix]
base_url = "http://127.0.0.1:9"
site_id = "site"
api_key = "key"

[connectivity]
internet_target = "127.0.0.1:9"

[[printers]]
name = "kitchen"
transport = "virtual"
directory = "{tmp / "tickets"}"
"""


@pytest.mark.slow
async def test_sigterm_right_after_ready_stops_gracefully_with_exit_0(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config(tmp_path))
    notify_path = tmp_path / "notify.sock"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WIXPRINT_", "NOTIFY_"))}
    env["NOTIFY_SOCKET"] = str(notify_path)
    with trio.socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        await notify.bind(str(notify_path))
        with (tmp_path / "out.log").open("wb") as out:
            process = await trio.lowlevel.open_process(
                [sys.executable, "-m", "wixprint.cli", "run", "--config", str(path)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            try:
                with trio.fail_after(START_LIMIT):
                    while b"READY=1" not in (await notify.recv(4096)).split(b"\n"):
                        pass
                process.send_signal(signal.SIGTERM)
                with trio.fail_after(30):
                    code = await process.wait()
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
    log = (tmp_path / "out.log").read_text()
    assert code == 0, log[-2000:]
    assert '"stop_requested"' in log
