"""In-app notifications, mirrored by email (Django's email backend)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse

from kanal.core.safety import header_value
from kanal.organisations.models import Membership

from .models import Notification

logger = logging.getLogger(__name__)


def members_with(organisation_id: int, permission: str, *, exclude_user=None):
    members = Membership.objects.filter(
        organisation_id=organisation_id, is_active=True, user__is_active=True
    ).select_related("user")
    return [
        m
        for m in members
        if m.has_perm(permission)
        and (exclude_user is None or m.user_id != exclude_user)
    ]


def members_for_user(organisation_id: int, user_id):
    if user_id is None:
        return []
    return list(
        Membership.objects.filter(
            organisation_id=organisation_id, user_id=user_id, is_active=True
        ).select_related("user")
    )


def notify(recipients, *, post, event: str, message: str) -> list[Notification]:
    """One notification per recipient, and an email after commit."""
    seen, rows = set(), []
    for member in recipients:
        if member.pk in seen:
            continue
        seen.add(member.pk)
        rows.append(
            Notification(
                recipient=member, post=post, event=event, message=message[:500]
            )
        )
    Notification.objects.bulk_create(rows)
    addresses = sorted({m.user.email for m in recipients if m.user.email})
    if addresses and post is not None:
        url = settings.KANAL_BASE_URL.rstrip("/") + reverse(
            "planning:post_detail", args=[post.pk]
        )
        # One line without control characters: Django refuses a header with
        # a carriage return or line feed (a title may hold one) and the mail
        # would be lost.
        subject = header_value(f"Kanal: {message}", max_length=150)
        body = f"{message}\n\nÅbn opslaget: {url}\n"
        transaction.on_commit(lambda: _mail(subject, body, addresses))
    return rows


def _mail(subject: str, body: str, addresses: list[str]) -> None:
    for address in addresses:
        try:
            send_mail(subject, body, None, [address])
        except Exception:
            logger.exception("Notification email to %s failed", address)
