"""The problem book: the generic state machine under the alert rules. Pure, no clock.

A problem opens at its ``since``, is mailed once it has lasted its grace, mailed again every
``repeat_every`` while it lasts, and gets a resolved mail when it closes — only if it was
mailed. Info mails raised in quiet hours wait; critical and warning mails never do. The rules
(``rules.py``) decide *what* is a problem; this module decides *when* to mail.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import tzinfo

from wixprint.alerts.messages import (
    AlertFacts,
    Category,
    Language,
    Level,
    MailKind,
    compose,
    title,
)
from wixprint.alerts.quiet import QuietHours

_PRINTER_CATEGORIES: frozenset[str] = frozenset(
    {"printer_offline", "paper_out", "cover_open", "paper_near_end"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertAction:
    """One mail to write to the outbox.

    ``raised_at`` is when this mail was decided: its original time, the Date to send it
    with, however late it leaves the outbox. ``at`` is when the engine handed it out: the
    same, except for info mails held over the quiet hours (then the release time).
    ``since`` is when the problem began.
    """

    key: str
    level: Level
    problem_level: Level
    """The problem's severity: what routes the message to channels (a resolved message is
    level info, and goes wherever its problem went)."""
    kind: MailKind
    subject: str
    body: str
    raised_at: float
    at: float
    since: float
    facts: AlertFacts | None = None
    """What the message reports, for channels that word their own text (printer slips)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProblemView:
    key: str
    level: Level
    since: float
    mailed: bool
    title: str
    last_mail: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertStatistics:
    active: int
    mailed: int
    """Active problems that have been mailed."""
    deferred: int
    """Info mails waiting for the quiet hours to end."""
    raised: int
    repeated: int
    resolved: int
    suppressed: int
    """Problems that ended within their grace period and were never mailed."""


@dataclass(slots=True)
class OpenProblem:
    """One open problem: its facts and what was announced when (saved across restarts)."""

    facts: AlertFacts
    grace: float
    raised_at: float | None = None
    last_mail: float | None = None
    held_peak: int | None = None
    orders_seen: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class BookState:
    """What the book must remember across restarts: the open problems and the info messages
    held over the quiet hours. The counters of ``statistics`` are per process."""

    problems: tuple[OpenProblem, ...] = ()
    deferred: tuple[AlertAction, ...] = ()


