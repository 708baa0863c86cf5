"""Forgetting a person (SPEC §9), from features/privacy.feature."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from pytest_bdd import given, parsers, then, when

from handoff import audit
from handoff.application import HandoffApp
from handoff.backup import backup_lines, restore
from handoff.domain.errors import Refused
from handoff.domain.steps import FORGOTTEN
from handoff.importer import Importer, ImportReport, read_rows
from handoff.kpi import compute_kpis, period_from_options
from handoff.store import locate
from handoff.verification.world import (
    PATH_TO,
    STORY_PATH,
    Outcome,
    actor_id,
    attempt,
    local_at,
)
from handoff.views import history_entries, lead_summary

FEATURES = ("privacy.feature",)


def march(app: HandoffApp) -> dict[str, Any]:
    """March 2026's KPIs as `handoff kpi --month 2026-03 --format json` gives them."""
    period = period_from_options(app.agreement_register(), month="2026-03")
    return compute_kpis(app, period, basis="flow")


@given(
    parsers.re(
        r"(?P<name>[A-Z][a-z]+ [A-Z][a-z]+) of (?P<company>\w+), (?P<email>\S+), is lead "
        r'"(?P<key>[^"]+)", won by Sam for 30000'
    ),
    target_fixture="figures_before",
)
def _(app: HandoffApp, name: str, company: str, email: str, key: str) -> dict[str, Any]:
    app.capture(key, "webinar", "maria", at=local_at("Monday", "09:00"), name=name,
                email=email, company=company)
    for step in PATH_TO["won"]:
        clock_time, event_name, actor, data = STORY_PATH[step]
        app.record(key, event_name, actor, local_at("Monday", clock_time), **data)
    return march(app)


@given(
    parsers.re(
        r'(?P<actor>\w+) corrected the capture of lead "(?P<key>[^"]+)": '
        r"(?P<name>[A-Z][a-z]+ [A-Z][a-z]+) of (?P<company>\w+), (?P<email>\S+)"
    )
)
def _(app: HandoffApp, actor: str, key: str, name: str, company: str, email: str) -> None:
    app.amend(key, 1, "the details were mistyped", actor_id(actor), name=name, email=email,
              company=company)


@when(
    parsers.re(r'(?P<actor>\w+) forgets lead "(?P<key>[^"]+)" because "(?P<why>[^"]*)"'),
    target_fixture="outcome",
)
def _(app: HandoffApp, outcome: Outcome, actor: str, key: str, why: str) -> Outcome:
    return attempt(app, key, outcome, lambda: app.forget(key, why, actor_id(actor)))


@when(
    parsers.re(r'(?P<actor>\w+) forgets lead "(?P<key>[^"]+)" without a reason'),
    target_fixture="outcome",
)
def _(app: HandoffApp, outcome: Outcome, actor: str, key: str) -> Outcome:
    return attempt(app, key, outcome, lambda: app.forget(key, "", actor_id(actor)))


@given(parsers.re(r'(?P<actor>\w+) forgot lead "(?P<key>[^"]+)" because "(?P<why>[^"]+)"'))
def _(app: HandoffApp, actor: str, key: str, why: str) -> None:
    app.forget(key, why, actor_id(actor))


@when(
    parsers.re(
        r'(?P<actor>\w+) imports the capture of lead "(?P<key>[^"]+)" again: '
        r"(?P<name>[A-Z][a-z]+ [A-Z][a-z]+) of (?P<company>\w+), (?P<email>\S+)"
    ),
    target_fixture="imported",
)
def _(app: HandoffApp, actor: str, key: str, name: str, company: str, email: str
      ) -> ImportReport:
    rows = ("lead,event,at,actor,source,name,email,company\n"
            f"{key},captured,{local_at('Monday', '09:00')},maria,webinar,{name},{email},"
            f"{company}\n")
    return Importer(app, actor_id(actor)).run(read_rows(rows))


@when(
    parsers.re(
        r"(?P<actor>\w+) restores the store's backup into an empty store, edited so that the "
        r'capture of lead "(?P<key>[^"]+)" names (?P<name>[A-Z][a-z]+ [A-Z][a-z]+) again'
    ),
    target_fixture="restore_refusal",
)
def _(app: HandoffApp, tmp_path: Path, key: str, name: str) -> Refused | None:
    entries = [json.loads(line) for line in backup_lines(app)]
    capture = next(e for e in entries[1:] if e["topic"].endswith(".Captured")
                   and e["state"]["key"] == key)
    capture["state"]["lead_name"] = name
    empty = HandoffApp(locate(str(tmp_path / "restored.sqlite")))
    try:
        restore(empty, "".join(json.dumps(e) + "\n" for e in entries))
    except Refused as refusal:
        return refusal
    finally:
        empty.close()
    return None


