"""Drive a terminal program in a private tmux server: type, read the screen, as an owner.

Each :class:`Tmux` starts its own server on a socket in the test's folder (``-S``), so tests
never touch a user's sessions and leave no socket behind. Waiting polls ``capture-pane``
between short sleeps on the test's clock (the virtual one jumps them, so nothing really
sleeps longer than the program needs).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

import trio

__all__ = ["Tmux"]


class Tmux:
    def __init__(self, folder: Path, name: str) -> None:
        self.socket = str(folder / f"tmux-{name}")
        self.seen: dict[str, int] = {}

    async def _tmux(self, *args: str) -> str:
        result = await trio.run_process(
            ["tmux", "-S", self.socket, *args], capture_stdout=True, capture_stderr=True
        )
        return result.stdout.decode("utf-8", errors="replace")

    async def start(self, argv: Sequence[str], env: Mapping[str, str], cwd: str) -> None:
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        # The shell survives Ctrl-C (a trap, which the program does not inherit) to show the
        # exit status and keep the pane open.
        command = (
            f"trap : INT; cd {shlex.quote(cwd)} && env {exports} {shlex.join(argv)};"
            " echo EXIT=$?; read line"
        )
        await self._tmux(
            "-f", "/dev/null", "new-session", "-d", "-x", "160", "-y", "50", "sh", "-c", command
        )
        await self._tmux("set-option", "-g", "history-limit", "5000")

    async def screen(self) -> str:
        return await self._tmux("capture-pane", "-p", "-J", "-S", "-5000")

    async def wait_for(self, text: str, polls: int = 600) -> str:
        """Wait until ``text`` shows once more than it did at the last wait for it.

        Bounded by a number of looks, not a deadline: on the virtual clock a deadline would
        be jumped to whenever one ``capture-pane`` took longer than the autojump threshold.
        Each look costs at least that threshold in real time (600 looks: a minute or more).
        """
        want = self.seen.get(text, 0) + 1
        screen = ""
        for _ in range(polls):
            screen = await self.screen()
            if screen.count(text) >= want:
                self.seen[text] = want
                return screen
            await trio.sleep(0.2)
        raise AssertionError(f"{text!r} did not show; the screen:\n{screen}")

    async def answer(self, prompt: str, keys: str) -> None:
        await self.wait_for(prompt)
        await self.send(keys)

    async def send(self, keys: str) -> None:
        """Type ``keys`` and Enter."""
        if keys:
            await self._tmux("send-keys", "-t", "0", "-l", keys)
        await self._tmux("send-keys", "-t", "0", "Enter")

    async def interrupt(self) -> None:
        await self._tmux("send-keys", "-t", "0", "C-c")

    async def kill(self) -> None:
        await trio.run_process(["tmux", "-S", self.socket, "kill-server"], check=False)
