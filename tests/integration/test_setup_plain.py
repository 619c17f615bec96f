"""``wixprint setup`` on the commented example, answers piped in, not as root: the file
keeps the example's comments, the secrets stay out of it and the wizard says where they go.
(The example's Wix address is swapped for a closed loopback port: tests stay off the net.)"""

from __future__ import annotations

import io
import stat
import tomllib
from pathlib import Path

from wixprint.commands.setup import example_text, run_setup

ANSWERS = [
    "",  # language: de
    "Zum Löwen",  # restaurant
    "Europe/Vienna",  # time zone
    "not-a-guid",  # site id
    "secret-key-123",  # api key (no terminal: read like any line)
    "n",  # Wix unreachable: do not enter again
    "n",  # the example's sample printer: not kept
    "127.0.0.4/32",  # scan: nobody there
    "",  # add by address: done
    "gmx",  # mail provider preset
    "wirt@gmx.de",  # user
    "mail-pw-456",  # password
    "",  # sender: the user
    "",  # recipients: the sender
    "n",  # no test mail
]


def test_fresh_setup_from_the_example_not_as_root(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    example = example_text()
    path.write_text(example.replace("https://www.wixapis.com", "http://127.0.0.1:9"))
    out = io.StringIO()
    code = run_setup(
        path,
        environ={"WIXPRINT_CONFIG": str(path)},
        inp=io.StringIO("\n".join(ANSWERS) + "\n"),
        out=out,
        root=False,
    )
    shown = out.getvalue()
    assert "Wix nicht erreichbar" in shown
    assert "Keine Drucker gefunden." in shown
    assert (
        "Als root dorthin legen: sudo sh -c 'umask 077; cat > /etc/credstore/wixprint.wix_api_key'"
        in shown
    )
    assert "wixprint.smtp_password" in shown
    text = path.read_text()
    assert "secret-key-123" not in text
    assert "mail-pw-456" not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    data = tomllib.loads(text)
    assert data["service"]["restaurant_name"] == "Zum Löwen"
    assert data["service"]["timezone"] == "Europe/Vienna"
    assert data["smtp"]["host"] == "mail.gmx.net"
    assert data["smtp"]["recipients"] == ["wirt@gmx.de"]
    assert data["smtp"]["sender"] == "wirt@gmx.de"
    assert "printers" not in data  # the example's sample printer was not kept
    # Every comment line of the example is still there.
    # Every comment is kept, but those of the example's sample printer, which goes.
    comments, section = [], ""
    for line in example.splitlines():
        if line.startswith("["):
            section = line.split("]")[0]
        elif line.lstrip().startswith("#") and section != "[[printers":
            comments.append(line)
    assert [c for c in comments if c not in text.splitlines()] == []
    # With the secrets where it said, the config check passes (it ran with them already).
    assert code == 0, shown
    assert "\nok\n" in shown


def test_a_broken_file_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[service\nrestaurant_name = 'x'\n")
    out = io.StringIO()
    assert run_setup(path, environ={}, inp=io.StringIO(""), out=out, root=False) == 78
    assert "ist keine lesbare TOML-Datei" in out.getvalue()  # German until asked
    assert path.read_text() == "[service\nrestaurant_name = 'x'\n"