@then(parsers.re(r'the restore is refused, saying "(?P<text>.+)"$'))
def _(restore_refusal: Refused | None, text: str) -> None:
    assert restore_refusal is not None, "the backup was restored"
    assert text in str(restore_refusal), restore_refusal


@then("the empty store still holds nothing")
def _(tmp_path: Path) -> None:
    empty = HandoffApp(locate(str(tmp_path / "restored.sqlite")))
    try:
        assert list(backup_lines(empty))[1:-1] == []  # the header and the count alone
    finally:
        empty.close()


@then("the import skips it as already recorded")
def _(imported: ImportReport) -> None:
    assert imported.ok, imported.errors
    assert (imported.recorded, imported.skipped) == (0, 1)


@then(parsers.re(r'the import says the file still names the forgotten person of lead '
                 r'"(?P<key>[^"]+)"'))
def _(imported: ImportReport, key: str) -> None:
    assert imported.forgotten == [key], imported.forgotten


@then(parsers.re(r'lead "(?P<key>[^"]+)" shows "\[forgotten\]" for its name, e-mail address '
                 r"and company"))
def _(app: HandoffApp, key: str) -> None:
    summary = lead_summary(app.lead(key))
    assert (summary["name"], summary["email"], summary["company"]) == (FORGOTTEN,) * 3


@then(parsers.re(r'the history of lead "(?P<key>[^"]+)" shows "\[forgotten\]" for the name, '
                 r"e-mail address and company of its capture and of its correction"))
def _(app: HandoffApp, key: str) -> None:
    entries = history_entries(app.lead(key))
    capture = entries[0]
    correction = next(e for e in entries if e["event"] == "amended")
    for entry in (capture, correction):
        assert (entry["name"], entry["email"], entry["company"]) == (FORGOTTEN,) * 3, entry


@then(parsers.re(r'lead "(?P<key>[^"]+)" still shows "(?P<name>[^"]+)"'))
def _(app: HandoffApp, key: str, name: str) -> None:
    assert lead_summary(app.lead(key))["name"] == name


@then(
    parsers.re(
        r'nothing in the store holds "(?P<first>[^"]+)", "(?P<second>[^"]+)" or '
        r'"(?P<third>[^"]+)" any more'
    )
)
def _(app: HandoffApp, first: str, second: str, third: str) -> None:
    stored = _every_byte_of(app)
    for text in (first, second, third):
        assert text.encode() not in stored, f"{text!r} is still in the store"


@then("the March figures are the same as before Ann was forgotten")
def _(app: HandoffApp, figures_before: dict[str, Any]) -> None:
    assert march(app) == figures_before


@then("the record is intact")
def _(app: HandoffApp) -> None:
    verdict = audit.verify(app)  # raises, naming the entry, if anything else changed
    assert verdict.erased >= 1


@then(
    parsers.re(
        r'the history of lead "(?P<key>[^"]+)" ends with (?P<actor>\w+) forgetting it '
        r'because "(?P<why>[^"]+)"'
    )
)
def _(app: HandoffApp, key: str, actor: str, why: str) -> None:
    last = history_entries(app.lead(key))[-1]
    assert (last["event"], last["actor"], last["why"]) == ("forgotten", actor_id(actor), why)


def _every_byte_of(app: HandoffApp) -> bytes:
    """The store as someone with the file or a database dump would read it."""
    if app.location.is_postgres:
        # The server's settings for this dump in PGOPTIONS (the URL's own `options`, if
        # any, would stand over it, and a URL's text writes its spaces as '+', which libpq
        # does not read back as spaces).
        url = app.location.sqlalchemy_url.set(drivername="postgresql").difference_update_query(
            ["options"])
        # Byte strings (the events' states) as their bytes, not in hex: a name would
        # never be found in '\\x416e6e...'.
        dump = subprocess.run(
            ["pg_dump", "--dbname", url.render_as_string(hide_password=False)],
            check=True, capture_output=True,
            env={**os.environ, "PGOPTIONS": "-c bytea_output=escape"},
        )
        return dump.stdout
    path = Path(app.location.sqlite_path)
    return b"".join(
        f.read_bytes() for f in path.parent.glob(path.name + "*") if f.is_file()
    )
