"""During crisis mode the desk can show only the conversations whose crisis
words raised their priority (they come first anyway; the filter leaves the
rest out), for the desk and a contributor alike, read from the list's
indexes (which lead with the priority)."""

from __future__ import annotations

import pytest
from django.db import connection

from kanal.inbox import actions, counts, selectors
from kanal.inbox.models import Conversation
from kanal.inbox.policies import conversation_policy
from kanal.inbox.selectors import Filters
from kanal.publishing.models import Crisis

from .factories import citizen_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def crisis_inbox(desk, organisation):
    channel = desk["channel"]
    calm = citizen_item(channel, "Hvornår åbner biblioteket?", author="Ida")
    Crisis.objects.create(organisation=organisation, reason="Skybrud")
    flooded = citizen_item(channel, "Vandet stiger i kælderen på Nørrebro",
                           author="Karl")
    smoke = citizen_item(channel, "Der er røg i opgangen, hjælp os",
                         author="Sara")
    also_calm = citizen_item(channel, "Tak for en god dag", author="Bo")
    actions.assign_conversation(smoke.conversation, actor=desk["editor"],
                                administration=desk["buf"])
    actions.assign_conversation(also_calm.conversation, actor=desk["editor"],
                                administration=desk["buf"])
    return {"calm": calm.conversation_id, "flooded": flooded.conversation_id,
            "smoke": smoke.conversation_id, "also_calm": also_calm.conversation_id}


def test_the_list_shows_only_crisis_priority_when_asked(desk, crisis_inbox,
                                                         client_for):
    client = client_for(desk["editor"])
    everything = [c.pk for c in client.get("/indbakke/").context["page"]]
    assert everything[:2] == [crisis_inbox["smoke"], crisis_inbox["flooded"]]
    assert len(everything) == 4

    response = client.get("/indbakke/", {"priority": "on"})
    page = response.context["page"]
    assert [c.pk for c in page] == [crisis_inbox["smoke"], crisis_inbox["flooded"]]
    assert page.paginator.count == 2
    html = response.content.decode()
    assert 'name="priority"' in html and "Kun krise-prioritet" in html
    # With a status: still only the raised ones.
    page = client.get("/indbakke/", {"priority": "on", "status": "new"}
                      ).context["page"]
    assert [c.pk for c in page] == [crisis_inbox["flooded"]]
    # The live updates keep the filter.
    body = client.get("/indbakke/nye/", {"priority": "on", "siden": 0}).json()
    assert body["count"] == 2 and f"conversation-{crisis_inbox['calm']}" not in (
        body["rows"])


def test_a_contributor_filters_what_they_see(desk, crisis_inbox, client_for):
    client = client_for(desk["buf_contributor"])
    page = client.get("/indbakke/", {"priority": "on"}).context["page"]
    assert [c.pk for c in page] == [crisis_inbox["smoke"]]


def test_the_kept_counts_do_not_answer_for_the_filter(desk, crisis_inbox):
    editor = desk["editor"]
    assert counts.list_count(editor, Filters(priority=True),
                             counts.status_counts(editor)) is None


def test_the_database_reads_only_the_raised_conversations_from_the_index(
        desk, crisis_inbox):
    """The page and its count: the index narrows to the raised
    conversations (a few, in a crisis), the others are never read. SQLite
    did not narrow by a bare boolean column and counted the filter by
    walking every entry of the organisation (up to 444 ms of 250,000)."""
    from django.db import transaction

    channel = desk["channel"]
    Conversation.objects.bulk_create([
        Conversation(organisation_id=channel.organisation_id, channel=channel,
                     key=f"c:bulk-{n}", last_item_at=None)
        for n in range(300)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inbox_conversation" if connection.vendor
                       == "postgresql" else "ANALYZE")
    for who in ("editor", "buf_contributor"):
        matching = selectors.conversations(
            conversation_policy.visible(desk[who]), Filters(priority=True)
        ).values("pk")
        for query in (matching[:50], matching.order_by()[:1001]):
            sql, params = query.query.sql_with_params()
            with transaction.atomic(), connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("SET LOCAL enable_seqscan = off")  # small
                    cursor.execute("EXPLAIN " + sql, params)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                    narrowed = (f"Index Cond: ((organisation_id = "
                                f"{channel.organisation_id}) AND (priority = true))")
                else:
                    cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
                    plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
                    narrowed = "(organisation_id=? AND priority=?)"
            assert "inbox_conv_list" in plan and narrowed in plan, (who, plan)
