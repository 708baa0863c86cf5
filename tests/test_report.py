"""`handoff report`: the monthly joint review as one self-contained HTML file."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Handoff
from conftest import FakeClock

from handoff.application import HandoffApp
from handoff.domain.agreement_file import parse_agreement
from handoff.instants import parse_day

MARCH = """
name = "2026 H1 growth agreement"
effective_from = 2026-01-01
effective_to = 2026-06-30
timezone = "America/Chicago"
[goal]
revenue = 1200000
average_deal = 30000
[sales]
decide_within_hours = 8
rates = { proposal_to_won = 0.35 }
"""


def step(app: HandoffApp, clock: FakeClock, at: str, key: str, event: str, **data: Any) -> None:
    """Record an event that happened at `at` (Chicago time), written ten minutes later."""
    clock.set(f"{at}-06:00")
    clock.advance(minutes=10)
    if event == "captured":
        app.capture(key, data["source"], "maria", at=at)
    else:
        app.record(key, event, "sam", at=at, **data)


@pytest.fixture
def march(app: HandoffApp, clock: FakeClock) -> Handoff:
    """A March with one deal won in time, one handoff decided late and one left overdue."""
    clock.set("2025-12-20T10:00:00Z")
    app.apply_agreement(parse_agreement(MARCH), "maria")
    clock.set("2026-03-03T15:00:00Z")
    app.record_visits(parse_day("2026-03-02"), 500, "li")
    for key, source, day, owner in (("ACME-1", "web", "02", "sam"),
                                    ("BOLT-2", "partner", "03", "ola"),
                                    ("CORE-3", "events", "04", "ola")):
        step(app, clock, f"2026-03-{day}T09:00", key, "captured", source=source)
        step(app, clock, f"2026-03-{day}T09:30", key, "qualified")
        step(app, clock, f"2026-03-{day}T10:00", key, "handed", owner=owner)
    step(app, clock, "2026-03-02T11:00", "ACME-1", "accepted")
    step(app, clock, "2026-03-05T10:00", "BOLT-2", "accepted")  # due Wednesday 10:00: late
    step(app, clock, "2026-03-10T10:00", "ACME-1", "proposal", amount="30000")
    step(app, clock, "2026-03-20T10:00", "ACME-1", "won")
    return Handoff(app.location.given)


def review(handoff: Handoff, tmp_path: Path, *options: str) -> str:
    out = tmp_path / "review.html"
    said = handoff.ok("report", "--month", "2026-03", "--out", str(out), *options)
    assert "wrote the 2026-03 review" in said
    return out.read_text(encoding="utf-8")


def without_made_at(page: str) -> str:
    """The page with the minute it was made in (its footer's "on ...") taken out."""
    return re.sub(r"</code>\s+on [^.]*\. Re-running", "</code> on (when). Re-running", page)


def test_the_review_shows_the_agreement_and_the_months_numbers(
    march: Handoff, tmp_path: Path
) -> None:
    page = review(march, tmp_path)
    assert "joint review: March 2026" in page
    assert "2026 H1 growth agreement" in page
    assert "within 8 business hours" in page
    assert "<td>revenue won</td><td>30,000</td>" in page
    assert "<td>captured</td><td>3</td><td>3</td>" in page
    assert "<td>visit to captured</td><td>0.6%</td>" in page


def test_an_amount_with_cents_reads_the_same_in_the_review_the_kpis_and_the_document(
    march: Handoff, tmp_path: Path
) -> None:
    """An auditor compares views: 30,000.50 read 30,000 in the review and the document
    (half a unit rounded to even) and 30,000.50 in `kpi`."""
    march.ok("lead", "amend", "ACME-1", "6", "--amount", "30000.50", "--why", "the VAT cents",
             actor="sam")
    assert "<td>revenue won</td><td>30,000.50</td>" in review(march, tmp_path)
    assert re.search(r"revenue_won\s+│\s+30,000\.50\s+│", march.ok("kpi", "--month", "2026-03"))
    document = tmp_path / "sla.md"
    march.ok("sla", "doc", "--month", "2026-03", "--out", str(document))
    assert re.search(r"^\| Revenue won \| [0-9,.]+ \| 30,000\.50 \|", document.read_text(),
                     re.M), document.read_text().split("## 3.")[0][-900:]


def test_the_review_lists_the_breaches_of_the_month(march: Handoff, tmp_path: Path) -> None:
    page = review(march, tmp_path)
    assert "BOLT-2" in page and "decided late" in page
    assert "CORE-3" in page and "overdue" in page
    assert "ACME-1</td>" not in page.split("Breaches of the month")[1]
    assert "33.3%" in page  # compliance: 1 in time / (1 + 2 breached)


def test_the_reviews_breaches_are_those_handed_in_the_months_local_days(
    march: Handoff, app: HandoffApp, clock: FakeClock, tmp_path: Path
) -> None:
    """Handed at 23:30 on 31 March in Chicago (April in UTC) is March's; at 00:30 on 1 April,
    April's: both are left overdue, only the first is among March's breaches."""
    for key, at in (("LATE-MARCH", "2026-03-31T23:30"), ("EARLY-APRIL", "2026-04-01T00:30")):
        step(app, clock, at, key, "captured", source="web")
        step(app, clock, at, key, "qualified")
        step(app, clock, at, key, "handed", owner="sam")
    clock.set("2026-04-20T12:00:00Z")
    breaches = review(march, tmp_path).split("Breaches of the month")[1]
    assert "LATE-MARCH" in breaches
    assert "EARLY-APRIL" not in breaches


def test_the_reviews_breaches_say_what_their_business_hours_measure(
    march: Handoff, tmp_path: Path
) -> None:
    """BOLT-2, handed on Tuesday at 10:00 and due on Wednesday at 10:00, was accepted on
    Thursday at 10:00: 8 business hours past due, 16 from the handoff. The table showed the
    8 under a note saying its hours ran from the handoff to the decision."""
    breaches = review(march, tmp_path).split("Breaches of the month")[1]
    bolt = breaches.split("BOLT-2")[1].split("</tr>")[0]
    assert "<td>8.0 h</td>" in bolt, bolt
    assert "<th>business hours past due</th>" in breaches
    assert "from the due instant to the decision" in breaches
    assert "from the handoff to its decision" not in breaches


def test_a_breach_just_under_an_hour_past_due_reads_in_hours_once_it_rounds_to_one(
    march: Handoff, app: HandoffApp, clock: FakeClock, tmp_path: Path
) -> None:
    """CORE-3, handed on Wednesday at 10:00, due on Thursday at 10:00: accepted at 10:59:40,
    0.9944 business hours past due, read "60 min"; at 10:59:20, 59.33 minutes, "59 min"."""
    step(app, clock, "2026-03-05T10:59:40", "CORE-3", "accepted")
    core = review(march, tmp_path).split("Breaches of the month")[1].split("CORE-3")[1]
    assert "<td>1.0 h</td>" in core.split("</tr>")[0], core.split("</tr>")[0]
    march.ok("lead", "amend", "CORE-3", "4", "--at", "2026-03-05T10:59:20", "--why", "clock",
             actor="sam")
    core = review(march, tmp_path).split("Breaches of the month")[1].split("CORE-3")[1]
    assert "<td>59 min</td>" in core.split("</tr>")[0], core.split("</tr>")[0]


def test_the_review_breaks_the_month_down_by_source_and_owner(
    march: Handoff, tmp_path: Path
) -> None:
    page = review(march, tmp_path)
    by_source = page.split("By source (flow)")[1].split("By owner")[0]
    assert all(source in by_source for source in ("web", "partner", "events"))
    by_owner = page.split("By owner (flow)")[1].split("Breaches")[0]
    assert "<td class=\"text\">sam</td>" in by_owner and "ola" in by_owner


def test_an_as_of_review_replays_what_was_known_then(march: Handoff, tmp_path: Path) -> None:
    page = review(march, tmp_path, "--as-of", "2026-03-15T00:00")
    assert "<td>won</td><td>0</td>" in page
    assert "--as-of" in page


def test_a_month_without_an_agreement_still_reports_its_numbers(
    march: Handoff, tmp_path: Path
) -> None:
    out = tmp_path / "july.html"
    march.ok("report", "--month", "2026-07", "--out", str(out))
    assert "No agreement was in force on 2026-07-01" in out.read_text(encoding="utf-8")


def revised(app: HandoffApp, clock: FakeClock, first: str, last: str, revenue: int,
            hours: int = 8) -> None:
    """A version of MARCH's agreement in force from `first` to `last`, applied on 25 March."""
    clock.set("2026-03-25T10:00:00Z")
    text = MARCH.replace("effective_from = 2026-01-01", f"effective_from = {first}").replace(
        "effective_to = 2026-06-30", f"effective_to = {last}").replace(
        "revenue = 1200000", f"revenue = {revenue}").replace(
        "decide_within_hours = 8", f"decide_within_hours = {hours}")
    app.apply_agreement(parse_agreement(text), "maria")


def test_a_month_over_a_revision_says_its_targets_are_each_versions(
    march: Handoff, app: HandoffApp, clock: FakeClock, tmp_path: Path
) -> None:
    """Revised from 16 March at 10,000 a day (1,070,000 over its 107 days): March's goal is
    H1's 15 days (1,200,000 * 15/181 = 99,447.51) and the revision's 16 (160,000), 259,447.51;
    deals 4 (3.3 rounded up) and 6 (5.3)."""
    revised(app, clock, "2026-03-16", "2026-06-30", 1_070_000)
    targets = march.json("kpi", "--month", "2026-03")["targets"]
    assert (targets["revenue_won"], targets["won"]) == (259447.51, 10)
    page = review(march, tmp_path)
    assert "(version 2) from 2026-03-16. The targets are each version's for the days it is" \
        in page, page.split("The agreement in force")[1][:1500]


def test_a_month_over_a_revision_of_the_decision_window_names_no_single_window(
    march: Handoff, app: HandoffApp, clock: FakeClock, tmp_path: Path
) -> None:
    """8 business hours to decide until 15 March, 4 from the 16th: the median response's
    card named the first day's 8 as March's target; it names none now (as `sla doc`)."""
    assert "target: within 8 h" in review(march, tmp_path)
    revised(app, clock, "2026-03-16", "2026-06-30", 1_070_000, hours=4)
    page = review(march, tmp_path)
    assert "target: within 8 h" not in page and "target: within 4 h" not in page


def test_a_restatement_over_a_revised_month_names_its_window_as_the_months_target(
    march: Handoff, app: HandoffApp, clock: FakeClock, tmp_path: Path
) -> None:
    """8 hours until 15 March, 4 from the 16th (no single window), then a restatement of
    H1 at 12 hours from 1 January: it judges every March handoff again (SPEC §3), those
    recorded under either earlier version included, so March's card names its 12 hours;
    it named none, counting the versions it restated (an auditor's trial, O)."""
    revised(app, clock, "2026-03-16", "2026-06-30", 1_070_000, hours=4)
    clock.set("2026-03-26T10:00:00Z")
    restated = MARCH.replace("decide_within_hours = 8", "decide_within_hours = 12")
    app.apply_agreement(parse_agreement(restated), "maria", restates="12 hours were agreed")
    page = review(march, tmp_path)
    assert "target: within 12 h" in page
    assert "target: within 8 h" not in page and "target: within 4 h" not in page


def test_a_month_after_a_revision_of_the_decision_window_names_the_revised_one(
    march: Handoff, app: HandoffApp, clock: FakeClock, tmp_path: Path
) -> None:
    """Revised on 25 March to 4 hours from the 16th: every April handoff is recorded after
    the revision and judged by its 4 hours, though H1's 8 still cover April's days: April's
    card and its SLA document name 4 hours (they named no window, as over March)."""
    revised(app, clock, "2026-03-16", "2026-06-30", 1_070_000, hours=4)
    step(app, clock, "2026-04-06T09:00", "DUNE-4", "captured", source="web")
    step(app, clock, "2026-04-06T09:30", "DUNE-4", "qualified")
    step(app, clock, "2026-04-06T10:00", "DUNE-4", "handed", owner="sam")
    step(app, clock, "2026-04-06T11:00", "DUNE-4", "accepted")
    out = tmp_path / "april.html"
    march.ok("report", "--month", "2026-04", "--out", str(out))
    assert "target: within 4 h" in out.read_text(encoding="utf-8")
    doc = tmp_path / "april.md"
    march.ok("sla", "doc", "--month", "2026-04", "--out", str(doc))
    assert "within 4 business hours" in doc.read_text(encoding="utf-8")


def test_a_month_whose_agreement_begins_after_its_first_day_has_targets_for_those_days(
    march: Handoff, app: HandoffApp, clock: FakeClock, tmp_path: Path
) -> None:
    """From 10 July at 10,000 a day (1,750,000 over 175 days): July's 22 days, 220,000."""
    revised(app, clock, "2026-07-10", "2026-12-31", 1_750_000)
    assert march.json("kpi", "--month", "2026-07")["targets"]["revenue_won"] == 220000
    out = tmp_path / "july.html"
    march.ok("report", "--month", "2026-07", "--out", str(out))
    page = out.read_text(encoding="utf-8")
    assert "No agreement was in force on 2026-07-01. In force later in the month:" in page
    assert "(version 2) from 2026-07-10; the targets are for those days alone." in page


def test_a_version_ending_within_the_month_is_named_with_its_last_day(
    march: Handoff, app: HandoffApp, clock: FakeClock, tmp_path: Path
) -> None:
    """In force from 10 to 20 July only: "from 2026-07-10" alone would read as in force
    until the month's end, which the targets ("those days alone") are not."""
    revised(app, clock, "2026-07-10", "2026-07-20", 110_000)
    out = tmp_path / "july.html"
    march.ok("report", "--month", "2026-07", "--out", str(out))
    assert ("(version 2) from 2026-07-10 to 2026-07-20; the targets are for those days alone."
            in out.read_text(encoding="utf-8"))


def test_an_unwritable_file_is_refused_in_one_line(march: Handoff, tmp_path: Path) -> None:
    message = march.refused("report", "--month", "2026-03", "--out",
                            str(tmp_path / "missing" / "r.html"))
    assert message.startswith("Error: cannot write")


def test_the_review_is_written_only_to_a_file_named_as_html(
    march: Handoff, tmp_path: Path
) -> None:
    result = march("report", "--month", "2026-03", "--out", str(tmp_path / "review.txt"))
    assert result.exit_code == 2 and "must end in .html" in result.stderr
    assert not (tmp_path / "review.txt").exists()


def test_a_malformed_month_is_refused_in_one_line(march: Handoff, tmp_path: Path) -> None:
    message = march.refused("report", "--month", "March", "--out", str(tmp_path / "r.html"))
    assert "not a month (YYYY-MM)" in message
    assert not (tmp_path / "r.html").exists()


def test_the_review_prints_the_digest_of_the_log_it_was_built_from(
    march: Handoff, tmp_path: Path
) -> None:
    page = review(march, tmp_path)
    digest = march.ok("audit", "digest").strip()
    assert f'<code class="digest">{digest}</code>' in page
    assert "the log is intact" in march.ok("audit", "verify", "--digest", digest)


def test_a_review_as_of_an_instant_prints_the_digest_of_the_log_as_it_stood_then(
    march: Handoff, app: HandoffApp, clock: FakeClock, tmp_path: Path
) -> None:
    """Replayed later, an as-of review is the same page: its digest is that of the log's
    longest stretch from its start recorded by then, not of today's log; an entry stamped
    earlier but logged after one stamped later (a clock set back) changes nothing. (The
    march store's entries were recorded in March, but for the agreement register's first,
    recorded as the store was made, a moment ago.)"""
    time.sleep(1.1)
    as_of = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # after every entry so far
    then = march.ok("audit", "digest").strip()
    before = review(march, tmp_path, "--as-of", as_of)
    march.ok("lead", "capture", "LATE-1", "--source", "web", "--at", "2026-03-30T09:00")
    assert march.ok("audit", "digest").strip() != then
    # The same page but for the minute it was made in (its footer's "on ..."), which a
    # slow run may see move on.
    assert without_made_at(review(march, tmp_path, "--as-of", as_of)) == without_made_at(before)
    for n in range(3):  # stamped in March (a clock set back), logged after LATE-1
        step(app, clock, f"2026-03-2{n}T10:00", f"BACK-{n}", "captured", source="web")
        after = review(march, tmp_path, "--as-of", as_of)
        assert re.findall('<code class="digest">(.*?)</code>', after) == [then]
    assert f'<code class="digest">{then}</code>' in before
    assert "the log is intact" in march.ok("audit", "verify", "--digest", then)
    # Before the register's first entry, recorded as the store was made: no stretch of the
    # log from its start was recorded by then. The page said 'The log held no entry yet',
    # beside March's figures, recorded by then (the demo's simulated history reads so too).
    empty = review(march, tmp_path, "--as-of", "2026-04-01T00:00Z")
    assert '<code class="digest">' not in empty
    assert ("The log's first entry was recorded after that instant: there is no digest of"
            " the log as it stood then.") in empty


def test_a_living_document_of_a_month_no_agreement_covered_names_that_month(
    handoff: Handoff, tmp_path: Path
) -> None:
    """With no agreement in force now either, the refusal is about the month asked for."""
    terms = tmp_path / "h1.toml"
    terms.write_text('name = "H1"\neffective_from = 2026-01-01\neffective_to = 2026-06-30\n'
                     "[sales]\ndecide_within_hours = 8\n", encoding="utf-8")
    handoff.ok("sla", "apply", str(terms))
    out = tmp_path / "doc.md"
    assert handoff.refused("sla", "doc", "--month", "2025-01", "--out", str(out)) == (
        "Error: no agreement was in force in January 2025, nor is one now: the latest version,"
        " 'H1', covers 2026-01-01 to 2026-06-30 (give --month a month it covers), or apply one"
        " with `handoff sla apply`")
    assert not out.exists()
    # Months an agreement covered only in part: its terms, though not in force at their end.
    for name, start, end, month in (("Spring", "2026-07-01", "2026-07-15", "2026-07"),
                                    ("Mid", "2026-09-10", "2026-09-20", "2026-09")):
        terms.write_text(f'name = "{name}"\neffective_from = {start}\neffective_to = {end}\n'
                         "[sales]\ndecide_within_hours = 8\n", encoding="utf-8")
        handoff.ok("sla", "apply", str(terms))
        said = handoff.ok("sla", "doc", "--month", month, "--out", str(out))
        assert said.startswith(f"wrote '{name}' with ")


def test_a_month_of_one_handoff_speaks_of_it_in_the_singular(
    march: Handoff, tmp_path: Path
) -> None:
    """April: one lead handed on Wednesday 1 April at 10:00, accepted at 11:00 and called at
    12:00: one handoff, none breached, one contacted; the review and the document say
    "1 handoff", not "1 handoffs"."""
    march.ok("lead", "capture", "APR-1", "--source", "web", "--at", "2026-04-01T09:00")
    march.ok("lead", "qualify", "APR-1", "--at", "2026-04-01T09:30")
    march.ok("lead", "handoff", "APR-1", "--owner", "sam", "--at", "2026-04-01T10:00")
    march.ok("lead", "accept", "APR-1", "--at", "2026-04-01T11:00", actor="sam")
    march.ok("lead", "contact", "APR-1", "--at", "2026-04-01T12:00", actor="sam")
    out = tmp_path / "april.html"
    march.ok("report", "--month", "2026-04", "--out", str(out))
    page = out.read_text(encoding="utf-8")
    assert "0 breached of 1 handoff<" in page
    assert "over 1 handoff contacted (business hours" in page
    document = tmp_path / "april.md"
    march.ok("sla", "doc", "--month", "2026-04", "--out", str(document))
    text = document.read_text(encoding="utf-8")
    assert "over 1 contacted handoff (the agreement sets no target)" in text
    assert "handoffs" not in page.split("Speed to lead")[1].split("</tr>")[0]


@pytest.mark.parametrize(("handoffs", "follow_up", "said"), [
    (1201, 1, "1,201 handoffs of this period judged otherwise under it (another verdict or"
              " response time); 1 accepted lead's follow-up judged otherwise; "),
    (1, 2, "1 handoff of this period judged otherwise under it (another verdict or response"
           " time); 2 accepted leads' follow-up judged otherwise; "),
])
def test_a_restatement_counts_what_it_judges_otherwise_as_the_review_counts(
    handoffs: int, follow_up: int, said: str
) -> None:
    """A restatement's sentence in the review, the SLA document and `kpi` counts its
    handoffs as every count of the review is written (`words.counted`: grouped thousands,
    one handoff in the singular)."""
    from handoff.views import restatement_words

    restatement = {"version": 3, "name": "H1", "restated_by": "ana", "why": "a typo",
                   "handoffs": handoffs, "follow_up": follow_up}
    assert said in restatement_words(restatement, "2026-03-05 09:00 CET")


AUTUMN = """
name = "2026 H2 agreement"
effective_from = 2026-07-01
timezone = "America/Chicago"
[sales]
decide_within_hours = 8
"""


def test_the_reviews_breaches_tell_the_repeated_hour_apart(
    app: HandoffApp, clock: FakeClock, tmp_path: Path
) -> None:
    """On Sunday 1 November 2026 Chicago's clocks go back from 02:00 CDT to 01:00 CST, so
    01:30 comes twice, an hour apart. Two leads handed at each 01:30 and still undecided on
    Tuesday are both overdue, due Monday at closing; the review showed both handed
    "Sun 01 Nov 01:30", where `sla breaches` says CDT and CST (SPEC §7: with the offset)."""
    clock.set("2026-10-30T12:00:00Z")
    app.apply_agreement(parse_agreement(AUTUMN), "maria")
    clock.set("2026-11-03T15:00:00Z")
    for key, handed in (("EARLY-1", "2026-11-01T01:30-05:00"),
                        ("LATE-2", "2026-11-01T01:30-06:00")):
        app.capture(key, "web", "maria", at="2026-10-31T09:00")
        app.record(key, "qualified", "maria", at="2026-10-31T09:30")
        app.record(key, "handed", "maria", at=handed, owner="sam")
    out = tmp_path / "november.html"
    Handoff(app.location.given).ok("report", "--month", "2026-11", "--out", str(out))
    breaches = out.read_text(encoding="utf-8").split("Breaches of the month")[1]
    for key, handed in (("EARLY-1", "Sun 01 Nov 01:30 CDT"), ("LATE-2", "Sun 01 Nov 01:30 CST")):
        row = breaches.split(f"{key}</td>")[1].split("</tr>")[0]
        assert f'<td class="text">{handed}</td><td class="text">Mon 02 Nov 17:00 CST</td>' \
            in row, row


def test_a_date_in_the_review_is_kept_on_one_line(march: Handoff, tmp_path: Path) -> None:
    """Printed, a restatement's line read "signed into force by li on 2026-" above
    "11-30 17:34 CST": a browser breaks a line after a hyphen."""
    page = review(march, tmp_path)
    assert ".date { white-space: nowrap; }" in page
    effective = page.split("<dt>Effective</dt><dd>")[1].split("</dd>")[0]
    assert effective.startswith('<span class="date">2026-01-01</span> to '), effective
    # Applied without a team: "applied 2025-12-20 04:00 CST by maria".
    assert 'applied <span class="date">2025-12-20</span> 04:00 CST by maria' in page


def test_a_review_names_the_instant_it_was_read_as_of_and_replays_to_the_same_page(
    march: Handoff, tmp_path: Path
) -> None:
    """Made without --as-of, every part of the review is read as of one instant, which its
    footer gives to the microsecond with the command that replays it: after a late entry
    for March, that command gives the same page (its own footer aside)."""
    page = review(march, tmp_path)
    [instant] = re.findall(r"Re-running <code>handoff report --month 2026-03 --as-of"
                           r" ([0-9T:.Z-]+)</code> gives the same numbers", page)
    march.ok("lead", "capture", "LATE-1", "--source", "web", "--at", "2026-03-30T09:00")
    assert "LATE-1" not in page
    replayed = review(march, tmp_path, "--as-of", instant)
    now = review(march, tmp_path)
    assert replayed.split("<footer>")[0] == page.split("<footer>")[0]
    assert now.split("<footer>")[0] != page.split("<footer>")[0]  # LATE-1 counted now


def test_the_review_says_why_handoffs_under_no_agreement_are_not_in_the_sla_block(
    handoff: Handoff, tmp_path: Path
) -> None:
    """An agreement from Monday 16 March: the handoff of 10 March had none, so no due instant
    (SPEC §4). The review's funnel read 'handed 2' above 'flow (1)' in the SLA block, as
    `kpi`'s table did, with nothing saying why."""
    terms = tmp_path / "from-16.toml"
    terms.write_text('name = "From the 16th"\neffective_from = 2026-03-16\n'
                     'timezone = "America/Chicago"\n[sales]\ndecide_within_hours = 8\n',
                     encoding="utf-8")
    handoff.ok("sla", "apply", str(terms))
    for key, day in (("early", "10"), ("later", "17")):
        handoff.ok("lead", "capture", key, "--source", "web", "--at", f"2026-03-{day}T09:00-05:00")
        handoff.ok("lead", "qualify", key, "--at", f"2026-03-{day}T09:30-05:00")
        handoff.ok("lead", "handoff", key, "--owner", "sam", "--at", f"2026-03-{day}T10:00-05:00")
    said = ("1 handoff of the period was made while no agreement was in force: with no due"
            " instant, it is left out of the SLA block.")
    page = review(handoff, tmp_path)
    assert "<td>flow (1)</td>" in page and said in page
    assert said in handoff.ok("kpi", "--month", "2026-03")
