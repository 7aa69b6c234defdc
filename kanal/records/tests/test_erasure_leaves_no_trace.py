"""Erasure leaves no identifier of the citizen behind: after a request for
erasure (or the retention job) has removed a citizen's personal data, a
search of every text column of every model (CharField, TextField,
JSONField: a column added later is searched too) finds neither their id,
nor their handle, nor their name."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import models
from django.utils import timezone

from kanal.channels.networks.base import InboxItem as NetworkItem
from kanal.inbox import actions as inbox_actions
from kanal.inbox import replies as inbox_replies
from kanal.inbox.intake import ingest
from kanal.inbox.models import (
    DeliveryStatus,
    InboxItem,
    InboxSettings,
    ModerationAction,
    WebhookDelivery,
)
from kanal.records import retention
from kanal.records.models import RecordKind, RetentionRule

pytestmark = pytest.mark.django_db

CITIZEN = {"id": "88123456", "handle": "mettehansen@borger.social",
           "name": "Mette Hansen"}


def traces(spellings) -> list[str]:
    """Every ``model.column`` (with the row's pk) whose text holds one of
    ``spellings``, over every model's CharField, TextField and JSONField."""
    wanted = [s.casefold() for s in spellings]
    found = []
    for model in apps.get_models():
        columns = [f.attname for f in model._meta.concrete_fields
                   if isinstance(f, models.CharField | models.TextField
                                 | models.JSONField)]
        if not columns:
            continue
        for row in model._base_manager.values_list("pk", *columns):
            for column, value in zip(columns, row[1:], strict=True):
                if value is None:
                    continue
                text = (value if isinstance(value, str)
                        else json.dumps(value, ensure_ascii=False, default=str))
                if any(w in text.casefold() for w in wanted):
                    found.append(f"{model._meta.label}.{column}#{row[0]}")
    return found


def _citizen_writes(channel, remote_id, text, *, kind="comment",
                    parent="post-1"):
    ingest(channel, NetworkItem(
        remote_id=remote_id, kind=kind, author_id=CITIZEN["id"],
        author_name=CITIZEN["name"], author_handle=CITIZEN["handle"], text=text,
        created_at=timezone.now(), post_remote_id=parent if kind != "message"
        else "", parent_remote_id=parent))
    return InboxItem.objects.get(channel=channel, remote_id=remote_id)


@pytest.fixture
def traced(organisation, desk, django_capture_on_commit_callbacks):
    """Mette's comment and messages (on Mastodon and X), answered, noted
    on, moderated, her webhook body kept, everything recorded."""
    from kanal.channels.tests.factories import ChannelFactory

    mastodon = ChannelFactory(organisation=organisation, network="mastodon",
                              owner_administration=desk["kff"])
    with django_capture_on_commit_callbacks(execute=True):
        comment = _citizen_writes(mastodon, "301", "Hvornår åbner badet?")
        message = _citizen_writes(mastodon, "302", "Må jeg skrive her?",
                                  kind="message")
        # X names a conversation by its two people's ids.
        on_x = _citizen_writes(desk["x"], "9001", "Hej, et spørgsmål",
                               kind="message", parent=f"{CITIZEN['id']}-4242")
        # An edit: a second version of the text.
        ingest(mastodon, NetworkItem(
            remote_id="301", kind="comment", author_id=CITIZEN["id"],
            author_name=CITIZEN["name"], author_handle=CITIZEN["handle"],
            text="Hvornår åbner badet i morgen?", created_at=comment.created_at,
        ), action="edited", at=timezone.now() + timedelta(seconds=5))
        for item, key in ((comment, "a" * 32), (message, "b" * 32),
                          (on_x, "c" * 32)):
            inbox_replies.reply_to_item(item, actor=desk["editor"],
                                        text="Kl. 7. Mvh. Kommunen", key=key)
        inbox_actions.add_note(
            comment.conversation, actor=desk["editor"],
            text=f"Ring til {CITIZEN['name']} ({CITIZEN['handle']}) i morgen.")
    ModerationAction.objects.create(item=comment, kind="hide",
                                    reason="personal_data",
                                    author_id=CITIZEN["id"])
    WebhookDelivery.objects.create(
        network="mastodon", organisation=organisation,
        status=DeliveryStatus.FAILED,
        # Only her id: an erasure asked by her name finds it through her items.
        body=json.dumps({"account": {"id": CITIZEN["id"]}}))
    assert len(traces(CITIZEN.values())) > 5  # the search sees them
    return {"comment": comment, "message": message}


@pytest.mark.parametrize("asked_by", ["name", "id", "handle"])
@pytest.mark.usefixtures("traced")
def test_an_erasure_leaves_no_id_handle_or_name_of_the_citizen(
        desk, asked_by):
    retention.erase_person(actor=desk["officer"], person=CITIZEN[asked_by],
                           reason="Borgerens anmodning")
    left = traces(CITIZEN.values())
    assert not left, " ".join(left)


@pytest.mark.usefixtures("traced")
def test_retention_leaves_no_id_handle_or_name_of_the_citizen(
        organisation):
    """The inbox's period and the record's rules for what citizens said
    (and what they were answered) have all run out."""
    InboxSettings.objects.create(organisation=organisation, retention_days=30)
    for kind in (RecordKind.COMMENT, RecordKind.MESSAGE, RecordKind.REPLY,
                 RecordKind.MODERATION):
        RetentionRule.objects.create(organisation=organisation, kind=kind,
                                     keep_days=365)
    InboxItem.objects.update(received_at=timezone.now() - timedelta(days=40))
    retention.apply_retention(now=timezone.now() + timedelta(days=3650))
    left = traces(CITIZEN.values())
    assert not left, " ".join(left)
