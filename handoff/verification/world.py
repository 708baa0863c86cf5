"""The world the features' stories happen in, shared by every step module.

Days named by weekday are those of the week of Monday 2 March 2026; times are local to
the agreement in force (UTC when none is), exactly as `--at` reads them. "The 2026 growth
agreement" is `features/2026-growth-agreement.toml`, shipped with the features.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from importlib.resources import files
from typing import Any

from handoff.application import HandoffApp
from handoff.domain.agreement import AgreementTerms, Proposal
from handoff.domain.errors import Refused, UnknownLead
from handoff.instants import parse_instant
from handoff.views import history_entries
from handoff.words import DAY_NAMES

STORY_WEEK = date(2026, 3, 2)  # a Monday
WHEN = r"on (?P<day>.+?) at (?P<time>\d{1,2}:\d{2})"
GROWTH_AGREEMENT_FILE = "2026-growth-agreement.toml"


def features_text(name: str) -> str:
    """A file shipped with the features (`handoff.features`)."""
    return files("handoff.features").joinpath(name).read_text(encoding="utf-8")


def _literal(value: Any) -> Any:
    """A TOML value back as the literal text that writes it (tables stay trees)."""
    if isinstance(value, dict):
        return {key: _literal(item) for key, item in value.items()}
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# The agreement the stories run under, as TOML literals, so one key can be swapped for
# a malformed value and the document written out again.
AGREEMENT: dict[str, Any] = _literal(
    tomllib.loads(features_text(GROWTH_AGREEMENT_FILE), parse_float=Decimal)
)


def agreement_toml(document: dict[str, Any], changes: dict[str, str | None] | None = None) -> str:
    """Write an agreement document as TOML; `changes` sets (or, with None, drops) dotted keys."""
    tree: dict[str, Any] = _copy_tree(document)
    for dotted, literal in (changes or {}).items():
        *sections, leaf = dotted.split(".")
        node = tree
        for section in sections:
            node = node.setdefault(section, {})
        if literal is None:
            node.pop(leaf, None)
        else:
            node[leaf] = literal
    return "\n".join(_toml_lines(tree, prefix="")) + "\n"


def _copy_tree(node: dict[str, Any]) -> dict[str, Any]:
    return {k: _copy_tree(v) if isinstance(v, dict) else v for k, v in node.items()}


def _toml_lines(node: dict[str, Any], prefix: str) -> list[str]:
    lines = [f"{key} = {value}" for key, value in node.items() if not isinstance(value, dict)]
    for key, value in node.items():
        if isinstance(value, dict):
            lines += ["", f"[{prefix}{key}]", *_toml_lines(value, prefix=f"{prefix}{key}.")]
    return lines


class FakeClock:
    """The wall clock, under the story's control."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, text: str) -> None:
        self.now = datetime.fromisoformat(text).astimezone(UTC)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def story_day(text: str) -> date:
    """'Tuesday' (in the story's week), '2 July 2026' or '2026-07-02'."""
    text = text.strip()
    if text in DAY_NAMES:
        return STORY_WEEK + timedelta(days=DAY_NAMES.index(text))
    for pattern in ("%A %d %B %Y", "%d %B %Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"not a day of the story: {text!r}")


def local_at(day: str, clock_time: str) -> str:
    """The `--at` text a user would type for that day and time (no offset: local time)."""
    hours, minutes = clock_time.split(":")
    return f"{story_day(day).isoformat()}T{int(hours):02d}:{minutes}"


def story_instant(app: HandoffApp, day: str, clock_time: str) -> datetime:
    """The instant the application reads for that local day and time."""
    return parse_instant(local_at(day, clock_time), app.zone_for_day(app.agreement_register()))


def actor_id(name: str) -> str:
    return name.strip().lower()


def history(app: HandoffApp, key: str) -> list[dict[str, Any]]:
    """The lead's audit trail as `handoff lead history` shows it."""
    return history_entries(app.lead(key))


@dataclass(frozen=True)
class Outcome:
    """What the last `When` did: the lead it touched and the first refusal, if any."""

    key: str | None = None
    refusal: Refused | None = None
    history_before: list[dict[str, Any]] = field(default_factory=list)


def touched(outcome: Outcome) -> str:
    """The lead the story's last step touched, which must have been done, not refused."""
    assert outcome.refusal is None, f"the step was refused: {outcome.refusal}"
    assert outcome.key is not None, "no step touched a lead"
    return outcome.key


def attempt(app: HandoffApp, key: str, previous: Outcome, action: Any) -> Outcome:
    """Try one user command; a refusal is an answer to check, and it stops the story."""
    if previous.refusal is not None:
        return previous
    try:
        before = history(app, key)
    except UnknownLead:
        before = []
    try:
        action()
    except Refused as refusal:
        return Outcome(key, refusal, before)
    return Outcome(key)


# The path a lead takes through the protocol, all on Monday, by the named team.
STORY_PATH: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "qualified": ("09:30", "qualified", "maria", {"score": 70}),
    "handed": ("10:00", "handed", "li", {"owner": "sam"}),
    "accepted": ("11:00", "accepted", "sam", {}),
    "rejected": ("11:00", "rejected", "sam", {"reason": "no budget this year"}),
    "proposal": ("12:00", "proposal", "sam", {"amount": "30000"}),
    "won": ("13:00", "won", "sam", {}),
    "lost": ("13:00", "lost", "sam", {"reason": "went with a competitor"}),
}
PATH_TO: dict[str, tuple[str, ...]] = {
    "captured": (),
    "qualified": ("qualified",),
    "handed": ("qualified", "handed"),
    "accepted": ("qualified", "handed", "accepted"),
    "rejected": ("qualified", "handed", "rejected"),
    "proposal": ("qualified", "handed", "accepted", "proposal"),
    "won": ("qualified", "handed", "accepted", "proposal", "won"),
    "lost": ("qualified", "handed", "accepted", "proposal", "lost"),
}


def put_in_force(app: HandoffApp, terms: AgreementTerms) -> None:
    """Maria applies the terms; when a team binds them (they are proposed), Sam signs too."""
    version, _ = app.apply_agreement(terms, actor="maria")
    if isinstance(version, Proposal):
        app.sign_agreement(version.number, actor="sam")


def build_lead(app: HandoffApp, key: str, stage: str) -> str:
    app.capture(key, "webinar", "maria", at=local_at("Monday", "09:00"), company="Acme")
    for step in PATH_TO[stage]:
        clock_time, event_name, actor, data = STORY_PATH[step]
        app.record(key, event_name, actor, local_at("Monday", clock_time), **data)
    return key
