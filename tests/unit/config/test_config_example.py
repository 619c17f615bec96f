"""ops/config.example.toml documents every key with its real default, and loads."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import msgspec

from wixprint.config import Config, PrinterConfig, load_config, load_config_text

EXAMPLE = Path(__file__).resolve().parents[3] / "ops" / "config.example.toml"


def test_example_loads_and_shows_the_defaults() -> None:
    config = load_config(EXAMPLE, {})
    defaults = Config()
    for field in msgspec.structs.fields(Config):
        if field.name != "printers":
            assert getattr(config, field.name) == getattr(defaults, field.name), field.name
    assert config.printers == [PrinterConfig(name="kitchen", host="192.168.1.50")]


def _missing_keys(data: dict[str, Any], cls: type[msgspec.Struct], path: str) -> list[str]:
    missing = []
    for field in msgspec.structs.fields(cls):
        where = f"{path}.{field.name}" if path else field.name
        if field.name not in data:
            missing.append(where)
        elif isinstance(field.type, type) and issubclass(field.type, msgspec.Struct):
            missing += _missing_keys(data[field.name], field.type, where)
    return missing


def test_example_mentions_every_key() -> None:
    data = tomllib.loads(EXAMPLE.read_text())
    assert _missing_keys(data, Config, "") == []
    assert _missing_keys(data["printers"][0], PrinterConfig, "printers[0]") == []


def test_example_secrets_are_empty_placeholders() -> None:
    data = tomllib.loads(EXAMPLE.read_text())
    assert data["wix"]["api_key"] == data["smtp"]["password"] == data["http"]["admin_token"] == ""


def test_the_commented_bar_printer_loads_when_uncommented() -> None:
    text = EXAMPLE.read_text()
    block = re.search(r"^# \[\[printers\]\]\n(?:# .*\n)+", text, re.MULTILINE)
    assert block is not None
    uncommented = re.sub(r"^# ", "", block.group(0), flags=re.MULTILINE)
    config = load_config_text(text.replace(block.group(0), uncommented))
    bar = config.printers[1]
    assert (bar.name, bar.sections) == ("bar", ["drinks"])
