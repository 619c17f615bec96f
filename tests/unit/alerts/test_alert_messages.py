"""Alert texts: German and English, restaurant in the subject, local times, no surprises."""

from __future__ import annotations

import pytest

from tests.unit.alerts.helpers import RESTAURANT, TZ, local
from wixprint.alerts.messages import (
    MAX_LISTED_ORDERS,
    AlertFacts,
    compose,
    compose_test,
    format_duration,
    format_time,
)

SINCE = local(2025, 3, 14, 18, 2)


def facts(**changes: object) -> AlertFacts:
    values: dict[str, object] = {
        "category": "paper_out",
        "key": "paper_out:kitchen",
        "level": "critical",
        "since": SINCE,
        "target": "kitchen",
    }
    values.update(changes)
    return AlertFacts(**values)  # type: ignore[arg-type]


def test_german_raise_says_what_since_when_and_what_to_do() -> None:
    text = compose(
        "raise", facts(held=4), at=SINCE + 125, restaurant=RESTAURANT, language="de", tz=TZ
    )
    assert text.subject == "[Gasthaus Beispiel] KRITISCH: Drucker kitchen: Papier leer"
    assert "kein Papier mehr" in text.body
    assert "Seit: 14.03.2025 18:02 (seit 2 Min.)" in text.body
    assert "Wartend: 4 Ticket(s) warten." in text.body
    assert "Was tun: Papier nachlegen." in text.body


def test_english_raise() -> None:
    text = compose(
        "raise",
        facts(category="printer_offline", key="printer_offline:kitchen", detail="timeout"),
        at=SINCE + 3700,
        restaurant=RESTAURANT,
        language="en",
        tz=TZ,
    )
    assert text.subject == "[Gasthaus Beispiel] CRITICAL: Printer kitchen offline"
    assert "does not answer (timeout)" in text.body
    assert "Since: 2025-03-14 18:02 (for 1 h 1 min)" in text.body
    assert "Switch the printer on and check its network cable" in text.body


@pytest.mark.parametrize(
    ("language", "subject", "duration"),
    [
        (
            "de",
            "[Gasthaus Beispiel] Behoben: Drucker kitchen: Papier leer",
            "Dauer: 1 Std. 30 Min.",
        ),
        (
            "en",
            "[Gasthaus Beispiel] Resolved: Printer kitchen: out of paper",
            "Duration: 1 h 30 min",
        ),
    ],
)
def test_resolved_subject_and_duration(language: str, subject: str, duration: str) -> None:
    text = compose(
        "resolve",
        facts(held=7),
        at=SINCE + 5400,
        ended=SINCE + 5400,
        restaurant=RESTAURANT,
        language=language,  # type: ignore[arg-type]
        tz=TZ,
    )
    assert text.subject == subject
    assert duration in text.body
    assert "7" in text.body


def test_repeat_subject_says_still_ongoing() -> None:
    de = compose("repeat", facts(), at=SINCE + 3600, restaurant="R", language="de", tz=TZ)
    en = compose("repeat", facts(), at=SINCE + 3600, restaurant="R", language="en", tz=TZ)
    assert de.subject == "[R] KRITISCH: Drucker kitchen: Papier leer (besteht weiter)"
    assert en.subject == "[R] CRITICAL: Printer kitchen: out of paper (still ongoing)"


def test_restaurant_name_with_line_break_cannot_break_the_subject() -> None:
    text = compose("raise", facts(), at=SINCE, restaurant="Bad\r\nBcc: x", language="de", tz=TZ)
    assert "\n" not in text.subject
    assert text.subject.startswith("[Bad Bcc: x]")


def test_long_order_lists_are_cut() -> None:
    numbers = tuple(str(1000 + i) for i in range(MAX_LISTED_ORDERS + 5))
    text = compose(
        "raise",
        facts(category="unprinted_orders", key="unprinted_orders", orders=numbers),
        at=SINCE,
        restaurant="R",
        language="en",
        tz=TZ,
        grace=600,
    )
    assert "more than 10 min" in text.body
    assert "1019 and 5 more" in text.body
    assert "1020" not in text.body


def test_test_mail_text() -> None:
    text = compose_test(restaurant=RESTAURANT, language="de", tz=TZ, at=SINCE)
    assert text.subject == "[Gasthaus Beispiel] Testnachricht"
    assert "14.03.2025 18:02" in text.body


@pytest.mark.parametrize(
    ("seconds", "de", "en"),
    [
        (0, "0 Sek.", "0 s"),
        (59, "59 Sek.", "59 s"),
        (60, "1 Min.", "1 min"),
        (3600, "1 Std.", "1 h"),
        (3 * 3600 + 300, "3 Std. 5 Min.", "3 h 5 min"),
        (86400, "1 Tag", "1 d"),
        (2 * 86400 + 7200, "2 Tage 2 Std.", "2 d 2 h"),
        (-5, "0 Sek.", "0 s"),
    ],
)
def test_format_duration(seconds: float, de: str, en: str) -> None:
    assert format_duration(seconds, "de") == de
    assert format_duration(seconds, "en") == en


def test_format_time_is_local() -> None:
    summer = local(2025, 7, 1, 9, 5)
    assert format_time(summer, TZ, "de") == "01.07.2025 09:05"
    assert format_time(summer, TZ, "en") == "2025-07-01 09:05"


@pytest.mark.parametrize(
    ("language", "first", "second"),
    [
        ("de", "1. Dem API-Schlüssel fehlt die Berechtigung „Read Orders“", "2. Die Site-ID"),
        ("en", '1. The API key lacks the "Read Orders" permission', "2. The site ID is wrong"),
    ],
)
def test_rejected_key_mail_gives_advice_per_likely_cause(
    language: str, first: str, second: str
) -> None:
    auth = facts(
        category="wix_auth",
        key="wix_auth",
        target="permission,site_id,account",
        detail="HTTP 403: [PERMISSION_DENIED]",
    )
    body = compose("raise", auth, at=SINCE, restaurant=RESTAURANT, language=language, tz=TZ).body  # type: ignore[arg-type]
    assert "(HTTP 403: [PERMISSION_DENIED])" in body
    assert first in body
    assert second in body
    assert body.index(first) < body.index(second) < body.index("3. ")
    assert "manage.wix.com/account/api-keys" in body


def test_rejected_key_mail_without_causes_keeps_the_general_advice() -> None:
    auth = facts(category="wix_auth", key="wix_auth", target="", detail="HTTP 401")
    body = compose("raise", auth, at=SINCE, restaurant=RESTAURANT, language="en", tz=TZ).body
    assert "Create a new API key in Wix" in body
