"""E-mail: bodies from templates (templates/mail/, plain text and HTML) in the recipient's
language through the same catalogs as the pages, and delivery over SMTP (``SMTP_URL``)."""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from email.message import EmailMessage
from functools import cache
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosmtplib
import jinja2

from geo_service.config import Settings, get_settings
from geo_service.i18n import render
from geo_service.labels import label
from geo_service.profile import load_profile
from geo_service.templating import TEMPLATE_DIR, I18n, template_gettext, when

env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATE_DIR / "mail"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=[I18n],
    keep_trailing_newline=True,
)
env.policies["ext.i18n.trimmed"] = True
env.newstyle_gettext = True  # type: ignore[attr-defined]
env.filters["when"] = when


@cache
def city_timezone() -> str:
    """Times in mails are the city's (its profile's time zone)."""
    return load_profile(get_settings().city_profile).city.timezone


@dataclass(frozen=True)
class Body:
    text: str
    html: str


def render_body(name: str, lang: str, context: dict[str, Any]) -> Body:
    """``mail/<name>.txt`` and ``mail/<name>.html`` in ``lang``."""
    values = {
        "tz": city_timezone(),
        **context,
        **template_gettext(lang),
        "lang": lang,
        "text": lambda message: render(message, lang),
        "label": lambda kind, code: label(kind, code, lang),
    }
    plain = env.get_template(f"{name}.txt").render(values)
    html = env.get_template(f"{name}.html").render(values)
    return Body(plain, html)


class Refused(Exception):
    """The server refused the message for good (5xx): retrying would not help."""


def compose(settings: Settings, message: Any) -> EmailMessage:
    """A stored mail (a ``messages`` row) as what goes on the wire: one recipient, both
    bodies, a Message-ID that stays the same on every try (a receiver can drop a repeat)."""
    mail = EmailMessage()
    mail["From"] = settings.mail_from
    mail["To"] = message.recipient
    mail["Subject"] = message.subject or ""
    mail["Date"] = email.utils.formatdate(localtime=False)
    host = urlsplit(settings.public_url).hostname or "localhost"
    mail["Message-ID"] = f"<gs-message-{message.id}@{host}>"
    mail["Auto-Submitted"] = "auto-generated"
    for name, value in (message.headers or {}).items():
        mail[name] = value
    mail.set_content(message.body_text)
    if message.body_html:
        mail.add_alternative(message.body_html, subtype="html")
    return mail


def smtp_options(url: str) -> dict[str, Any]:
    """aiosmtplib's options for smtp://user:password@host:port (STARTTLS when the server
    offers it) or smtps:// (TLS from the start, port 465 by default)."""
    parts = urlsplit(url)
    implicit = parts.scheme == "smtps"
    return {
        "hostname": parts.hostname or "127.0.0.1",
        "port": parts.port or (465 if implicit else 25),
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "use_tls": implicit,
        "start_tls": None if not implicit else False,
    }


async def send(settings: Settings, mail: EmailMessage) -> str:
    """Hand the mail to the SMTP server; its answer. Raises Refused on a permanent refusal
    and anything else (a connection, a 4xx) for a retry."""
    try:
        _, answer = await aiosmtplib.send(mail, timeout=30, **smtp_options(settings.smtp_url))
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        if all(code >= 500 for code in codes):
            raise Refused("; ".join(f"{r.code} {r.message}" for r in exc.recipients)) from exc
        raise
    except aiosmtplib.SMTPResponseException as exc:
        if exc.code >= 500:
            raise Refused(f"{exc.code} {exc.message}") from exc
        raise
    return str(answer)
