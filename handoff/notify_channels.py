"""Where `handoff sla notify` delivers: a Slack-compatible incoming webhook, or a mailbox
over SMTP. Standard library only (urllib, smtplib, email).

A channel has a `key` (kept in the store with each notice sent on it: the kind of channel
and a digest of its destination, never the destination itself, since a webhook URL is a
secret) and a `label` to show people (scheme and host only; never a path, user or
password). Delivery either returns or raises `DeliveryFailed` with a reason fit to show,
saying whether the channel itself is out of reach (timed out, refused, not found): a run
then gives up on that channel's `server` for its other notices, rather than waiting out
each one (the addresses of one SMTP server with it).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol
from urllib.parse import SplitResult, unquote, urlsplit

from handoff.domain.errors import InvalidInput
from handoff.store import password_typed_raw

WEBHOOK_TIMEOUT_SECONDS = 10
SMTP_TIMEOUT_SECONDS = 30


class DeliveryFailed(Exception):
    """A notice did not reach its channel; the reason names no secret. `unreachable`: the
    channel did not answer at all (a timeout, a refused or lost connection, an unknown
    host), as opposed to answering with a refusal of this notice."""

    def __init__(self, reason: str, *, unreachable: bool = False) -> None:
        super().__init__(reason)
        self.unreachable = unreachable


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
    # What a run gives up on when it does not answer: the webhook, or the SMTP server that
    # every address given with it goes through (not each address, waiting out its timeout).
    server: str

    def deliver(self, message: Message) -> None: ...


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _split(url: str, option: str, schemes: tuple[str, ...]) -> SplitResult:
    """The URL's parts, once it is one that the channel's library will send as it is: a
    malformed one is refused here, before any notice is claimed, without echoing it."""
    text = url.strip()
    not_a_url = f"{option}: not a URL of the form {schemes[0]}://host/..."
    try:
        parts = urlsplit(text)
        parts.hostname  # noqa: B018  (raises on a malformed host, e.g. "[bad")
    except ValueError:
        raise BadDestination(not_a_url) from None
    if parts.scheme.lower() not in schemes or not parts.hostname:
        raise BadDestination(not_a_url)
    # An SMTP URL has no path: an `@` after its host is a password's end (a webhook's path
    # may hold one: Teams' does). Else the password's start is read as the port, and shown.
    if parts.scheme.lower().startswith("smtp") and password_typed_raw(text):
        raise BadDestination(f"{option}: the URL's password holds a raw /, ? or #:"
                             " percent-encode it (%2F, %3F, %23)")
    try:
        port = parts.port  # raises on a port that is not a number in range
    except ValueError:
        port = 0
    if port == 0:
        raise BadDestination(f"{option}: the URL's port is not a number from 1 to 65535")
    _check_sendable(text, parts, option, not_a_url)
    return parts


# What http.client refuses in a URL's path and host (`_contains_disallowed_url_pchar_re`):
# a space or a control character. urlsplit quietly drops a tab or a newline, which urllib
# sends on, so the URL's text is what is tested.
_UNSENDABLE = re.compile(r"[\x00-\x20\x7f]")


def _check_sendable(text: str, parts: SplitResult, option: str, not_a_url: str) -> None:
    """Refuse what the libraries would refuse while delivering, each time, with the URL in
    their error: a space or a control character anywhere (in the host as urllib decodes
    it, too); beyond ASCII, a path or query (http.client sends them as ASCII), a user or
    password (smtplib logs in with ASCII), or a host name that has no IDNA form."""
    host = unquote(parts.hostname or "")
    if _UNSENDABLE.search(text) or _UNSENDABLE.search(host):
        raise BadDestination(f"{option}: the URL may not contain a space or a control character")
    if not (parts.path + parts.query + parts.fragment).isascii():
        raise BadDestination(f"{option}: the URL may hold only ASCII characters outside its "
                             "host name (percent-encode the others: é as %C3%A9)")
    user, password = (unquote(part or "") for part in (parts.username, parts.password))
    if not (user + password).isascii():
        raise BadDestination(f"{option}: the URL's user and password may hold only ASCII "
                             "characters")
    try:
        host.encode("ascii" if host.isascii() else "idna")
    except UnicodeError:  # a label empty or too long
        raise BadDestination(not_a_url) from None


def _where(parts: SplitResult) -> str:
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme.lower()}://{_host(parts.hostname or '')}{port}"


def _host(name: str) -> str:
    """A host as a URL writes it: an IPv6 address in brackets (`[::1]`), which without
    them reads as part of the port (`http://::1:8080`)."""
    return f"[{name}]" if ":" in name else name


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook takes the POST itself. urllib would follow a 301, 302 or 303 with a GET
    that drops the notice's text, and count the page it leads to (a login page, say) as a
    delivery; so a redirect is an answer other than 2xx: a failed delivery."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_WEBHOOK_OPENER = urllib.request.build_opener(_NoRedirects)


class Webhook:
    """A Slack-compatible incoming webhook: a JSON POST of `{"text": ...}`."""

    def __init__(self, url: str) -> None:
        parts = _split(url, "--webhook", ("https", "http"))
        if parts.username is not None or parts.password is not None:
            raise BadDestination("--webhook: the URL may not carry a user or password")
        self.url = url.strip()
        self.key = f"webhook:{_digest(self.url)}"
        self.label = f"webhook {_where(parts)}"
        self.server = self.key

    def deliver(self, message: Message) -> None:
        request = urllib.request.Request(
            self.url,
            data=json.dumps({"text": message.text}).encode(),
            headers={"Content-Type": "application/json", "User-Agent": "handoff"},
            method="POST",
        )
        try:
            with _WEBHOOK_OPENER.open(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
                response.read()
        except urllib.error.HTTPError as error:
            raise DeliveryFailed(f"{self.label} answered HTTP {error.code}") from None
        except urllib.error.URLError as error:  # connecting or sending the request failed
            raise DeliveryFailed(f"{self.label}: {_reason(error.reason)}",
                                 unreachable=isinstance(error.reason, OSError)) from None
        except http.client.HTTPException as error:  # its text may quote the URL: not shown
            raise DeliveryFailed(
                f"{self.label}: the HTTP exchange failed ({type(error).__name__})") from None
        except (OSError, ValueError) as error:  # timeouts, resets, a malformed answer
            raise DeliveryFailed(f"{self.label}: {_reason(error)}",
                                 unreachable=isinstance(error, OSError)) from None


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
        # Given empty ("$SENDER" unset), --from is refused as any address that is none.
        self.sender = default_sender if sender is None else _address("--from", sender)
        self.key = f"email:{_digest(self.to.lower())}"
        self.label = f"e-mail to {self.to}"
        self.server = f"{parts.scheme.lower()}://{_host(self.host)}:{self.port}"

    def deliver(self, message: Message) -> None:
        mail = EmailMessage()
        mail["Subject"] = message.title
        mail["From"] = self.sender
        mail["To"] = self.to
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        mail["Message-ID"] = f"<{message.id}@handoff>"
        mail.set_content(message.text)
        where = f"SMTP {_host(self.host)}:{self.port}"
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
            # smtplib reports a timeout or a lost connection as SMTPServerDisconnected
            unreachable = isinstance(error, smtplib.SMTPServerDisconnected) or (
                isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException))
            raise DeliveryFailed(f"{where}: {_reason(error)}", unreachable=unreachable) from None

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
    if not local or not domain or any(
        c.isspace() or not c.isprintable() or c in "<>,;\"" for c in address
    ):
        raise BadDestination(f"{option}: not an e-mail address: {text!r}")
    return address


def _reason(error: object) -> str:
    """One line saying why, without a traceback (and without the URL: it is not in the
    errors this is given; http.client's, which may quote it, are told by their kind)."""
    text = " ".join(str(error).split())
    return text or type(error).__name__
