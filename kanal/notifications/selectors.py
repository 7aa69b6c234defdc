"""Reads: a member's notifications and unread count."""

from __future__ import annotations

from .models import Notification, Preference


def for_member(member, *, limit: int = 100):
    return Notification.objects.filter(recipient=member)[:limit]


def unread(member):
    return Notification.objects.filter(recipient=member, read_at__isnull=True)


def preference_for(member) -> Preference:
    """The member's stored choices, or the defaults (unsaved)."""
    return Preference.objects.filter(membership=member).first() or Preference(
        membership=member
    )
