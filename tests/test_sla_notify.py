"""`handoff sla notify`: warnings before a breach, one notice after it, a daily digest,
delivered to a webhook (a local HTTP server) and by e-mail (a local SMTP server), each
once, on both stores.

The story runs under the 2026 agreement: 8 business hours to decide, 09:00-17:00 Chicago
time (CST, UTC-6 in early March) on weekdays. Reasoned by hand from that calendar:
- acme, handed Monday 2 March 09:00, is due Monday 17:00; it has used half its window at
  13:00, three quarters at 15:00, nine tenths at 16:12 (7.2 of 8 hours);
- night, handed Monday 20:00, starts its clock at Tuesday's opening: half at Tuesday 13:00;
- weekend, handed Friday 27 February 15:00, has 2 hours on Friday and the rest from
  Monday 09:00: half (4 hours) at Monday 11:00, due Monday 15:00.
"""

from __future__ import annotations

import contextlib
import functools
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message as EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from cli_helpers import Handoff
from conftest import AGREEMENT, FakeClock, agreement_toml
from eventsourcing.persistence import RecordConflictError

import handoff.cli
import handoff.notify
import handoff.notify_channels
from handoff.application import HandoffApp
from handoff.domain.agreement_file import parse_agreement
from handoff.domain.errors import Refused
from handoff.domain.notices import Notice
from handoff.notify import send_notices
from handoff.notify_channels import DeliveryFailed, Mailbox, Message, Webhook
from handoff.store import locate
from handoff.verification.world import put_in_force

# Local (CST) instants of the story, as UTC.
MONDAY_0900 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


# -- the local servers --------------------------------------------------------------------


@dataclass
class WebhookServer:
    """A Slack-like incoming webhook on 127.0.0.1: keeps each text it accepts."""

    url: str
    received: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answers to give first, then 200
    hold_first: threading.Event | None = None  # the first request waits for it
    first_arrived: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def where(self) -> str:
        """How the command names it: scheme, host and port (never the secret path)."""
        return "webhook " + "/".join(self.url.split("/")[:3])

    def about(self, prefix: str) -> list[str]:
        return [text for text in self.received if text.startswith(prefix)]


@pytest.fixture
def webhook() -> Iterator[WebhookServer]:
    with serving_webhook() as state:
        yield state


