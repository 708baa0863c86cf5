"""The read model stores the rules' verdicts (in time, due instants, what counts in flow and
in cohort): a store made by a release with other rules must be projected again, which it
is when `service_level.RULES_VERSION` differs (`projections.versions`). This test holds the
version to the rules: it fails when their code changes while the version stays, so that no
release forgets to bump it. Docstrings, comments and the version's own line do not count.
"""

from __future__ import annotations

import ast
import hashlib
import io
import tokenize
from pathlib import Path

from handoff.domain import business_time, service_level

# What the rules' code was at each version (FINGERPRINTS[RULES_VERSION] is the one in force).
# Their home is these two modules; the fast paths that store verdicts (projections.due,
# projections.page) are held to them by differential tests, not fingerprinted here.
FINGERPRINTS = {
    1: "3e135ca9e8f125abfe950f6deb66899f11aac524a912292c104a37483223468c",
    # business_time.first_day_short_of: which day of a version its decision window is out
    # of the calendar's reach from (no verdict changed, but the modules' code did).
    2: "b2c2fc1bc3b65fba4ce1ba3222c766c4ee8e98eec2f7bc65fcc283b7a4da9cb1",
    # follow_up_outcome: the window is calendar days in the agreement's zone, not 24-hour
    # days (no stored verdict changed: the follow-up is judged when a report is read); and
    # BREACHED, the outcomes that breach the SLA, named here rather than by the read side.
    3: "989ee2981821fc92974a3697b4fa0840b33c830c5a9a1dbe96eebcf74e6de355",
    # business_time.public_holidays: a region's holidays beside its country's ("US-CA"),
    # which no stored agreement could name; follow_up_attempts: the follow-up's window
    # counted in one place, for the document's missed follow-ups too (no verdict changed).
    4: "1491546734d5b7676b12771cf6c719aa520ac4ac39720bceaad404824aa172fc",
}


def sources() -> list[str]:
    """The rules' code: the verdicts (service_level) and business time (business_time)."""
    return [Path(str(module.__file__)).read_text(encoding="utf-8")
            for module in (service_level, business_time)]


def fingerprint(texts: list[str]) -> str:
    """The code's characters less docstrings, comments, whitespace and the RULES_VERSION
    line: the same on every Python that parses it (the tokenizer finds the comments, the
    parser the docstrings), whatever the parser's own dump of the code would show."""
    digest = hashlib.sha256()
    for text in texts:
        dropped: set[int] = set()  # lines of docstrings and of the version
        for node in ast.walk(ast.parse(text)):
            body = getattr(node, "body", None)
            if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                    and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                dropped.update(range(body[0].lineno, (body[0].end_lineno or 0) + 1))
            if isinstance(node, ast.Assign) and any(
                    getattr(target, "id", None) == "RULES_VERSION" for target in node.targets):
                dropped.update(range(node.lineno, (node.end_lineno or 0) + 1))
        lines = text.splitlines(keepends=True)
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                row, column = token.start
                lines[row - 1] = lines[row - 1][:column] + "\n"
        kept = "".join(line for n, line in enumerate(lines, start=1) if n not in dropped)
        digest.update("".join(kept.split()).encode())
    return digest.hexdigest()


def test_the_rules_version_names_the_rules_in_force() -> None:
    version, found = service_level.RULES_VERSION, fingerprint(sources())
    assert FINGERPRINTS.get(version) == found, (
        f"the rules changed since version {version} was recorded: stores made before would "
        f"keep verdicts judged by the old ones. Bump RULES_VERSION in handoff/domain/"
        f"service_level.py to {max(FINGERPRINTS) + 1} and add it here, fingerprint {found!r}"
        if version in FINGERPRINTS else
        f"RULES_VERSION {version} has no fingerprint here: add {version}: {found!r}"
    )


def test_only_a_change_of_the_rules_asks_for_a_new_version() -> None:
    rules, calendar = sources()
    before = fingerprint([rules, calendar])
    rule = "return decided_at <= due_at"
    assert rule in rules
    # Words around the rules, and the version itself, change nothing ...
    reworded = rules.replace('"""The service level', '"""How the service level', 1).replace(
        rule, rule + "  # on the due instant itself: in time", 1
    ).replace(f"RULES_VERSION = {service_level.RULES_VERSION}", "RULES_VERSION = 99", 1)
    assert reworded != rules
    assert fingerprint([reworded, calendar]) == before
    # ... a decision on its due instant counted late does.
    assert fingerprint([rules.replace(rule, "return decided_at < due_at", 1), calendar]) != before
