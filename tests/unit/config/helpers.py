"""Shared helpers for the config tests."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from wixprint.config import load_config_text
from wixprint.errors import ConfigError

MINIMAL = """
[[printers]]
name = "kitchen"
host = "127.0.0.1"
"""


def problems_of(
    text: str, environ: Mapping[str, str] | None = None, base_dir: Path | None = None
) -> list[str]:
    """The problem lines of a configuration that must be refused."""
    with pytest.raises(ConfigError) as info:
        load_config_text(text, environ, base_dir=base_dir)
    return list(info.value.problems)