@contextlib.contextmanager
def serving_webhook(port: int = 0) -> Iterator[WebhookServer]:
    server_state: list[WebhookServer] = []

    class Inbox(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            state = server_state[0]
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with state.lock:
                first = not state.first_arrived.is_set()
                state.first_arrived.set()
            if first and state.hold_first is not None:
                state.hold_first.wait(timeout=30)
            with state.lock:
                status = state.statuses.pop(0) if state.statuses else 200
                if status == 200:
                    state.received.append(body["text"])
            self.send_response(status)
            if 300 <= status < 400:  # elsewhere: a page that answers a GET, as a login page
                self.send_header("Location", "/login")
            self.end_headers()
            self.wfile.write(b"ok")

        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<html>log in</html>")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Inbox)
    server_state.append(WebhookServer(f"http://127.0.0.1:{server.server_port}/services/T0/B0/x"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_state[0]
    finally:
        server.shutdown()
        server.server_close()


class Mailroom:
    """An SMTP server's handler: keeps each message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A port nothing listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def mailroom() -> Iterator[tuple[Mailroom, int]]:
    room = Mailroom()
    port = free_port()
    controller = Controller(room, hostname="127.0.0.1", port=port)
    controller.start()
    yield room, port
    controller.stop()


# -- the story ------------------------------------------------------------------------------


def hand(app: HandoffApp, key: str, at: str, owner: str = "sam") -> None:
    app.capture(key, "webinar", "maria", at=at)
    app.record(key, "qualified", "maria", at)
    app.record(key, "handed", "li", at, owner=owner)


@pytest.fixture
def monday(app: HandoffApp, clock: FakeClock) -> HandoffApp:
    """The agreement applied (no team) on 1 March; acme handed on Monday 2 March at 09:00."""
    clock.now = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    put_in_force(app, parse_agreement(agreement_toml(AGREEMENT, {"team": None})))
    clock.now = MONDAY_0900
    hand(app, "acme", "2026-03-02T09:00")
    return app


@pytest.fixture
def notify(store: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Handoff:
    """The real command line, on the test's store and clock (as cron would run it)."""
    monkeypatch.setattr(handoff.cli, "HandoffApp", functools.partial(HandoffApp, clock=clock))
    return Handoff(store, actor="cron")


def at(clock: FakeClock, text: str) -> None:
    clock.set(text)


def warnings(received: list[str], key: str) -> list[str]:
    return [text.split(" has used ")[1].split(" of ")[0]
            for text in received if text.startswith(f"At risk: lead {key} ")]


# -- webhook: before the breach, then once after it ------------------------------------------


def test_warned_at_half_three_quarters_and_nine_tenths_then_told_once_of_the_breach(
    monday: HandoffApp, clock: FakeClock, notify: Handoff, webhook: WebhookServer
) -> None:
    hook = ("sla", "notify", "--webhook", webhook.url)
    expected_after = {
        "2026-03-02T12:59:59-06:00": [],
        "2026-03-02T13:00:00-06:00": ["50 %"],
        "2026-03-02T14:59:00-06:00": ["50 %"],
        "2026-03-02T15:00:00-06:00": ["50 %", "75 %"],
        "2026-03-02T16:11:59-06:00": ["50 %", "75 %"],
        "2026-03-02T16:12:00-06:00": ["50 %", "75 %", "90 %"],
        "2026-03-02T17:00:00-06:00": ["50 %", "75 %", "90 %"],  # due now: still in time
    }
    for instant, marks in expected_after.items():
        at(clock, instant)
        notify.ok(*hook)
        assert warnings(webhook.received, "acme") == marks, instant
        assert webhook.about("Overdue: lead acme ") == []
    at(clock, "2026-03-02T17:00:01-06:00")
    assert "1 notice sent" in notify.ok(*hook)
    [breach] = webhook.about("Overdue: lead acme ")
    assert breach == (
        "Overdue: lead acme (owner sam) was due 2026-03-02 17:00 CST and is still neither "
        "accepted nor rejected (handed 2026-03-02 09:00 CST)."
    )
    for later in ("2026-03-02T18:00:00-06:00", "2026-03-03T12:00:00-06:00"):
        at(clock, later)
        notify.ok(*hook)
    assert len(webhook.about("Overdue: lead acme ")) == 1
    assert warnings(webhook.received, "acme") == ["50 %", "75 %", "90 %"]
    # One digest a business day, from its opening: Monday's (first run after 09:00) and
    # Tuesday's, which counts acme overdue.
    digests = webhook.about("Handoff digest")
    assert [d.splitlines()[0] for d in digests] == [
        "Handoff digest for Monday 2026-03-02 (America/Chicago)",
        "Handoff digest for Tuesday 2026-03-03 (America/Chicago)",
    ]
    assert "Overdue, still undecided: 1 (at Monday's opening: 0)" in digests[1]
    assert "Oldest overdue: acme (sam), due 2026-03-02 17:00 CST" in digests[1]
    assert "Handed since Monday 2026-03-02: 1; decided in time 0, late 0; still undecided 1" in (
        digests[1]
    )


def test_the_window_counts_business_hours_only(
    monday: HandoffApp, clock: FakeClock, notify: Handoff, webhook: WebhookServer
) -> None:
    at(clock, "2026-03-02T20:00:00-06:00")
    hand(monday, "night", "2026-03-02T20:00")
    hand(monday, "weekend", "2026-02-27T15:00")  # recorded now, under the agreement
    hook = ("sla", "notify", "--webhook", webhook.url)
    at(clock, "2026-03-03T12:59:00-06:00")
    notify.ok(*hook)
    assert warnings(webhook.received, "night") == []
    at(clock, "2026-03-03T13:00:00-06:00")
    notify.ok(*hook)
    assert warnings(webhook.received, "night") == ["50 %"]
    # weekend was due Monday 15:00: overdue by now, and told once (no warnings first:
    # it was recorded after its marks had passed).
    assert warnings(webhook.received, "weekend") == []
    [told] = webhook.about("Overdue: lead weekend ")
    assert "was due 2026-03-02 15:00 CST" in told


def test_a_weekend_handoff_is_at_half_its_window_on_monday_at_eleven(
    app: HandoffApp, clock: FakeClock, notify: Handoff, webhook: WebhookServer
) -> None:
    clock.now = datetime(2026, 2, 27, 14, 0, tzinfo=UTC)
    put_in_force(app, parse_agreement(agreement_toml(AGREEMENT, {"team": None})))
    at(clock, "2026-02-27T15:00:00-06:00")
    hand(app, "weekend", "2026-02-27T15:00")
    hook = ("sla", "notify", "--webhook", webhook.url)
    for instant in ("2026-02-28T10:00:00-06:00", "2026-03-02T10:59:00-06:00"):
        at(clock, instant)
        notify.ok(*hook)
    assert warnings(webhook.received, "weekend") == []
    at(clock, "2026-03-02T11:00:00-06:00")
    notify.ok(*hook)
    [warning] = webhook.about("At risk: lead weekend ")
    assert warning == (
        "At risk: lead weekend (owner sam) has used 50 % of its decision window: handed "
        "2026-02-27 15:00 CST, due 2026-03-02 15:00 CST, 4.0 business hours left to accept "
        "or reject it."
    )


# -- once, and again after a failure ------------------------------------------------------


def test_running_twice_sends_nothing_new(
    monday: HandoffApp, clock: FakeClock, notify: Handoff, webhook: WebhookServer
) -> None:
    at(clock, "2026-03-02T13:00:00-06:00")
    first = notify.ok("sla", "notify", "--webhook", webhook.url)
    assert first.splitlines()[-1] == "2 notices sent, 0 failed, 0 already sent"
    assert len(webhook.received) == 2  # the 50 % warning and Monday's digest
    again = notify.ok("sla", "notify", "--webhook", webhook.url)
    assert again == "0 notices sent, 0 failed, 2 already sent\n"
    assert len(webhook.received) == 2


def test_a_run_before_any_agreement_says_why_it_sends_nothing(
    app: HandoffApp, clock: FakeClock, notify: Handoff, webhook: WebhookServer
) -> None:
    """No agreement in force yet: no handoff has a due instant, so no warning, breach or
    digest is due. The cron log said only `0 notices sent`, every 5 minutes, for ever;
    it says why on stderr, as `sla due` and `sla breaches` do."""
    clock.now = MONDAY_0900
    hand(app, "acme", "2026-03-02T09:00")
    at(clock, "2026-03-02T16:30:00-06:00")
    for dry_run in ((), ("--dry-run",)):
        done = notify("sla", "notify", "--webhook", webhook.url, *dry_run)
        assert done.exit_code == 0, done.output
        assert done.stderr.startswith("note: no agreement has been in force, so no handoff"
                                      " has a due instant to be judged by"), done.stderr
    assert webhook.received == []


def test_a_failing_endpoint_is_tried_again_at_the_next_run(
    monday: HandoffApp, clock: FakeClock, notify: Handoff, webhook: WebhookServer
) -> None:
    webhook.statuses = [500, 500]
    at(clock, "2026-03-02T13:00:00-06:00")
    result = notify("sla", "notify", "--webhook", webhook.url)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == "0 notices sent, 2 failed, 0 already sent"
    [line] = result.stderr.strip().splitlines()
    assert line == (
        f"Error: 2 notices not delivered ({webhook.where} answered HTTP 500); the next run "
        "sends them again"
    )
    assert "/services/" not in result.output  # the webhook's secret path is never shown
    assert webhook.received == []
    at(clock, "2026-03-02T13:05:00-06:00")
    assert notify.ok("sla", "notify", "--webhook", webhook.url).splitlines()[-1] == (
        "2 notices sent, 0 failed, 0 already sent"
    )
    assert warnings(webhook.received, "acme") == ["50 %"]
    assert len(webhook.about("Handoff digest")) == 1
    at(clock, "2026-03-02T13:10:00-06:00")
    notify.ok("sla", "notify", "--webhook", webhook.url)
    assert len(webhook.received) == 2


def test_one_failure_does_not_stop_the_other_deliveries(
    monday: HandoffApp, clock: FakeClock, notify: Handoff, webhook: WebhookServer
) -> None:
    webhook.statuses = [503]  # the first notice (acme's warning) fails, the digest goes
    at(clock, "2026-03-02T13:00:00-06:00")
    result = notify("sla", "notify", "--webhook", webhook.url)
    assert result.exit_code == 1
    assert "1 notice sent, 1 failed" in result.stdout
    assert "answered HTTP 503); the next run sends it again" in result.stderr
    assert len(webhook.about("Handoff digest")) == 1
    at(clock, "2026-03-02T13:01:00-06:00")
    notify.ok("sla", "notify", "--webhook", webhook.url)
    assert warnings(webhook.received, "acme") == ["50 %"]
    assert len(webhook.received) == 2


def test_a_redirect_is_a_failed_delivery_not_followed_with_a_get(
    monday: HandoffApp, clock: FakeClock, notify: Handoff, webhook: WebhookServer
) -> None:
    # urllib would follow a 302 with a GET, dropping the notice's text, and the page it
    # leads to answers 200: the notices would be remembered as sent and never arrive.
    webhook.statuses = [302, 301]
    at(clock, "2026-03-02T13:00:00-06:00")
    result = notify("sla", "notify", "--webhook", webhook.url)
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[-1] == "0 notices sent, 2 failed, 0 already sent"
    assert result.stderr == (
        f"Error: 2 notices not delivered ({webhook.where} answered HTTP 302); the next run"
        " sends them again\n"
    )
    at(clock, "2026-03-02T13:01:00-06:00")
    assert notify.ok("sla", "notify", "--webhook", webhook.url).splitlines()[-1] == (
        "2 notices sent, 0 failed, 0 already sent"
    )
    assert len(webhook.received) == 2


def test_a_notice_claimed_by_a_run_that_died_is_sent_once_its_claim_has_lapsed(
    monday: HandoffApp, clock: FakeClock, webhook: WebhookServer
) -> None:
    at(clock, "2026-03-02T13:00:00-06:00")
    channel = Webhook(webhook.url)

    class Dies:
        key, label, server = channel.key, channel.label, channel.server

        def deliver(self, message: Any) -> None:
            raise KeyboardInterrupt  # the run is killed while delivering

    with pytest.raises(KeyboardInterrupt):
        send_notices(monday, [Dies()], actor="cron")
    at(clock, "2026-03-02T13:10:00-06:00")  # the claim is 10 minutes old: still held
    assert send_notices(monday, [channel], actor="cron").sent[0].draft.kind == "digest"
    assert webhook.about("At risk: lead acme ") == []
    at(clock, "2026-03-02T13:10:01-06:00")  # past the lease: taken over
    report = send_notices(monday, [channel], actor="cron")
    assert [a.draft.kind for a in report.sent] == ["at_risk_50"]
    assert len(webhook.about("At risk: lead acme ")) == 1


def test_a_run_stopped_after_its_deliveries_still_says_what_it_delivered(
    monday: HandoffApp, clock: FakeClock, notify: Handoff, webhook: WebhookServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both notices due (acme's 50 % warning and the digest) were delivered, and the run
    then stopped on recording the second's outcome (the store busy under a backup, say):
    it said only why it stopped, and the cron log kept no trace of the two messages sales
    had received. It says what it delivered first, then why it stopped."""
    at(clock, "2026-03-02T13:00:00-06:00")
    recorded = handoff.notify._record_outcome
    outcomes: list[Any] = []

    def record_then_stop(app: HandoffApp, notice: Any) -> None:
        outcomes.append(notice)
        if len(outcomes) == 2:
            raise Refused("the store is busy")
        recorded(app, notice)

    monkeypatch.setattr(handoff.notify, "_record_outcome", record_then_stop)
    result = notify("sla", "notify", "--webhook", webhook.url)
    assert result.exit_code == 1
    assert len(webhook.received) == 2
    sent = result.stdout.splitlines()
    assert len(sent) == 2 and all(line.startswith(f"sent by {webhook.where}: ") for line in sent)
    assert result.stderr == "Error: the store is busy\n"


# -- two runs at once ---------------------------------------------------------------------


def test_two_overlapping_runs_deliver_each_notice_once(
    monday: HandoffApp, clock: FakeClock, store: str, webhook: WebhookServer
) -> None:
    at(clock, "2026-03-02T08:00:00-06:00")
    for key in ("bolt", "cole", "dune"):
        hand(monday, key, "2026-02-27T13:00")  # each at half its window at Monday 09:00
    at(clock, "2026-03-02T13:00:00-06:00")
    webhook.hold_first = threading.Event()
    channel = Webhook(webhook.url)
    first_app = HandoffApp(locate(store), clock=clock)
    second_app = HandoffApp(locate(store), clock=clock)
    reports: list[Any] = []
    try:
        first = threading.Thread(
            target=lambda: reports.append(send_notices(first_app, [channel], actor="one"))
        )
        first.start()
        # The first run has claimed its first notice and is delivering it (held) while
        # the second run goes through every notice.
        assert webhook.first_arrived.wait(timeout=30)
        second = send_notices(second_app, [channel], actor="two")
        webhook.hold_first.set()
        first.join(timeout=60)
        assert not first.is_alive()
    finally:
        webhook.hold_first.set()
        first_app.close()
        second_app.close()
    [first_report] = reports
    # bolt, cole and dune at 75 % (6 of 8 hours used), acme at 50 %, and the digest.
    assert sorted(webhook.received) == sorted(set(webhook.received))
    assert len(webhook.received) == 5
    assert len(first_report.sent) + len(second.sent) == 5
    assert len(first_report.sent) >= 1 and len(second.sent) >= 1
    assert first_report.failed == second.failed == []


def test_runs_started_together_deliver_each_notice_once(
    monday: HandoffApp, clock: FakeClock, store: str, webhook: WebhookServer
) -> None:
    at(clock, "2026-03-02T08:00:00-06:00")
    keys = [f"lead-{n}" for n in range(6)]
    for key in keys:
        hand(monday, key, "2026-02-27T13:00")
    at(clock, "2026-03-02T09:00:00-06:00")
    channel = Webhook(webhook.url)
    apps = [HandoffApp(locate(store), clock=clock) for _ in range(3)]
    start = threading.Barrier(len(apps))
    reports: list[Any] = []

    def run(app: HandoffApp) -> None:
        start.wait(timeout=30)
        reports.append(send_notices(app, [channel], actor="cron"))

    threads = [threading.Thread(target=run, args=(app,)) for app in apps]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        for app in apps:
            app.close()
    assert len(reports) == len(apps)
    # Six leads at half their window (4 of 8 hours at Monday's opening), and the digest;
    # acme, handed at 09:00, has used nothing yet.
    assert sorted(warnings(webhook.received, k)[0] for k in keys) == ["50 %"] * 6
    assert len(webhook.received) == 7
    assert sum(len(r.sent) for r in reports) == 7


def test_the_store_accepts_one_claim_of_a_notice(monday: HandoffApp, store: str) -> None:
    """What the once-only guarantee rests on: two runs that both found a notice unsent
    and both record its claim; the store keeps the first and refuses the second."""
    other = HandoffApp(locate(store))
    try:
        claim = {"subject": "acme@2026-03-02T15:00:00Z", "kind": "at_risk_50",
                 "channel": "webhook:0123", "claimed_at": MONDAY_0900, "actor": "cron"}
        monday.save(Notice(**claim))
        with pytest.raises(RecordConflictError):
            other.save(Notice(**claim))
    finally:
        other.close()


# -- e-mail -------------------------------------------------------------------------------


def test_notices_by_email_say_what_happened(
    monday: HandoffApp, clock: FakeClock, notify: Handoff, webhook: WebhookServer,
    mailroom: tuple[Mailroom, int],
) -> None:
    room, port = mailroom
    at(clock, "2026-03-02T15:00:00-06:00")
    out = notify.ok("sla", "notify", "--smtp", f"smtp://127.0.0.1:{port}",
                    "--to", "sales-leads@example.com", "--from", "handoff@example.com",
                    "--webhook", webhook.url)
    assert out.splitlines()[-1] == "4 notices sent, 0 failed, 0 already sent"
    assert ("sent by e-mail to sales-leads@example.com: At risk: acme (sam), 75 % of the"
            " decision window used") in out.splitlines()  # it said "sent to e-mail to"
    assert len(webhook.received) == 2  # the same two notices on each channel
    mails = {message["Subject"]: (to, message) for to, message in room.messages}
    assert set(mails) == {
        "At risk: acme (sam), 75 % of the decision window used",
        "Handoff digest for Monday 2026-03-02 (America/Chicago)",
    }
    to, warning = mails["At risk: acme (sam), 75 % of the decision window used"]
    assert to == ["sales-leads@example.com"]
    assert (warning["From"], warning["To"]) == ("handoff@example.com", "sales-leads@example.com")
    assert warning.get_payload(decode=True).decode().strip() == (
        "At risk: lead acme (owner sam) has used 75 % of its decision window: handed "
        "2026-03-02 09:00 CST, due 2026-03-02 17:00 CST, 2.0 business hours left to accept "
        "or reject it."
    )
    digest = mails["Handoff digest for Monday 2026-03-02 (America/Chicago)"][1]
    body = digest.get_payload(decode=True).decode()
    assert "At risk, half the window or more used: 1 (at Friday's opening: 0)" in body
    assert "Pending: 1, of which due today: 1" in body
    assert "By owner: sam 1 at risk" in body
    at(clock, "2026-03-02T15:30:00-06:00")
    notify.ok("sla", "notify", "--smtp", f"smtp://127.0.0.1:{port}",
              "--to", "sales-leads@example.com")
    assert len(room.messages) == 2


def test_each_address_given_gets_every_notice_once(
    monday: HandoffApp, clock: FakeClock, notify: Handoff, mailroom: tuple[Mailroom, int],
) -> None:
    """`--to` given twice sent to the last address alone, silently: each address is now a
    channel of its own (the same address twice, in any case, once)."""
    room, port = mailroom
    at(clock, "2026-03-02T15:00:00-06:00")  # a 75 % warning and the digest are due
    out = notify.ok("sla", "notify", "--smtp", f"smtp://127.0.0.1:{port}",
                    "--to", "sam@example.com", "--to", "ola@example.com",
                    "--to", "SAM@example.com")
    assert out.splitlines()[-1] == "4 notices sent, 0 failed, 0 already sent"
    assert sorted(to for to, _ in room.messages) == [["ola@example.com"]] * 2 + [
        ["sam@example.com"]] * 2
    out = notify.ok("sla", "notify", "--smtp", f"smtp://127.0.0.1:{port}",
                    "--to", "ola@example.com", "--to", "li@example.com")
    assert out.splitlines()[-1] == "2 notices sent, 0 failed, 2 already sent"


def test_the_channels_may_come_from_the_environment(
    monday: HandoffApp, clock: FakeClock, notify: Handoff, webhook: WebhookServer,
    mailroom: tuple[Mailroom, int], monkeypatch: pytest.MonkeyPatch,
) -> None:
    room, port = mailroom
    monkeypatch.setenv("HANDOFF_WEBHOOK", webhook.url)
    monkeypatch.setenv("HANDOFF_SMTP", f"smtp://127.0.0.1:{port}")
    at(clock, "2026-03-02T13:00:00-06:00")
    out = notify.ok("sla", "notify", "--to", "sales-leads@example.com")
    assert out.splitlines()[-1] == "4 notices sent, 0 failed, 0 already sent"
    assert len(webhook.received) == len(room.messages) == 2


# -- bad input, dry runs, missing stores --------------------------------------------------


@pytest.mark.parametrize(("options", "says"), [
    ((), "give at least one channel"),
    (("--webhook", "ftp://example.com/hook"), "--webhook: not a URL of the form https://"),
    (("--webhook", "hooks.slack.com/services/T0"), "--webhook: not a URL"),
    (("--webhook", "https://user:s3cret@example.com/x"), "may not carry a user or password"),
    (("--webhook", "https://example.com:99999/x"), "port is not a number"),
    (("--webhook", "https://example.com:0/x"), "port is not a number from 1 to 65535"),
    (("--webhook", "http://user:s3cret@[bad"), "--webhook: not a URL"),
    (("--smtp", "smtp://127.0.0.1:25"), "--smtp and --to go together"),
    (("--to", "a@example.com"), "--smtp and --to go together"),
    (("--smtp", "http://mail.example.com", "--to", "a@example.com"), "--smtp: not a URL"),
    (("--smtp", "smtp://u:s3cret@mail.example.com:0x19", "--to", "a@example.com"),
     "port is not a number"),
    (("--smtp", "smtp://mail.example.com", "--to", "nobody"), "--to: not an e-mail address"),
    (("--smtp", "smtp://mail.example.com", "--to", "a@example.com", "--from", ""),
     "--from: not an e-mail address: ''"),  # it sent from the default sender
    # click kept the last one given: the first webhook got nothing, and nobody was told
    (("--webhook", "https://hooks.slack.com/services/T0/B0/s3cret",
      "--webhook", "https://hooks.slack.com/services/T1/B1/s3cret"),
     "--webhook given 2 times: a run sends to one webhook"),
    (("--smtp", "smtp://u:s3cret@mail.example.com", "--smtp", "smtp://u:s3cret@b.example.com",
      "--to", "a@example.com"), "--smtp given 2 times: a run sends to one SMTP server"),
])
def test_bad_options_are_a_usage_error_in_one_line(
    monday: HandoffApp, notify: Handoff, options: tuple[str, ...], says: str
) -> None:
    result = notify("sla", "notify", *options)
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert says in line
    assert "s3cret" not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(("options", "says"), [
    (("--webhook", "http://127.0.0.1:9/hooks/s3cret x"), "may not contain a space or a control"),
    (("--webhook", "https://hooks.slack.com/services/T0/B0/s3cret\tTOKEN"),
     "may not contain a space or a control"),
    (("--webhook", "https://hooks.slack.com/services/T0/B0/s3cret\x00"),
     "may not contain a space or a control"),
    (("--webhook", "https://hooks.slack.com/services/T0/B0/s3cret\x7f"),
     "may not contain a space or a control"),
    (("--webhook", "https://hooks%0Aslack.com/services/T0/B0/s3cret"),  # urllib decodes a host
     "may not contain a space or a control"),
    (("--webhook", "http://127.0.0.1:9/s3cret/\u00e9"), "only ASCII characters outside"),
    (("--webhook", "http://127.0.0.1:9/s3cret?to=\u00e9"), "only ASCII characters outside"),
    (("--webhook", "http://xn--a.\u00e9" + "x" * 64 + "/s3cret"), "--webhook: not a URL"),
    (("--smtp", "smtp://sales:s3cret x@127.0.0.1", "--to", "a@example.com"),
     "may not contain a space or a control"),
    (("--smtp", "smtp://sales:s3cr%C3%A9t@127.0.0.1", "--to", "a@example.com"),
     "--smtp: the URL's user and password may hold only ASCII characters"),
    (("--smtp", "smtp://sales:s3cret@127.0.0.1", "--to", "a\x7f@example.com"),
     "--to: not an e-mail address"),
    # A raw `/` in the password: read as host 'sales', port 2718, and said so, `SMTP
    # sales:2718: Name or service not known`, the password's start in the cron log.
    (("--smtp", "smtp://sales:2718/s3cret@127.0.0.1:8025", "--to", "a@example.com"),
     "--smtp: the URL's password holds a raw /, ? or #: percent-encode it"),
    (("--smtp", "smtps://sales:2718?s3cret@127.0.0.1", "--to", "a@example.com"),
     "--smtp: the URL's password holds a raw /, ? or #: percent-encode it"),
    (("--smtp", "smtp://sales:s3cret#x@127.0.0.1", "--to", "a@example.com"),
     "--smtp: the URL's password holds a raw /, ? or #: percent-encode it"),
])
def test_a_url_http_or_smtp_could_not_send_is_refused_before_anything_is_recorded(
    monday: HandoffApp, clock: FakeClock, notify: Handoff, options: tuple[str, ...], says: str
) -> None:
    """Refused up front, where the libraries would fail mid-run: an internal error quoting
    the secret path after a notice was claimed (a space, a control character), or a
    delivery failed again at every run (a character beyond ASCII)."""
    at(clock, "2026-03-02T13:00:00-06:00")  # a warning and the digest are due
    before = notify.ok("audit", "digest")
    result = notify("sla", "notify", *options)
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert says in line and line.endswith(" sla notify --help')")
    assert "s3c" not in result.output and "Traceback" not in result.output
    assert notify.ok("audit", "digest") == before  # no notice claimed


def test_a_webhook_whose_path_holds_an_at_sign_after_a_port_is_sendable(
    webhook: WebhookServer,
) -> None:
    """Teams' incoming webhooks hold `@` in their path: with a port before it, that is no
    password typed raw, as it is in an SMTP URL."""
    url = webhook.url.rstrip("/") + "/webhookb2/0f1e@2d3c/IncomingWebhook/4b5a"
    assert ":" in url.split("://")[1].split("/")[0]  # a port: the test means one
    Webhook(url)


def test_a_host_name_beyond_ascii_and_a_percent_encoded_path_are_sendable() -> None:
    """http.client sends a host name in its IDNA form, and a path as written."""
    channel = Webhook("https://b\u00fccher.example/hooks/caf%C3%A9%20au%20lait")
    assert channel.label == "webhook https://b\u00fccher.example"


def test_an_ipv6_host_is_shown_in_brackets_as_a_url_writes_it() -> None:
    """`http://::1:8080` would read as a host `:` and a port `:1:8080`."""
    assert Webhook("http://[::1]:8080/hooks/T0/B0/secret").label == "webhook http://[::1]:8080"
    closed = free_port()  # unreachable all the same where the machine has no IPv6
    mailbox = Mailbox(f"smtp://[::1]:{closed}", "sales@example.com")
    with pytest.raises(DeliveryFailed) as failure:
        mailbox.deliver(Message("m1", "Overdue", "Overdue: lead acme"))
    assert str(failure.value).startswith(f"SMTP [::1]:{closed}: "), str(failure.value)


def test_a_webhook_url_with_a_tab_from_the_environment_is_refused_without_echoing_it(
    monday: HandoffApp, clock: FakeClock, notify: Handoff, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(clock, "2026-03-02T13:00:00-06:00")
    monkeypatch.setenv("HANDOFF_WEBHOOK", "https://hooks.slack.com/services/T0/B0/SECRET\tTOKEN")
    before = notify.ok("audit", "digest")
    result = notify("sla", "notify")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(
        "Error: --webhook: the URL may not contain a space or a control character (see '")
    assert "SECRET" not in result.output
    assert notify.ok("audit", "digest") == before


@pytest.mark.parametrize("variable", ["HANDOFF_WEBHOOK", "HANDOFF_SMTP"])
def test_a_channel_whose_variable_came_out_empty_is_refused_not_dropped(
    monday: HandoffApp, clock: FakeClock, notify: Handoff, monkeypatch: pytest.MonkeyPatch,
    variable: str,
) -> None:
    """`HANDOFF_WEBHOOK="$(cat /etc/handoff/slack-webhook)"` with the file gone: the other
    channel was served and Slack silently dropped (click takes an empty variable for an
    unset one)."""
    at(clock, "2026-03-02T13:00:00-06:00")
    monkeypatch.setenv(variable, "")
    other = (("--smtp", "smtp://127.0.0.1:9", "--to", "a@example.com")
             if variable == "HANDOFF_WEBHOOK" else ("--webhook", "http://127.0.0.1:9/hook"))
    before = notify.ok("audit", "digest")
    result = notify("sla", "notify", *other, *(("--to", "a@example.com")
                                                if variable == "HANDOFF_SMTP" else ()))
    assert result.exit_code == 2, result.output
    option = "--webhook" if variable == "HANDOFF_WEBHOOK" else "--smtp"
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(
        f"Error: {option} (or {variable}) is empty: give its URL, or leave it out (see '")
    assert notify.ok("audit", "digest") == before


@pytest.fixture
def not_http() -> Iterator[int]:
    """A port where something answers that is not an HTTP server (a line of SSH, say)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def answer() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.recv(65536)
                connection.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    listener.close()


def test_an_answer_that_is_not_http_is_a_failed_delivery_sent_again_next_run(
    monday: HandoffApp, clock: FakeClock, notify: Handoff, not_http: int
) -> None:
    url = f"http://127.0.0.1:{not_http}/services/T0/B0/secret-token"
    at(clock, "2026-03-02T13:00:00-06:00")
    result = notify("sla", "notify", "--webhook", url)
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[-1] == "0 notices sent, 2 failed, 0 already sent"
    assert result.stderr == (
        f"Error: 2 notices not delivered (webhook http://127.0.0.1:{not_http}: the HTTP"
        " exchange failed (BadStatusLine)); the next run sends them again\n"
    )
    at(clock, "2026-03-02T13:01:00-06:00")  # failed, not claimed for good: tried again
    again = notify("sla", "notify", "--webhook", url)
    assert again.stdout.splitlines()[-1] == "0 notices sent, 2 failed, 0 already sent"


class Silent:
    """A server on 127.0.0.1 that accepts each connection and never answers; counts them."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port: int = self.listener.getsockname()[1]
        self.connections = 0
        self.held: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.accept, daemon=True)
        self.thread.start()

    def accept(self) -> None:
        while not self.stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.held.append(connection)  # kept open, never answered
            self.connections += 1

    def close(self) -> None:
        """Stop listening (the port is free for a server that answers)."""
        if not self.stop.is_set():
            self.stop.set()
            self.thread.join()
            self.listener.close()
            for connection in self.held:
                connection.close()


@pytest.fixture
def silent() -> Iterator[Silent]:
    server = Silent()
    yield server
    server.close()


@pytest.mark.parametrize("silent_channel", ["webhook", "smtp"])
def test_a_channel_that_never_answers_is_given_up_after_one_timeout(
    monday: HandoffApp, clock: FakeClock, notify: Handoff, silent: Silent,
    webhook: WebhookServer, mailroom: tuple[Mailroom, int],
    monkeypatch: pytest.MonkeyPatch, silent_channel: str,
) -> None:
    """Waiting out the timeout once per notice would make a run last minutes and pile up
    under cron: after one timeout the run gives up on that channel, leaving its notices
    to the next run, and still serves the other channel."""
    # Only the silent channel's timeout is short: the other's, at 0.2 s too, would give up
    # on a live server that a busy machine makes slow to answer.
    timeout = {"webhook": "WEBHOOK_TIMEOUT_SECONDS", "smtp": "SMTP_TIMEOUT_SECONDS"}
    monkeypatch.setattr(handoff.notify_channels, timeout[silent_channel], 0.2)
    for key in ("bolt", "cask", "dune"):
        hand(monday, key, "2026-03-02T09:00")
    room, mail_port = mailroom
    if silent_channel == "webhook":
        hook_url = f"http://127.0.0.1:{silent.port}/services/T0/B0/x"
        served = lambda: len(room.messages)  # noqa: E731
    else:
        hook_url, mail_port = webhook.url, silent.port
        served = lambda: len(webhook.received)  # noqa: E731
    options = ("sla", "notify", "--webhook", hook_url,
               "--smtp", f"smtp://127.0.0.1:{mail_port}", "--to", "lead@example.com")
    at(clock, "2026-03-02T13:00:00-06:00")  # four 50 % warnings and the digest are due
    result = notify(*options)
    assert result.exit_code == 1, result.output
    assert silent.connections == 1
    assert result.stdout.splitlines()[-1] == "5 notices sent, 5 failed, 0 already sent"
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: 5 notices not delivered (") and "timed out" in line, line
    assert line.endswith("); the next run sends them again")
    assert served() == 5  # the other channel had them all
    silent.close()
    at(clock, "2026-03-02T13:05:00-06:00")  # the channel answers again, on the same port
    with contextlib.ExitStack() as stack:
        if silent_channel == "webhook":
            back = stack.enter_context(serving_webhook(silent.port))
            received = lambda: len(back.received)  # noqa: E731
        else:
            inbox = Mailroom()
            controller = Controller(inbox, hostname="127.0.0.1", port=silent.port)
            controller.start()
            stack.callback(controller.stop)
            received = lambda: len(inbox.messages)  # noqa: E731
        again = notify.ok(*options)
        assert again.splitlines()[-1] == "5 notices sent, 0 failed, 5 already sent"
        assert received() == 5
        assert served() == 5  # nothing twice


def test_the_addresses_of_a_server_that_never_answers_wait_out_one_timeout(
    monday: HandoffApp, clock: FakeClock, notify: Handoff, silent: Silent,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each address is a channel of its own, but all go through one SMTP server: a run
    waited out its 30 s once per address (three addresses, a minute and a half; ten would
    overrun cron's five minutes) and named the same timeout once per address."""
    monkeypatch.setattr(handoff.notify_channels, "SMTP_TIMEOUT_SECONDS", 0.2)
    at(clock, "2026-03-02T13:00:00-06:00")  # acme's 50 % warning and the digest are due
    result = notify("sla", "notify", "--smtp", f"smtp://127.0.0.1:{silent.port}",
                    "--to", "ann@example.com", "--to", "bob@example.com",
                    "--to", "cy@example.com")
    assert result.exit_code == 1, result.output
    assert silent.connections == 1
    assert result.stdout.splitlines()[-1] == "0 notices sent, 6 failed, 0 already sent"
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: 6 notices not delivered (") and "timed out" in line, line
    assert line.count(f"SMTP 127.0.0.1:{silent.port}") == 1, line
    assert line.endswith("); the next run sends them again")


def test_two_channels_failing_are_each_named_with_their_reason(
    monday: HandoffApp, clock: FakeClock, notify: Handoff
) -> None:
    """The line named the first channel's reason alone, as if the other had failed for it."""
    at(clock, "2026-03-02T13:00:00-06:00")  # a warning and the digest are due
    closed = free_port()
    result = notify("sla", "notify", "--webhook", f"http://127.0.0.1:{closed}/services/x",
                    "--smtp", f"smtp://127.0.0.1:{closed}", "--to", "lead@example.com")
    assert result.exit_code == 1, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: 4 notices not delivered (webhook http://127.0.0.1:")
    assert line.endswith(f"; SMTP 127.0.0.1:{closed}: [Errno 111] Connection refused); the"
                         " next run sends them again"), line
    assert line.count("webhook http://") == 1 and line.count("SMTP") == 1, line


def test_an_unreachable_destination_is_one_line_exit_1_without_the_password(
    monday: HandoffApp, clock: FakeClock, notify: Handoff
) -> None:
    at(clock, "2026-03-02T13:00:00-06:00")
    closed = free_port()
    for options in (
        ("--webhook", f"http://127.0.0.1:{closed}/services/T0/B0/secret-token"),
        ("--smtp", f"smtp://sales%40example.com:s3cret@127.0.0.1:{closed}",
         "--to", "lead@example.com"),
    ):
        result = notify("sla", "notify", *options)
        assert result.exit_code == 1, result.output
        [line] = result.stderr.strip().splitlines()
        assert "2 notices not delivered" in line and "the next run sends them again" in line
        assert "s3cret" not in result.output and "secret-token" not in result.output
        assert "Traceback" not in result.output


def test_a_dry_run_prints_what_would_be_sent_and_records_nothing(
    monday: HandoffApp, clock: FakeClock, notify: Handoff, webhook: WebhookServer
) -> None:
    at(clock, "2026-03-02T13:00:00-06:00")
    out = notify.ok("sla", "notify", "--webhook", webhook.url, "--dry-run")
    assert f"would send by {webhook.where}:\n  At risk: lead acme " in out
    assert "  Handoff digest for Monday 2026-03-02 (America/Chicago)\n" in out
    assert out.splitlines()[-1] == (
        "dry run: 2 notices would be sent (0 already sent); nothing sent, nothing recorded"
    )
    assert webhook.received == []
    assert notify.ok("sla", "notify", "--webhook", webhook.url).splitlines()[-1] == (
        "2 notices sent, 0 failed, 0 already sent"
    )
    assert notify.ok("sla", "notify", "--webhook", webhook.url, "--dry-run").splitlines()[-1] == (
        "dry run: 0 notices would be sent (2 already sent); nothing sent, nothing recorded"
    )


def test_notify_refuses_a_missing_store(tmp_path: Any) -> None:
    missing = tmp_path / "nowhere.sqlite"
    line = Handoff(str(missing)).refused("sla", "notify", "--webhook", "http://127.0.0.1:9/x")
    assert "no store at" in line
    assert not missing.exists()


def test_notices_survive_a_backup_and_restore(
    monday: HandoffApp, clock: FakeClock, notify: Handoff, webhook: WebhookServer,
    tmp_path: Any,
) -> None:
    at(clock, "2026-03-02T13:00:00-06:00")
    notify.ok("sla", "notify", "--webhook", webhook.url)
    backup = tmp_path / "backup.jsonl"
    backup.write_text(notify.ok("export", "--format", "jsonl"), encoding="utf-8")
    restored = Handoff(str(tmp_path / "restored.sqlite"))
    restored.ok("import", str(backup))
    # The restored store remembers what was sent: the next run there sends nothing again.
    again = Handoff(restored.store, actor="cron").ok("sla", "notify", "--webhook", webhook.url)
    assert again.splitlines()[-1] == "0 notices sent, 0 failed, 2 already sent"


def test_the_digest_counts_the_handoffs_since_the_last_business_day_as_kpi_does(
    app: HandoffApp, clock: FakeClock, notify: Handoff, webhook: WebhookServer
) -> None:
    """"Handed since Monday" counts as `kpi --from MONDAY --to YESTERDAY` does: days in the
    time zone of the agreement in force on the first of them. The office moved from Chicago
    to Berlin on Tuesday: a handoff on Monday at 20:00 in Chicago (Tuesday 03:00 in Berlin) is
    one of Monday's for kpi, and the digest, counting Monday in Berlin, said none."""
    clock.now = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    put_in_force(app, parse_agreement(agreement_toml(
        AGREEMENT, {"team": None, "effective_to": "2026-03-02"})))
    put_in_force(app, parse_agreement(agreement_toml(AGREEMENT, {
        "team": None, "effective_from": "2026-03-03", "timezone": '"Europe/Berlin"'})))
    clock.now = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # Monday 20:00 in Chicago
    hand(app, "evening", "2026-03-02T20:00-06:00")
    at(clock, "2026-03-03T10:00:00+01:00")  # Tuesday, the Berlin office open
    notify.ok("sla", "notify", "--webhook", webhook.url)
    kpi = notify.json("kpi", "--from", "2026-03-02", "--to", "2026-03-02")
    assert kpi["sla"]["handoffs"] == 1  # Monday in Chicago: 06:00 UTC to 06:00 UTC
    [digest] = webhook.about("Handoff digest")
    assert digest.splitlines()[0] == "Handoff digest for Tuesday 2026-03-03 (Europe/Berlin)"
    assert "Handed since Monday 2026-03-02: 1; " in digest
