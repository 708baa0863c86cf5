"""Where `handoff sla notify` delivers: a Slack-compatible incoming webhook, or a mailbox
over SMTP. Standard library only (urllib, smtplib, email).

A channel has a `key` (kept in the store with each notice sent on it: the kind of channel
and a digest of its destination, never the destination itself, since a webhook URL is a
secret) and a `label` to show people (scheme and host only; never a path, user or
password). Delivery either returns or raises `DeliveryFailed` with a reason fit to show.
"""

from __future__ import annotations

import hashlib
import json
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol
from urllib.parse import SplitResult, unquote, urlsplit

from handoff.domain.errors import InvalidInput

WEBHOOK_TIMEOUT_SECONDS = 10
SMTP_TIMEOUT_SECONDS = 30


class DeliveryFailed(Exception):
    """A notice did not reach its channel; the reason names no secret."""


class BadDestination(InvalidInput):
    """A webhook or SMTP URL, or an address, that cannot be used (said without echoing it)."""


@dataclass(frozen=True)
class Message:
    """What a channel delivers: a title (e-mail subject) and the text."""

    id: str  # the notice's id on this channel, stable across retries
    title: str
    text: str


class Channel(Protocol):
    key: str
    label: str

    def deliver(self, message: Message) -> None: ...


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _split(url: str, option: str, schemes: tuple[str, ...]) -> SplitResult:
    try:
        parts = urlsplit(url.strip())
        parts.hostname  # noqa: B018  (raises on a malformed host, e.g. "[bad")
    except ValueError:
        raise BadDestination(f"{option}: not a URL of the form {schemes[0]}://host/...") from None
    if parts.scheme.lower() not in schemes or not parts.hostname:
        raise BadDestination(f"{option}: not a URL of the form {schemes[0]}://host/...")
    try:
        parts.port  # noqa: B018  (raises on a port that is not a number in range)
    except ValueError:
        raise BadDestination(f"{option}: the URL's port is not a number from 1 to 65535") from None
    return parts


def _where(parts: SplitResult) -> str:
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme.lower()}://{parts.hostname}{port}"


class Webhook:
    """A Slack-compatible incoming webhook: a JSON POST of `{"text": ...}`."""

    def __init__(self, url: str) -> None:
        parts = _split(url, "--webhook", ("https", "http"))
        if parts.username is not None or parts.password is not None:
            raise BadDestination("--webhook: the URL may not carry a user or password")
        self.url = url.strip()
        self.key = f"webhook:{_digest(self.url)}"
        self.label = f"webhook {_where(parts)}"

    def deliver(self, message: Message) -> None:
        request = urllib.request.Request(
            self.url,
            data=json.dumps({"text": message.text}).encode(),
            headers={"Content-Type": "application/json", "User-Agent": "handoff"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
                response.read()
        except urllib.error.HTTPError as error:
            raise DeliveryFailed(f"{self.label} answered HTTP {error.code}") from None
        except urllib.error.URLError as error:
            raise DeliveryFailed(f"{self.label}: {_reason(error.reason)}") from None
        except (OSError, ValueError) as error:  # timeouts, resets, a malformed answer
            raise DeliveryFailed(f"{self.label}: {_reason(error)}") from None


class Mailbox:
    """One recipient, through an SMTP server: `smtp://` (STARTTLS when the server offers
    it) or `smtps://` (TLS from the start), with an optional user:password in the URL."""

    def __init__(self, url: str, to: str, sender: str | None = None) -> None:
        parts = _split(url, "--smtp", ("smtp", "smtps"))
        self.tls = parts.scheme.lower() == "smtps"
        self.host = parts.hostname or ""
        self.port = parts.port or (465 if self.tls else 25)
        self.user = None if parts.username is None else unquote(parts.username)
        self.password = None if parts.password is None else unquote(parts.password)
        self.to = _address("--to", to)
        default_sender = self.user if self.user and "@" in self.user else (
            f"handoff@{socket.gethostname() or 'localhost'}"
        )
        self.sender = _address("--from", sender) if sender else default_sender
        self.key = f"email:{_digest(self.to.lower())}"
        self.label = f"e-mail to {self.to}"

    def deliver(self, message: Message) -> None:
        mail = EmailMessage()
        mail["Subject"] = message.title
        mail["From"] = self.sender
        mail["To"] = self.to
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        mail["Message-ID"] = f"<{message.id}@handoff>"
        mail.set_content(message.text)
        where = f"SMTP {self.host}:{self.port}"
        try:
            with self._connect() as server:
                if self.user is not None:
                    server.login(self.user, self.password or "")
                server.send_message(mail)
        except smtplib.SMTPResponseException as error:
            text = error.smtp_error.decode(errors="replace") if isinstance(
                error.smtp_error, bytes) else str(error.smtp_error)
            raise DeliveryFailed(f"{where} answered {error.smtp_code} {_reason(text)}") from None
        except smtplib.SMTPRecipientsRefused:
            raise DeliveryFailed(f"{where} refused the recipient {self.to}") from None
        except (smtplib.SMTPException, OSError, ValueError) as error:
            raise DeliveryFailed(f"{where}: {_reason(error)}") from None

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.tls:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS,
                                    context=context)
        server = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS)
        try:
            server.ehlo()
            if server.has_extn("starttls"):
                server.starttls(context=context)
                server.ehlo()
        except BaseException:
            server.close()
            raise
        return server


def _address(option: str, text: str) -> str:
    address = text.strip()
    local, _, domain = address.rpartition("@")
    if not local or not domain or any(c.isspace() or c in "<>,;\"" for c in address):
        raise BadDestination(f"{option}: not an e-mail address: {text!r}")
    return address


def _reason(error: object) -> str:
    """One line saying why, without a traceback (and without the URL: it is not in it)."""
    text = " ".join(str(error).split())
    return text or type(error).__name__
