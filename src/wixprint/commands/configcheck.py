"""``wixprint config check PATH``: validate a configuration file without starting anything.

Operators run it after editing the file and before restarting the service, so it prints every
problem at once, each on its own line and prefixed with the file name (like a compiler), and
exits 78 (EX_CONFIG, the same code ``run`` uses for a bad file).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from wixprint.config import config_warnings, file_warnings, load_config, summarize
from wixprint.errors import ConfigError

__all__ = ["EX_CONFIG", "format_problems", "run_config_check"]

EX_CONFIG = 78


def format_problems(path: str | Path, error: ConfigError) -> list[str]:
    """One line per problem, prefixed with the file name (also for ``run``'s refusal)."""
    return [f"{path}: {problem}" for problem in error.problems]


def run_config_check(path: str, *, environ: Mapping[str, str], out: TextIO, err: TextIO) -> int:
    """Print ``ok`` and a summary (secrets masked) and return 0, or the problems and 78.
    Warnings (unsafe but valid settings, a config file others can read) go to *err*."""
    try:
        config = load_config(Path(path), environ)
    except ConfigError as exc:
        for line in format_problems(path, exc):
            print(line, file=err)
        return EX_CONFIG
    for warning in file_warnings(Path(path)) + config_warnings(config):
        print(f"{path}: warning: {warning}", file=err)
    print("ok", file=out)
    print(summarize(config), file=out)
    return 0
