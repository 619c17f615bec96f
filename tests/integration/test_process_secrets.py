"""The real ``wixprint run`` process registers every configured secret for redaction: a
secret that ends up in a logged value (here an operator pasted the admin token and the API key
into printer names, which ``service_ready`` logs) is cut out of the line, whatever the key.

``assert API_KEY not in line`` elsewhere cannot fail on its own: nothing logs the key. This test
logs it on purpose, so it fails when the process starts without registering its secrets."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.test_process_root import (
    ADMIN_TOKEN,
    API_KEY,
    START_LIMIT,
    STOP_TIMEOUT,
    child_env,
    new_shop,
    open_shop,
    service_config,
    spawn,
)
from wixprint.logs import REDACTED


async def test_a_configured_secret_in_a_logged_value_is_masked(tmp_path: Path) -> None:
    shop = new_shop(orders=False)
    async with open_shop(shop) as url:
        printers = "".join(
            f"""
[[printers]]
name = "{name}"
transport = "virtual"
directory = "{tmp_path / "tickets" / str(i)}"
receipts = ["kitchen"]
"""
            for i, name in enumerate((f"bar {ADMIN_TOKEN}", f"pass {API_KEY}"))
        )
        path = tmp_path / "config.toml"
        path.write_text(service_config(tmp_path, url, extra=printers))
        async with spawn(["run", "--config", str(path)], child_env()) as child:
            ready = await child.wait_event("service_ready", START_LIMIT)
            child.process.terminate()
            assert await child.wait_exit(STOP_TIMEOUT) == 0
    assert ready["printers"] == ["kitchen", f"bar {REDACTED}", f"pass {REDACTED}"]
    for line in child.stdout:
        assert ADMIN_TOKEN not in line
        assert API_KEY not in line
        json.loads(line)
