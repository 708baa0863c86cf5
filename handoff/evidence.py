"""Whether the agreement's clauses were honoured in a period: the measured evidence.

Each clause of `features/` is backed by one kind of evidence, named here by feature and by
words of the clause's name (the first match wins, "" matches any clause of the feature):

- the handoff SLA's figures (`kpi.compute_kpis`) and the handoffs that broke it
  (`report`'s breaches of the period, from `sla.sla_breaches`);
- the follow-up's figures and the accepted leads that missed it
  (`follow_up.missed_follow_ups`), and speed to lead's figures;
- "enforced": the application refuses any step against the clause, so every step
  recorded in the period kept it (the count of those steps is the evidence); "team
  enforced" likewise, where a version in force in the period names a team (without one,
  the clause on the team did not apply, and nothing measures it);
- "versions enforced": the application refuses any agreement file or signature against
  the clause, so every version recorded kept it (their count is the evidence: the
  month's lead steps say nothing of an agreement file);
- the restatements that changed the period's figures (`kpi`'s `restatements`);
- none: the clause defines how a figure is computed, or nothing measures it yet. The
  document says so rather than inventing a measure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from handoff.domain.service_level import OVERDUE
from handoff.kpi import STAGE_NAMES, judged_handoffs
from handoff.sla import DECIDED_LATE
from handoff.views import restatement_words
from handoff.words import counted, percent, rounded

MEASURES: dict[str, tuple[tuple[str, str | None], ...]] = {
    "sla_compliance.feature": (
        ("pending", "open handoffs"),
        ("alarm", "open handoffs"),  # the alarm sounds for the open overdue ones
        ("late", "late decisions"),
        ("weekend", None),  # how business hours count: a definition
        ("", "decided in time"),
    ),
    "follow_up.feature": (("speed", "speed to lead"), ("", "follow-up")),
    "lifecycle.feature": (("", "enforced"),),
    "agreement.feature": (
        ("members record", "team enforced"),  # the team's sides record their own steps
        ("leads are handed", "team enforced"),
        ("whose dates contain", None),  # what "in force" means: a definition
        ("", "versions enforced"),  # refused files and signatures, identical terms...
    ),
    # A revision keeps past verdicts (how figures are computed); a restatement changes them.
    "restatements.feature": (("restatement", "restatements"),),
}
_BREAKERS_SHOWN = 25


@dataclass(frozen=True)
class Evidence:
    """The "honoured" mark of a clause for a period, and what it rests on."""

    mark: str  # honoured | not honoured | enforced | measured | no measure | nothing to measure
    summary: str
    # The leads that broke it: handoffs (`sla.sla_breaches`), or acceptances that missed
    # their follow-up (`follow_up.missed_follow_ups`), as `breaking` says.
    breakers: list[dict[str, str]] = field(default_factory=list)
    more: int = 0  # breakers not listed
    breaking: str = "handoffs"  # or "follow-ups"
    # The summary is the tool's own prose, a command it names quoted between backticks (set
    # as code), unless it quotes a user's text (a restatement's reason), which reads as typed.
    prose: bool = True

    @property
    def measured(self) -> bool:
        return self.mark != "no measure"


def measure_for(feature: str, clause: str) -> str | None:
    for words, measure in MEASURES.get(feature, ()):
        if words.lower() in clause.lower():
            return measure
    return None


def evidence_for(
    measure: str | None, kpis: dict[str, Any], breaches: list[dict[str, str]],
    hours: float | None, when: Callable[[str], str] = str,
    missed: list[dict[str, str]] | None = None,
    measured_at: str = "when this document was written",
    versions: int = 0,
    team: bool = True,
) -> Evidence:
    """The evidence behind one measure, from the period's flow KPIs, breaches and missed
    follow-ups (`when`: an ISO-8601 instant as people read it; `measured_at`: when the
    open handoffs were counted, in words: "as of 2026-04-02 09:00 CDT" for a replay;
    `versions`: how many versions of the agreement were recorded, proposals included;
    `team`: whether a version in force on a day of the period names a team)."""
    if measure is None:
        return Evidence("no measure", "No measure stands behind this clause: its examples "
                        "define how the figures are computed, and are checked by `sla verify`.")
    if measure == "team enforced" and not team:
        return Evidence("nothing to measure", "No agreement in force in the period names a "
                        "team, so this clause did not apply.")
    if measure in ("enforced", "team enforced"):
        steps = sum(kpis["counts"][name] for name in STAGE_NAMES)
        # Not "steps happened": flow does not count a re-sent proposal again.
        return Evidence("enforced", f"The period's flow KPIs count "
                        f"{counted(steps, 'step', grouped=True)}; the tool refuses any step "
                        "against this clause, so none broke it.")
    if measure == "versions enforced":
        kept = ("the one version recorded so far kept it" if versions == 1
                else f"each of the {versions:,} versions recorded so far kept it")
        return Evidence("enforced", "The tool refuses any agreement file or signature against"
                        f" this clause: {kept}.")
    if measure in ("follow-up", "speed to lead"):
        return _follow_up_evidence(measure, kpis, missed or [])
    if measure == "restatements":
        if not kpis["restatements"]:
            return Evidence("measured", "No restatement changed the period's figures: each "
                            "handoff is judged by the terms in force when it was recorded.")
        return Evidence("measured", " ".join(restatement_words(r, when(r["restated_at"]))
                                             for r in kpis["restatements"]), prose=False)
    sla = kpis["sla"]
    within = f"within {hours:g} business hours" if hours is not None else "in time"
    judged = judged_handoffs(sla)
    if measure in ("decided in time", "late decisions") and not judged:
        return Evidence("nothing to measure", f"No handoff of the period was judged yet "
                        f"({sla['pending']} pending).")
    if measure == "decided in time":
        summary = (f"{sla['decided_in_time']:,} of {judged:,} judged handoffs decided {within} "
                   f"({_percent(sla['compliance'])}); {sla['pending']:,} still pending.")
        return _marked(summary, breaches)
    if measure == "late decisions":
        late = [b for b in breaches if b["status"] == DECIDED_LATE]
        if not sla["decided_late"]:
            return _marked("No handoff of the period was decided after its due instant "
                           f"({counted(sla['handoffs'], 'handoff', grouped=True)} in all).", [])
        one = sla["decided_late"] == 1
        summary = (f"{sla['decided_late']:,} of {counted(sla['handoffs'], 'handoff', grouped=True)}"
                   + (" was decided after its due instant, counted as a breach." if one else
                      " were decided after their due instant, each counted as a breach."))
        return _marked(summary, late)
    if measure == "open handoffs":
        overdue = [b for b in breaches if b["status"] == OVERDUE]
        summary = (f"{counted(sla['pending'], 'handoff', grouped=True)} pending and "
                   f"{sla['overdue']:,} overdue "
                   f"(undecided past their due instant) {measured_at}.")
        return _marked(summary, overdue)
    raise ValueError(f"unknown measure {measure!r}")


def _follow_up_evidence(
    measure: str, kpis: dict[str, Any], missed: list[dict[str, str]]
) -> Evidence:
    if measure == "speed to lead":
        speed = kpis["speed_to_lead"]
        if not speed["contacted"]:
            return Evidence("nothing to measure", "No handoff of the period was contacted yet.")
        return Evidence("measured", f"Median {rounded(speed['median_hours'])} business hours from "
                        f"handoff to first contact, 90th percentile {rounded(speed['p90_hours'])}, "
                        f"over {counted(speed['contacted'], 'contacted handoff', grouped=True)} "
                        "(the agreement sets "
                        "no target).")
    follow_up = kpis.get("follow_up")
    if follow_up is None:
        return Evidence("nothing to measure", "The agreement in force asks for no follow-up.")
    judged = follow_up["met"] + follow_up["missed"]
    if not judged:
        return Evidence("nothing to measure", f"No accepted lead's follow-up window has closed "
                        f"yet ({follow_up['pending']:,} pending).")
    return Evidence(
        "not honoured" if follow_up["missed"] else "honoured",
        f"{follow_up['met']:,} of {judged:,} accepted leads got the agreed follow-up "
        f"({_percent(follow_up['compliance'])}); {follow_up['missed']:,} missed it, "
        f"{follow_up['pending']:,} still within their window.",
        missed[:_BREAKERS_SHOWN], max(0, len(missed) - _BREAKERS_SHOWN), breaking="follow-ups",
    )


def _marked(summary: str, breakers: list[dict[str, str]]) -> Evidence:
    mark = "not honoured" if breakers else "honoured"
    return Evidence(mark, summary, breakers[:_BREAKERS_SHOWN],
                    max(0, len(breakers) - _BREAKERS_SHOWN))


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{percent(value)} %"
