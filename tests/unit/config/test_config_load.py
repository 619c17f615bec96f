"""Loading: file errors, type errors collected all at once, unknown keys, defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.config.helpers import MINIMAL, problems_of
from wixprint.config import (
    DEFAULT_CONFIG_PATH,
    Config,
    PrinterConfig,
    load_config,
    load_config_text,
    resolve_config_path,
)
from wixprint.errors import ConfigError


def test_path_from_cli_beats_environment_beats_default() -> None:
    env = {"WIXPRINT_CONFIG": "/from/env.toml"}
    assert resolve_config_path("/from/cli.toml", env) == Path("/from/cli.toml")
    assert resolve_config_path(None, env) == Path("/from/env.toml")
    assert resolve_config_path(None, {}) == DEFAULT_CONFIG_PATH == Path("/etc/wixprint/config.toml")


def _one_problem(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    assert len(info.value.problems) == 1, info.value.problems
    return info.value.problems[0]


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    assert _one_problem(tmp_path / "nope.toml") == "file not found"


def test_unreadable_file_is_one_line(tmp_path: Path) -> None:
    # We run as root, so chmod 000 would not stop us: a directory is never readable as a file.
    assert "directory" in _one_problem(tmp_path)


def test_invalid_toml_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[service]\ntimezone = "Europe/Berlin"\nport = = 3\n')
    line = _one_problem(path)
    assert line.startswith("invalid TOML")
    assert "line 3, column" in line


def test_non_utf8_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'[service]\nrestaurant_name = "Caf\xe9"\n')
    assert "UTF-8" in _one_problem(path)


def test_minimal_file_gets_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(MINIMAL)
    config = load_config(path, {})
    assert config.printers == [PrinterConfig(name="kitchen", host="127.0.0.1")]
    assert config.service == Config().service
    assert config.wix.poll_interval == 2.5
    assert config.wix.print_statuses == ["APPROVED"]


def test_integers_are_accepted_for_seconds() -> None:
    config = load_config_text(MINIMAL + "[wix]\npoll_interval = 3\n")
    assert config.wix.poll_interval == 3.0


def test_a_broken_file_names_every_bad_key_at_once() -> None:
    text = """
[service]
timezone = 5

[wix]
pol_interval = 5
print_statuses = "APPROVED"

[[printers]]
name = "kitchen"
host = "127.0.0.1"

[[printers]]
name = "bar"
host = "127.0.0.2"
port = "9100"
transport = "netwrok"
receipts = ["kitchen", "bar"]

[smtp]
recipients = ["a@example.com", 7]

[shop]
open = true
"""
    assert sorted(problems_of(text)) == sorted(
        [
            "service.timezone: expected str, got int",
            "unknown key 'wix.pol_interval'",
            "wix.print_statuses: expected array, got str",
            "printers[1].port: expected int, got str",
            "printers[1].transport: expected one of 'network', 'device', 'virtual', got 'netwrok'",
            "printers[1].receipts[1]: expected one of 'kitchen', 'driver', 'customer', got 'bar'",
            "smtp.recipients[1]: expected str, got int",
            "unknown key 'shop'",
        ]
    )


def test_type_error_does_not_also_raise_the_dependent_rule() -> None:
    # transport is wrong: "host required for network" would only be noise.
    text = '[[printers]]\nname = "a"\ntransport = "usb"\n'
    assert problems_of(text) == [
        "printers[0].transport: expected one of 'network', 'device', 'virtual', got 'usb'"
    ]


def test_printer_without_name_is_reported_once() -> None:
    assert problems_of('[[printers]]\nhost = "127.0.0.1"\n') == [
        "printers[0].name: missing required key"
    ]


def test_printers_written_as_a_table_instead_of_an_array() -> None:
    assert problems_of('[printers]\nname = "a"\n') == ["printers: expected array, got table"]


def test_a_section_that_is_not_a_table() -> None:
    assert problems_of('wix = "x"\n') == ["wix: expected table, got str"]


def test_toml_datetime_where_a_string_is_expected() -> None:
    assert problems_of(MINIMAL + "[wix]\nnot_before = 2024-05-01T10:00:00Z\n") == [
        "wix.not_before: expected str, got datetime"
    ]


def test_float_where_int_is_expected() -> None:
    assert problems_of(MINIMAL + "[http]\nport = 8000.5\n") == [
        "http.port: expected int, got float"
    ]
