"""A conversation's "Personoplysninger" follows its items' text (T4-11)."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from kanal.channels.networks.base import InboxItem as NetworkItem
from kanal.inbox import intake, retention
from kanal.inbox.models import Conversation

from .factories import citizen_item

pytestmark = pytest.mark.django_db


def flagged(item) -> bool:
    return Conversation.objects.get(pk=item.conversation_id).has_personal_data


def edit(channel, item, text):
    intake.ingest(channel, NetworkItem(
        remote_id=item.remote_id, kind=item.kind, author_id=item.author_id,
        author_name=item.author_name, text=text, created_at=item.created_at,
        post_remote_id=item.post_remote_id,
        parent_remote_id=item.parent_remote_id,
    ), action="edited", at=timezone.now())


def test_the_flag_stays_while_another_item_holds_personal_data(desk):
    first = citizen_item(desk["channel"], "Mit cpr er 120385-1234")
    second = citizen_item(desk["channel"], "Ring på 12 34 56 78",
                          author="Jens Holm", kind="reply",
                          parent=first.remote_id)
    assert first.conversation_id == second.conversation_id
    retention.redact_items([first.pk], now=timezone.now())
    assert flagged(first)
    retention.redact_items([second.pk], now=timezone.now())
    assert not flagged(first)


def test_the_flag_follows_the_citizens_edits_both_ways(desk):
    item = citizen_item(desk["channel"], "Hvornår åbner svømmehallen?")
    assert not flagged(item)
    edit(desk["channel"], item, "Mit cpr er 120385-1234")
    assert flagged(item)
    edit(desk["channel"], item, "Hvornår åbner svømmehallen i morgen?")
    assert not flagged(item)


def test_the_migration_clears_the_flags_left_behind(desk):
    kept = citizen_item(desk["channel"], "Mit cpr er 120385-1234",
                        parent="kept")
    stale = citizen_item(desk["channel"], "Hej", parent="stale")
    Conversation.objects.filter(pk=stale.conversation_id).update(
        has_personal_data=True)
    migration = importlib.import_module(
        "kanal.inbox.migrations.0016_recount_personal_data")
    migration.recount(apps, None)
    assert flagged(kept)
    assert not flagged(stale)
