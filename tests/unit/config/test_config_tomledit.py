"""The setup wizard's TOML edits keep every comment and every key it does not set."""

from __future__ import annotations

import tomllib
from pathlib import Path

from wixprint.config import load_config_text
from wixprint.config.tomledit import TomlText, toml_value

EXAMPLE = Path(__file__).resolve().parents[3] / "ops" / "config.example.toml"


def test_values_are_toml() -> None:
    assert toml_value('Zum "Löwen" \\ Bar') == '"Zum \\"Löwen\\" \\\\ Bar"'
    assert toml_value(["a", "b"]) == '["a", "b"]'
    assert toml_value(True) == "true"
    assert toml_value(9100) == "9100"
    tricky = 'Zum "Löwen" \\ #1'
    assert tomllib.loads("x = " + toml_value(tricky))["x"] == tricky


def test_setting_keys_keeps_lines_and_comments() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    doc = TomlText(text)
    doc.set("service", "restaurant_name", "Gasthaus # Grünwald")
    doc.set("smtp", "recipients", ["a@example.com", "b@example.com"])
    doc.set("wix", "site_id", "0b4bd4a5-2a0b-4b6b-9f5e-0a1f6c1c1a11")
    doc.set("newtable", "flag", True)
    out = str(doc)
    data = tomllib.loads(out)
    assert data["service"]["restaurant_name"] == "Gasthaus # Grünwald"
    assert data["smtp"]["recipients"] == ["a@example.com", "b@example.com"]
    assert data["newtable"] == {"flag": True}
    # Every other line is as it was, comments included.
    changed = [line for line in out.splitlines() if line not in text.splitlines()]
    assert len(changed) == 5, changed
    line = next(x for x in out.splitlines() if x.startswith("restaurant_name"))
    assert line.endswith("# printed on customer receipts and in alert mails")
    old = tomllib.loads(text)
    for table in ("http", "alerts", "layout", "connectivity"):
        assert data[table] == old[table]


def test_multi_line_arrays_and_printers_by_name() -> None:
    text = """# my config
[wix]
print_apps = [
  "restaurants",  # dishes
  "custom",
]
poll_interval = 10.0  # keep

[[printers]]
name = "kitchen"
host = "10.0.0.5"
proof = "status"   # mine

# the old bar printer
[[printers]]
name = "bar"
host = "10.0.0.6"

[layout]
language = "de"
"""
    doc = TomlText(text)
    doc.set("wix", "print_apps", ["restaurants"])
    doc.set_array_tables(
        "printers",
        [
            {"name": "kitchen", "host": "10.0.0.7", "columns": 42},
            {"name": "counter", "host": "10.0.0.8", "receipts": ["driver", "customer"]},
        ],
    )
    out = str(doc)
    data = tomllib.loads(out)
    assert data["wix"] == {"print_apps": ["restaurants"], "poll_interval": 10.0}
    assert data["printers"] == [
        {"name": "kitchen", "host": "10.0.0.7", "proof": "status", "columns": 42},
        {"name": "counter", "host": "10.0.0.8", "receipts": ["driver", "customer"]},
    ]
    assert data["layout"] == {"language": "de"}
    assert "# my config" in out
    assert 'proof = "status"   # mine' in out
    assert "poll_interval = 10.0  # keep" in out


def test_the_edited_example_is_a_valid_config() -> None:
    doc = TomlText(EXAMPLE.read_text(encoding="utf-8"))
    doc.set_array_tables("printers", [{"name": "küche", "host": "127.0.0.2", "port": 9100}])
    config = load_config_text(str(doc))
    assert [(p.name, p.host) for p in config.printers] == [("küche", "127.0.0.2")]
