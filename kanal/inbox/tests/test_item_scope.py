"""Items carry their conversation's assignment (``scope``): every path that
assigns a conversation or adds an item to one leaves each item's copy equal
to its conversation's, so a search narrows by it on the item row."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from kanal.inbox import actions, intake, scope, selectors
from kanal.inbox.models import (
    AssignmentRule,
    Conversation,
    InboxItem,
    InboxSettings,
)
from kanal.inbox.policies import conversation_policy
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import AdministrationFactory
from kanal.records import retention

from .conftest import fb_comment
from .factories import citizen_item

pytestmark = pytest.mark.django_db


def copies() -> dict[int, tuple]:
    """Each item's (administration, person), as stored."""
    return {pk: (a, p) for pk, a, p in InboxItem.objects.values_list(
        "pk", "assigned_administration_id", "assigned_to_id")}


def assign(conversation, **who) -> None:
    """The action on a fresh row, as a request would call it."""
    actions.assign_conversation(Conversation.objects.get(pk=conversation.pk),
                                **who)


def agree() -> dict[int, tuple]:
    """Every item's copy equals its conversation's assignment; the copies."""
    expected = {pk: (a, p) for pk, a, p in InboxItem.objects.values_list(
        "pk", "conversation__assigned_administration_id",
        "conversation__assigned_to_id")}
    assert copies() == expected
    assert not scope.disagreeing().exists()
    return expected


def test_every_path_that_assigns_or_adds_an_item_keeps_the_items_copy(
        desk, post_webhook, organisation, client_for, member):
    channel, editor = desk["channel"], desk["editor"]
    buf, tmf = desk["buf"], desk["tmf"]
    # Intake: a new conversation, then a reply in it (unassigned both).
    first = citizen_item(channel, "Første", remote_id="a")
    conversation = first.conversation
    reply = citizen_item(channel, "Svar", remote_id="a2", kind="reply", parent="a")
    assert agree()[reply.pk] == (None, None)
    # The desk assigns it through the page (the action's save).
    response = client_for(editor).post(
        f"/indbakke/{conversation.pk}/tildel/", {"administration": buf.pk})
    assert response.status_code == 302
    assert agree()[first.pk] == agree()[reply.pk] == (buf.pk, None)
    # A reply to an assigned conversation carries its assignment at once.
    later = citizen_item(channel, "Igen", remote_id="a3", kind="reply", parent="a")
    assert agree()[later.pk] == (buf.pk, None)
    # Given to a person of another administration, then to an administration.
    person = desk["tmf_contributor"]
    assign(conversation, actor=editor, administration=tmf,
                                person=person)
    assert {agree()[i] for i in (first.pk, reply.pk, later.pk)} == {
        (tmf.pk, person.pk)}
    assign(conversation, actor=editor, administration=buf)
    assert agree()[later.pk] == (buf.pk, None)
    # An assignment rule when intake creates the conversation, and a webhook
    # processed by the worker (the same rule).
    AssignmentRule.objects.create(organisation=organisation, channel=channel,
                                  administration=tmf)
    ruled = citizen_item(channel, "Tredje", remote_id="c")
    assert agree()[ruled.pk] == (tmf.pk, None)
    assert post_webhook("facebook", fb_comment("104738291045678_77")
                        ).status_code == 200
    intake.process_deliveries()
    hooked = InboxItem.objects.get(remote_id="104738291045678_77")
    assert agree()[hooked.pk] == (tmf.pk, None)
    # A bulk update of conversations (several at once).
    Conversation.objects.update(assigned_administration=buf, assigned_to=None)
    assert set(agree().values()) == {(buf.pk, None)}
    # An item moved to another conversation takes that one's assignment.
    Conversation.objects.filter(pk=ruled.conversation_id).update(
        assigned_administration=tmf)
    InboxItem.objects.filter(pk=later.pk).update(conversation=ruled.conversation)
    assert agree()[later.pk] == (tmf.pk, None)
    # A copy written straight into an item is put back: by a bulk update, and
    # by a full save() of an instance that never read the trigger's values.
    InboxItem.objects.filter(pk=first.pk).update(assigned_administration=tmf)
    assert agree()[first.pk] == (buf.pk, None)
    stale = InboxItem.objects.get(pk=reply.pk)
    stale.assigned_administration_id = None
    stale.save()
    assert agree()[reply.pk] == (buf.pk, None)
    # A person deleted, and an administration deleted: the conversations'
    # SET NULL (Django's own UPDATE) reaches the items.
    leaving = member(Role.CONTRIBUTOR, administration=buf)
    assign(conversation, actor=editor, administration=buf,
                                person=leaving)
    assert agree()[first.pk] == (buf.pk, leaving.pk)
    leaving.delete()
    assert agree()[first.pk] == (buf.pk, None)
    lone = AdministrationFactory(organisation=organisation, code="LONE")
    assign(conversation, actor=editor, administration=lone)
    assert agree()[first.pk] == (lone.pk, None)
    lone.delete()
    assert agree()[first.pk] == (None, None)


