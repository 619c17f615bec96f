"""Configuration-class failures found only at start exit 78 with one line naming the cause,
never 70: systemd's ``RestartPreventExitStatus=78`` then stops the crash loop (the health
check's self-healing restarts it later), and the operator reads what to fix. The demo says
why it stopped.

Real processes, as in test_process_root.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_process_root import (
    CLI,
    START_LIMIT,
    child_env,
    history,
    new_shop,
    open_notify_socket,
    open_shop,
    service_config,
    spawn,
)


def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.fixture
def busy_port() -> Iterator[int]:
    yield from taken_port()


async def test_port_in_use_exits_78_with_one_line(tmp_path: Path, busy_port: int) -> None:
    shop = new_shop(orders=False)
    async with open_shop(shop) as url, open_notify_socket() as (address, notes):
        path = tmp_path / "config.toml"
        path.write_text(service_config(tmp_path, url).replace("port = 0", f"port = {busy_port}"))
        async with spawn(["run", "--config", str(path)], child_env(NOTIFY_SOCKET=address)) as c:
            code = await c.wait_exit(START_LIMIT)
    assert code == 78
    lines = bytes(c.stderr).decode().splitlines()
    assert lines == [
        f"wixprint: cannot start: http.port: cannot listen on 127.0.0.1:{busy_port}: "
        "Address already in use"
    ]
    assert "READY=1" not in notes.lines()
    [process] = history(tmp_path)["processes"]
    assert process["exit_code"] == 78


async def test_public_port_in_use_names_the_public_listener(tmp_path: Path, busy_port: int) -> None:
    shop = new_shop(orders=False)
    async with open_shop(shop) as url:
        path = tmp_path / "config.toml"
        text = service_config(tmp_path, url).replace(
            "port = 0\n", f'port = 0\npublic_host = "127.0.0.1"\npublic_port = {busy_port}\n', 1
        )
        path.write_text(text)
        async with spawn(["run", "--config", str(path)], child_env()) as c:
            code = await c.wait_exit(START_LIMIT)
    assert code == 78
    assert bytes(c.stderr).decode().splitlines() == [
        f"wixprint: cannot start: http.public_port: cannot listen on 127.0.0.1:{busy_port}: "
        "Address already in use"
    ]


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A read-only filesystem (root ignores permission bits, not a read-only mount)."""
    mount = tmp_path / "ro"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


async def test_an_unwritable_state_folder_exits_78(tmp_path: Path, read_only_dir: Path) -> None:
    shop = new_shop(orders=False)
    async with open_shop(shop) as url:
        path = tmp_path / "config.toml"
        text = service_config(tmp_path, url).replace(
            f'state_dir = "{tmp_path / "state"}"', f'state_dir = "{read_only_dir}"'
        )
        path.write_text(text)
        async with spawn(["run", "--config", str(path)], child_env()) as c:
            code = await c.wait_exit(START_LIMIT)
    assert code == 78
    [line] = bytes(c.stderr).decode().splitlines()
    assert line.startswith(
        f"wixprint: cannot start: service.state_dir: cannot write in {read_only_dir}"
    )


def test_the_demo_says_why_it_stopped(tmp_path: Path, busy_port: int) -> None:
    done = subprocess.run(
        [
            *CLI,
            "demo",
            "--dir",
            str(tmp_path),
            "--port",
            str(busy_port),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=child_env(),
        check=False,
    )
    assert done.returncode == 78
    assert "cannot listen on 127.0.0.1" in done.stderr
    assert "demo stopped after" in done.stderr
    assert "(cannot start: http.port: cannot listen on" in done.stderr
    assert f"another program uses port {busy_port}" in done.stderr
