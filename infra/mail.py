"""Outgoing e-mail over SMTP (the standard library's smtplib).

`SMTP_URL` unset: no mailer, nothing is sent. Set:

    smtp://host:25                      plain (a local relay)
    smtp+starttls://user:pass@host:587  STARTTLS, then login
    smtps://user:pass@host:465          TLS from the start

User and password are URL-encoded in the URL. `MAIL_FROM` is the sender.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from infra.settings import Settings, SettingsError

DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


@dataclass(frozen=True)
class SmtpMailer:
    host: str
    port: int
    sender: str
    scheme: str = "smtp"
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0

    @classmethod
    def from_url(cls, url: str, sender: str) -> "SmtpMailer":
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise SettingsError("SMTP_URL must look like smtp://host:25, smtp+starttls://user:pass@host:587"
                                " or smtps://user:pass@host:465")
        return cls(host=parts.hostname, port=parts.port or DEFAULT_PORTS[parts.scheme], sender=sender,
                   scheme=parts.scheme, username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None)

    def send(self, to: list[str], subject: str, text: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, ", ".join(to), subject
        message["Date"], message["Message-ID"] = formatdate(localtime=False), make_msgid(domain="sroi-ledger")
        message.set_content(text)
        context = ssl.create_default_context()
        if self.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.scheme == "smtp+starttls":
                client.starttls(context=context)
            if self.username:
                client.login(self.username, self.password or "")
            client.send_message(message)


def mailer_from_settings(settings: Settings) -> SmtpMailer | None:
    """The configured mailer, or None when SMTP_URL is unset (then no mail is sent)."""
    url = getattr(settings, "smtp_url", None)
    if not url:
        return None
    return SmtpMailer.from_url(url, getattr(settings, "mail_from", None) or "SROI Ledger <noreply@localhost>")