def test_retention_and_erasure_leave_the_copies_equal(desk, organisation):
    InboxSettings.objects.create(organisation=organisation, retention_days=30)
    channel, editor = desk["channel"], desk["editor"]
    old = citizen_item(channel, "Mit nummer er 12345678", author="Mette Hansen")
    young = citizen_item(channel, "Ny kommentar", author="Jens Holm")
    for item in (old, young):
        assign(item.conversation, actor=editor,
                                    administration=desk["buf"])
    when = timezone.now() - timedelta(days=40)
    InboxItem.objects.filter(pk=old.pk).update(received_at=when, created_at=when)
    retention.apply_retention(now=timezone.now())
    old.refresh_from_db()
    assert old.redacted_at is not None
    assert agree()[old.pk] == (desk["buf"].pk, None)


def test_a_restore_that_writes_items_before_their_conversation_agrees(desk):
    """A restore's raw inserts (``operations.backup``) come in any order;
    foreign keys are checked at commit."""
    channel, editor = desk["channel"], desk["editor"]
    item = citizen_item(channel, "Gendannet", remote_id="r")
    assign(item.conversation, actor=editor,
                                administration=desk["buf"])
    conversation = Conversation.objects.get(pk=item.conversation_id)
    item = InboxItem.objects.get(pk=item.pk)
    with transaction.atomic():
        InboxItem.objects.filter(pk=item.pk).delete()
        Conversation.objects.filter(pk=conversation.pk).delete()
        fields = [f for f in InboxItem._meta.local_concrete_fields]
        item.assigned_administration_id = None  # what an old backup holds
        InboxItem._base_manager._insert([item], fields=fields, raw=True)
        Conversation._base_manager._insert(
            [conversation], fields=Conversation._meta.local_concrete_fields,
            raw=True)
    assert agree()[item.pk] == (desk["buf"].pk, None)


def test_a_contributor_s_items_are_those_of_the_conversations_they_see(desk):
    channel, editor = desk["channel"], desk["editor"]
    mine = citizen_item(channel, "Affald i parken", remote_id="1")
    personal = citizen_item(channel, "Affald på vejen", remote_id="2")
    other = citizen_item(channel, "Affald ved skolen", remote_id="3")
    citizen_item(channel, "Affald uden ejer", remote_id="4")
    buf_contributor = desk["buf_contributor"]
    assign(mine.conversation, actor=editor,
                                administration=desk["buf"])
    assign(personal.conversation, actor=editor,
                                administration=desk["tmf"], person=buf_contributor)
    assign(other.conversation, actor=editor,
                                administration=desk["tmf"])
    for who in ("editor", "buf_contributor", "tmf_contributor", "analyst"):
        actor = desk[who]
        visible = conversation_policy.visible(actor)
        by_conversation = set(InboxItem.objects.filter(
            conversation__in=visible).values_list("pk", flat=True))
        by_item = set(conversation_policy.visible_items(actor).values_list(
            "pk", flat=True))
        assert by_item == by_conversation, who
        filters = selectors.Filters(q="affald")
        page = selectors.page_of(visible, filters, 1,
                                 items=conversation_policy.visible_items(actor))
        assert {c.pk for c in page.object_list} == set(
            InboxItem.objects.filter(pk__in=by_conversation).values_list(
                "conversation_id", flat=True)), who
    assert set(conversation_policy.visible_items(buf_contributor)) == {
        mine, personal}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's index")