class ProblemBook:
    """Open problems, their mail state, and info mails held over the quiet hours."""

    def __init__(
        self,
        *,
        repeat_every: float,
        quiet: QuietHours | None,
        restaurant: str,
        language: Language,
        tz: tzinfo,
        unprinted_grace: float,
    ) -> None:
        self._repeat_every = repeat_every
        self._quiet = quiet
        self._restaurant = restaurant
        self._language: Language = language
        self._tz = tz
        self._unprinted_grace = unprinted_grace
        self._problems: dict[str, OpenProblem] = {}
        self._deferred: list[AlertAction] = []
        self._held: dict[str, int] = {}
        self._raised = self._repeated = self._resolved = self._suppressed = 0

    def __contains__(self, key: str) -> bool:
        return key in self._problems

    def open(
        self,
        key: str,
        category: Category,
        level: Level,
        since: float,
        grace: float,
        now: float,
        *,
        target: str = "",
        detail: str = "",
        value: float | None = None,
        threshold: float | None = None,
        orders: tuple[str, ...] = (),
        count: int = 0,
    ) -> None:
        """Open a problem, or refresh the details of the ongoing one (keeping its since)."""
        problem = self._problems.get(key)
        if problem is not None:
            problem.facts = replace(
                problem.facts,
                target=target,
                detail=detail,
                value=value,
                threshold=threshold,
                orders=orders,
                count=count,
            )
            problem.orders_seen += tuple(n for n in orders if n not in problem.orders_seen)
            return
        facts = AlertFacts(
            category=category,
            key=key,
            level=level,
            since=min(since, now),
            target=target,
            detail=detail,
            value=value,
            threshold=threshold,
            orders=orders,
            count=count,
        )
        problem = self._problems[key] = OpenProblem(facts, grace, orders_seen=orders)
        problem.held_peak = self._held.get(_held_key(facts))

    def close(self, key: str, ended: float, now: float, out: list[AlertAction]) -> None:
        """End a problem: a resolved mail if it was mailed, silence if it never was."""
        problem = self._problems.pop(key, None)
        if problem is None:
            return
        if problem.raised_at is None:
            self._suppressed += 1
            return
        facts = replace(problem.facts, held=problem.held_peak or None, orders=problem.orders_seen)
        self._resolved += 1
        end = min(max(ended, facts.since), now)
        self._emit(self._action("resolve", facts, now, ended=end), now, out)

    def drop(self, key: str) -> None:
        """Forget a problem without any mail (it was superseded by another one)."""
        self._problems.pop(key, None)

    def one_shot(self, facts: AlertFacts, now: float, out: list[AlertAction]) -> None:
        """A mail for an event that has no end (a quarantined ticket): raise only."""
        self._raised += 1
        self._emit(self._action("raise", facts, now), now, out)

    def set_held(self, held: Mapping[str, int]) -> None:
        self._held = dict(held)
        for problem in self._problems.values():
            count = self._held.get(_held_key(problem.facts))
            if count is not None:
                problem.held_peak = max(count, problem.held_peak or 0)

    def advance(self, now: float, out: list[AlertAction]) -> None:
        """Release deferred info mails after quiet hours; raise and repeat what is due."""
        if self._deferred and not self._in_quiet(now):
            out.extend(replace(a, at=now) for a in self._deferred)
            self._deferred.clear()
        for problem in self._problems.values():
            if problem.raised_at is None:
                if now - problem.facts.since < problem.grace:
                    continue
                problem.raised_at = problem.last_mail = now
                self._raised += 1
                kind: MailKind = "raise"
            elif (
                self._repeat_every > 0
                and problem.last_mail is not None
                and now - problem.last_mail >= self._repeat_every
            ):
                problem.last_mail = now
                self._repeated += 1
                kind = "repeat"
            else:
                continue
            held = self._held.get(_held_key(problem.facts))
            facts = replace(problem.facts, held=held or None)
            self._emit(self._action(kind, facts, now), now, out)

    def export(self) -> BookState:
        return BookState(
            problems=tuple(replace(p) for p in self._problems.values()),
            deferred=tuple(self._deferred),
        )

    def restore(self, state: BookState, keep: Callable[[AlertFacts], bool]) -> None:
        """Take over what an earlier run remembered (only the problems ``keep`` accepts):
        an announced problem is neither announced again nor left without its resolved
        message when it ends."""
        for problem in state.problems:
            if keep(problem.facts):
                self._problems[problem.facts.key] = replace(problem)
        self._deferred.extend(state.deferred)

    def views(self) -> list[ProblemView]:
        return [
            ProblemView(
                key=key,
                level=p.facts.level,
                since=p.facts.since,
                mailed=p.raised_at is not None,
                title=title(p.facts, self._language),
                last_mail=p.last_mail,
            )
            for key, p in self._problems.items()
        ]

    def statistics(self) -> AlertStatistics:
        return AlertStatistics(
            active=len(self._problems),
            mailed=sum(p.raised_at is not None for p in self._problems.values()),
            deferred=len(self._deferred),
            raised=self._raised,
            repeated=self._repeated,
            resolved=self._resolved,
            suppressed=self._suppressed,
        )

    def next_due(self, now: float) -> float | None:
        due: list[float] = []
        for p in self._problems.values():
            if p.raised_at is None:
                due.append(p.facts.since + p.grace)
            elif self._repeat_every > 0 and p.last_mail is not None:
                due.append(p.last_mail + self._repeat_every)
        if self._deferred and self._quiet is not None:
            due.append(self._quiet.next_end(now, self._tz))
        return min(due) if due else None

    def _emit(self, action: AlertAction, now: float, out: list[AlertAction]) -> None:
        if action.level == "info" and self._in_quiet(now):
            self._deferred.append(action)
            return
        if action.level != "info" and self._deferred:
            # Keep one problem's mails in order: release its waiting "resolved" first.
            mine = [a for a in self._deferred if a.key == action.key]
            self._deferred = [a for a in self._deferred if a.key != action.key]
            out.extend(replace(a, at=now) for a in mine)
        out.append(action)

    def _in_quiet(self, now: float) -> bool:
        return self._quiet is not None and self._quiet.contains(now, self._tz)

    def _action(
        self, kind: MailKind, facts: AlertFacts, now: float, *, ended: float | None = None
    ) -> AlertAction:
        text = compose(
            kind,
            facts,
            at=now,
            restaurant=self._restaurant,
            language=self._language,
            tz=self._tz,
            ended=ended,
            grace=self._unprinted_grace,
        )
        level: Level = "info" if kind == "resolve" else facts.level
        return AlertAction(
            key=facts.key,
            level=level,
            problem_level=facts.level,
            kind=kind,
            subject=text.subject,
            body=text.body,
            raised_at=now,
            at=now,
            since=facts.since,
            facts=facts,
        )


def printer_of(facts: AlertFacts) -> str | None:
    """The printer a problem is about; None for problems about anything else."""
    return facts.target if facts.category in _PRINTER_CATEGORIES else None


def _held_key(facts: AlertFacts) -> str:
    """Printer problems look up held tickets by printer name, others by problem key."""
    printer = printer_of(facts)
    return facts.key if printer is None else printer
