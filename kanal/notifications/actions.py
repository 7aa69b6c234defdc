"""Writes: tell members (in the app and by e-mail), mark read, choose what
comes by e-mail."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kanal.core.safety import header_value
from kanal.organisations.models import Membership

from .kinds import KINDS
from .models import Notification, Preference, subject_of

logger = logging.getLogger("kanal.notifications")


def notify(
    recipients: Iterable[Membership],
    *,
    kind: str,
    params: dict | None = None,
    about=None,
    url: str = "",
    attachments: tuple[tuple[str, bytes, str], ...] = (),
) -> list[Notification]:
    """Tell each of ``recipients`` (once each) about ``kind`` with ``params``.

    ``about`` is the model instance it concerns (kept as ``subject``); ``url``
    where to act. Rows are written in the caller's transaction; e-mails go
    after commit to those whose preference asks for this kind, carrying
    ``attachments`` (file name, bytes, MIME type) if any.
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown notification kind {kind!r}")
    seen: set[int] = set()
    rows = []
    for member in recipients:
        if member.pk in seen:
            continue
        seen.add(member.pk)
        rows.append(
            Notification(
                recipient=member,
                kind=kind,
                params=dict(params or {}),
                subject=subject_of(about),
                url=url,
            )
        )
    Notification.objects.bulk_create(rows)
    if rows:
        transaction.on_commit(lambda: send_emails(rows, attachments=attachments))
    return rows


def send_emails(
    rows: list[Notification], *, attachments: tuple[tuple[str, bytes, str], ...] = ()
) -> int:
    """Mail each row to its recipient if they want its kind, in their
    language. A failed e-mail is logged; the notification stays in the app."""
    preferences = {
        p.membership_id: p
        for p in Preference.objects.filter(
            membership_id__in=[row.recipient_id for row in rows]
        )
    }
    sent = 0
    for row in rows:
        member = row.recipient
        preference = preferences.get(member.pk) or Preference(membership=member)
        if not member.user.email or not preference.wants_email(row.kind):
            continue
        with translation.override(preference.language):
            subject, body = _email(row)
        try:
            message = EmailMessage(subject, body, None, [member.user.email])
            for name, content, mime_type in attachments:
                message.attach(name, content, mime_type)
            message.send()
            sent += 1
        except Exception:
            logger.exception("Notification e-mail %s failed", row.kind)
    return sent


def _absolute(url: str) -> str:
    if url.startswith("/"):
        return settings.KANAL_BASE_URL.rstrip("/") + url
    return url


def _email(row: Notification) -> tuple[str, str]:
    message = row.message
    # One line without control characters: Django refuses a header with a
    # line break (a title may hold one) and the mail would be lost.
    subject = header_value(f"Kanal: {message}", max_length=150)
    lines = [message, ""]
    if row.url:
        lines.append(_("Åbn i Kanal: %(url)s") % {"url": _absolute(row.url)})
    lines.append(
        _("Vælg hvilke beskeder du får som e-mail: %(url)s")
        % {"url": _absolute(reverse("notifications:preferences"))}
    )
    return subject, "\n".join(lines) + "\n"


def resolve(*, kind: str, about) -> int:
    """Mark every member's unread notifications of ``kind`` about ``about``
    as read: what they said is over (a permission came back). Returns how
    many changed."""
    if kind not in KINDS:
        raise ValueError(f"Unknown notification kind {kind!r}")
    return Notification.objects.filter(
        kind=kind, subject=subject_of(about), read_at__isnull=True
    ).update(read_at=timezone.now())


def mark_read(*, actor: Membership, ids: Iterable[int] | None = None) -> int:
    """Mark the actor's unread notifications (those of ``ids``, or all) as
    read; another member's ids are ignored. Returns how many changed."""
    qs = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())


@transaction.atomic
def set_preferences(
    *, actor: Membership, email_kinds: Iterable[str], language: str
) -> Preference:
    """Store which kinds come by e-mail (exactly ``email_kinds``) and the
    e-mails' language."""
    chosen = set(email_kinds)
    unknown = chosen - set(KINDS)
    if unknown:
        raise ValueError(f"Unknown notification kinds {sorted(unknown)}")
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"Unknown language {language!r}")
    preference, _created = Preference.objects.select_for_update().get_or_create(
        membership=actor
    )
    preference.email = {
        code: code in chosen
        for code, kind in KINDS.items()
        if (code in chosen) != kind.by_email
    }
    preference.language = language
    preference.save(update_fields=["email", "language"])
    return preference