def test_a_contributor_s_search_narrows_by_the_assignment_in_the_search_index(desk):
    """The plan's index condition holds the assignment: compared as a plain
    integer, the bigint column could not use the index (``btree_gin``) and a
    contributor's search read every match of a word."""
    from kanal.inbox import search

    channel, editor = desk["channel"], desk["editor"]
    for n, administration in enumerate((desk["buf"], desk["tmf"], desk["kff"])):
        item = citizen_item(channel, "Affald", remote_id=f"c{n}")
        assign(item.conversation, actor=editor, administration=administration)
    # 20,000 more with the word, none of them BUF's: read by the word alone,
    # BUF's contributor's one match costs 20,000 rows.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO inbox_inboxitem (organisation_id, channel_id, network, "
            "conversation_id, remote_id, kind, post_remote_id, parent_remote_id, "
            "author_id, author_name, author_handle, text, url, created_at, "
            "received_at, hidden_on_network, moderation_uncertain, personal_data, "
            "language) SELECT i.organisation_id, i.channel_id, i.network, "
            "i.conversation_id, 'bulk' || g || '-' || i.id, 'reply', '', '', '', "
            "'', '', 'affald', '', now(), now(), false, '', '[]', 'da' "
            "FROM inbox_inboxitem i, generate_series(1, 10000) g "
            "WHERE i.assigned_administration_id <> %s", [desk["buf"].pk])
        cursor.execute("ANALYZE inbox_inboxitem")
    # The policy's own narrowing, without the organisation (whose index the
    # plan could take instead).
    items = search.matching_items(conversation_policy.narrow(
        desk["buf_contributor"], InboxItem.objects.order_by()), "affald",
        "postgresql")
    sql, params = items.values("conversation_id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a small table
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    conditions = [line for line in plan.splitlines() if "Index Cond" in line]
    assert search.SCOPED_INDEX in plan, plan
    assert any("assigned_administration_id = " in line for line in conditions), plan
    assert any("assigned_to_id = " in line for line in conditions), plan
    assert items.count() == 1


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_existing_items_and_goes_back():
    before = [("inbox", "0014_item_author_handle")]
    after = [("inbox", "0015_items_carry_their_conversations_assignment")]
    try:
        apps = _migrate(before)
        Organisation = apps.get_model("organisations", "Organisation")
        Administration = apps.get_model("organisations", "Administration")
        Channel = apps.get_model("channels", "Channel")
        Conversation = apps.get_model("inbox", "Conversation")
        Item = apps.get_model("inbox", "InboxItem")
        org = Organisation.objects.create(name="Kommune", slug="kommune")
        buf = Administration.objects.create(organisation=org, code="BUF", name="B")
        channel = Channel.objects.create(organisation=org, network="facebook",
                                         display_name="FB", owner_administration=buf)
        now = timezone.now()
        assigned, unassigned = (Conversation.objects.create(
            organisation=org, channel=channel, key=key, assigned_administration=a)
            for key, a in (("c:1", buf), ("c:2", None)))
        for n, conversation in enumerate([assigned, assigned, unassigned]):
            Item.objects.create(organisation=org, channel=channel,
                                network="facebook", conversation=conversation,
                                remote_id=str(n), kind="comment", created_at=now)
        _migrate(after)
        call_command("migrate", "inbox", verbosity=0)  # SQLite: its triggers
        assert sorted(InboxItem.objects.values_list(
            "remote_id", "assigned_administration_id")) == [
            ("0", buf.pk), ("1", buf.pk), ("2", None)]
        agree()
        _migrate(before)
        with connection.cursor() as cursor:
            columns = {c.name for c in connection.introspection.get_table_description(
                cursor, "inbox_inboxitem")}
        assert "assigned_administration_id" not in columns
    finally:
        call_command("migrate", verbosity=0)
    agree()
