"""Binds features/notices.feature: the warnings, breach notices and digests that
`handoff sla notify` sends, as the sales team's chat receives them.

The chat is a small fake channel (what a webhook or a mailbox would receive, in order);
the job is the application's own `send_notices`, run at each instant the story names.
"""

from __future__ import annotations

import re

import pytest
from pytest_bdd import given, parsers, then, when

from handoff.application import HandoffApp
from handoff.notify import DeliveryFailed, Message, send_notices
from handoff.verification.world import WHEN, FakeClock, local_at, story_day, story_instant

FEATURES = ("notices.feature",)
_TIMES = r"\d{1,2}:\d{2}(?:(?:, | and )\d{1,2}:\d{2})*"


class SalesChat:
    """The sales team's chat: every message it received, in order; it can go down."""

    key = server = "chat:sales"
    label = "the sales chat"

    def __init__(self) -> None:
        self.received: list[str] = []
        self.down = False

    def deliver(self, message: Message) -> None:
        if self.down:
            raise DeliveryFailed("the chat is down")
        self.received.append(message.text)

    def warnings_about(self, key: str) -> list[str]:
        """The marks of the window ("50 %") that the warnings about a lead named, in order."""
        found = []
        for text in self.received:
            if text.startswith(f"At risk: lead {key} "):
                mark = re.search(r"has used (\d+ %)", text)
                assert mark, text
                found.append(mark[1])
        return found

    def digests(self) -> list[str]:
        return [text for text in self.received if text.startswith("Handoff digest")]


@pytest.fixture
def sales_chat() -> SalesChat:
    return SalesChat()


@given(
    parsers.re(rf'a lead "(?P<key>[^"]+)" handed to (?P<owner>\w+) {WHEN}'),
    target_fixture="lead_key",
)
def _(app: HandoffApp, clock: FakeClock, key: str, owner: str, day: str, time: str) -> str:
    # Recorded as it happens (or later, for a past day): under the agreement in force.
    clock.now = max(clock.now, story_instant(app, day, time))
    at = local_at(day, time)
    app.capture(key, "webinar", "maria", at=at)
    app.record(key, "qualified", "maria", at, score=70)
    app.record(key, "handed", "li", at, owner=owner)
    return key


@given("the sales chat is down")
def _(sales_chat: SalesChat) -> None:
    sales_chat.down = True


@when("the sales chat is back")
def _(sales_chat: SalesChat) -> None:
    sales_chat.down = False


@when(parsers.re(rf"the notices are sent on (?P<day>.+?) at (?P<times>{_TIMES})"))
def _(app: HandoffApp, clock: FakeClock, sales_chat: SalesChat, day: str, times: str) -> None:
    for clock_time in re.split(r", | and ", times):
        clock.now = story_instant(app, day, clock_time)
        send_notices(app, [sales_chat], actor="cron")


@then(parsers.re(r'sales has not been warned about "(?P<key>[^"]+)"'))
def _(sales_chat: SalesChat, key: str) -> None:
    assert [text for text in sales_chat.received if f"lead {key} " in text] == []


@then(
    parsers.re(
        r'sales has been warned that "(?P<key>[^"]+)" has used '
        r"(?P<marks>\d+ %(?:(?:, | and )\d+ %)*) of its window"
    )
)
def _(sales_chat: SalesChat, key: str, marks: str) -> None:
    assert sales_chat.warnings_about(key) == re.split(r", | and ", marks)


@then(parsers.re(r'sales has been told once that "(?P<key>[^"]+)" is overdue'))
def _(sales_chat: SalesChat, key: str) -> None:
    told = [text for text in sales_chat.received if text.startswith(f"Overdue: lead {key} ")]
    assert len(told) == 1, sales_chat.received


@then(parsers.re(r"sales has received one digest, for (?P<day>.+)"))
def _(sales_chat: SalesChat, day: str) -> None:
    [digest] = sales_chat.digests()
    named = story_day(day)
    assert digest.startswith(f"Handoff digest for {named:%A} {named.isoformat()}"), digest


@then(parsers.re(r"the digest reads (?P<overdue>\d+) overdue and (?P<at_risk>\d+) at risk"))
def _(sales_chat: SalesChat, overdue: str, at_risk: str) -> None:
    digest = sales_chat.digests()[-1]
    assert re.search(rf"^Overdue, still undecided: {overdue}\b", digest, re.M), digest
    assert re.search(rf"^At risk, half the window or more used: {at_risk}\b", digest, re.M), digest
