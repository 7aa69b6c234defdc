"""How the list counts its matches without counting every conversation: a
network or channel filter from the status counts kept per channel; a filter
they cannot know (overdue, personal data, negative) counted up to a bound,
said as "more than" that many, with every page still reachable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kanal.channels.tests.factories import ChannelFactory
from kanal.inbox import actions, counts, selectors
from kanal.inbox.models import Conversation
from kanal.inbox.policies import conversation_policy
from kanal.inbox.selectors import Filters

from .factories import citizen_item

pytestmark = pytest.mark.django_db


def counting_queries(ctx) -> list[str]:
    """The list's counts of matching conversations (not the status counts,
    not a row's number of items)."""
    return [q["sql"] for q in ctx.captured_queries
            if q["sql"].upper().startswith("SELECT COUNT(")
            and "inbox_conversation" in q["sql"]]


def test_network_and_channel_filters_are_counted_from_the_kept_counts(
        desk, organisation, client_for):
    facebook, editor = desk["channel"], desk["editor"]
    instagram = ChannelFactory(organisation=organisation, network="instagram")
    on_facebook = [citizen_item(facebook, f"Facebook {n}").conversation
                   for n in range(4)]
    on_instagram = [citizen_item(instagram, f"Instagram {n}").conversation
                    for n in range(3)]
    actions.assign_conversation(on_facebook[0], actor=editor,
                                administration=desk["buf"])
    actions.assign_conversation(on_instagram[0], actor=editor,
                                administration=desk["buf"])
    actions.assign_conversation(on_instagram[1], actor=editor,
                                administration=desk["tmf"],
                                person=desk["buf_contributor"])
    actions.set_conversation_status(on_facebook[1], actor=editor,
                                    status="answered")
    buf = desk["buf"].pk

    def agree():
        assert counts.check() == []
        cases = [
            Filters(network="facebook"), Filters(network="instagram"),
            Filters(network="x"), Filters(channel=facebook.pk),
            Filters(channel=instagram.pk),
            Filters(network="facebook", channel=instagram.pk),
            Filters(network="instagram", status="assigned"),
            Filters(channel=facebook.pk, status="answered"),
            Filters(channel=instagram.pk, administration=buf),
            Filters(network="facebook", administration=buf, status="assigned"),
        ]
        for who in ("editor", "buf_contributor", "tmf_contributor"):
            actor = desk[who]
            for filters in cases:
                known = counts.list_count(actor, filters,
                                          counts.status_counts(actor))
                rows = selectors.conversations(conversation_policy.visible(actor),
                                               filters).count()
                if filters.administration and who != "editor":
                    assert known is None, (who, filters)
                else:
                    assert known == rows, (who, filters)

    agree()
    # A conversation moved to another channel moves its count with it.
    Conversation.objects.filter(pk=on_facebook[2].pk).update(channel=instagram)
    agree()
    # The page takes the count from the kept counts, without a COUNT.
    client = client_for(editor)
    with CaptureQueriesContext(connection) as ctx:
        page = client.get("/indbakke/", {"network": "instagram"}).context["page"]
    assert page.paginator.count == 4 == len(page.object_list)
    with CaptureQueriesContext(connection) as ctx_channel:
        page = client.get("/indbakke/", {"channel": facebook.pk}).context["page"]
    assert page.paginator.count == 3 == len(page.object_list)
    assert counting_queries(ctx) == [] == counting_queries(ctx_channel)


def test_a_filter_the_counts_cannot_know_is_counted_up_to_a_bound(
        desk, client_for, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_BOUND", 3)
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    channel = desk["channel"]
    made = [citizen_item(channel, f"Nr. {n}").conversation for n in range(8)]
    Conversation.objects.filter(pk__in=[c.pk for c in made[:7]]).update(
        negative=True)
    in_order = list(selectors.conversations(
        conversation_policy.visible(desk["editor"]), Filters(negative=True)
    ).values_list("pk", flat=True))
    assert len(in_order) == 7
    client = client_for(desk["editor"])

    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/indbakke/", {"negative": "on"})
    page = response.context["page"]
    html = response.content.decode()
    assert page.paginator.bounded and page.has_next()
    assert "Side 1, mere end 3 samtaler passer" in html
    assert "af 2" not in html
    # The count stopped at the bound + 1.
    [count_sql] = counting_queries(ctx)
    assert "LIMIT 4" in count_sql.upper()

    # Every page is reachable, each conversation on exactly one of them.
    seen, number = [], 1
    while True:
        page = client.get("/indbakke/", {"negative": "on", "side": number}
                          ).context["page"]
        seen += [c.pk for c in page.object_list]
        if not page.has_next():
            break
        number = page.next_page_number()
    assert seen == in_order and number == 4
    assert page.start_index() == 7 == page.end_index()
    # Past the end: the last counted page, not an error.
    assert client.get("/indbakke/", {"negative": "on", "side": 99}
                      ).status_code == 200

    # The live updates say the count is a lower bound.
    body = client.get("/indbakke/nye/", {"negative": "on", "siden": 0}).json()
    assert body["more"] is True and body["count"] == 3

    # Within the bound the count is exact, and said as before.
    Conversation.objects.filter(pk__in=[c.pk for c in made[3:]]).update(
        negative=False)
    response = client.get("/indbakke/", {"negative": "on"})
    page = response.context["page"]
    assert not page.paginator.bounded and page.paginator.count == 3
    assert "Side 1 af 2" in response.content.decode()
    body = client.get("/indbakke/nye/", {"negative": "on", "siden": 0}).json()
    assert body["more"] is False and body["count"] == 3


def test_filtered_lists_read_the_same_number_of_queries_for_3_and_30(
        desk, client_for, organisation):
    client = client_for(desk["editor"])
    channel = desk["channel"]
    cases = [{"network": "facebook"}, {"channel": channel.pk}, {"overdue": "on"},
             {"negative": "on"}, {"personal_data": "on"},
             {"network": "facebook", "overdue": "on", "status": "new"}]

    def queries():
        out = []
        for params in cases:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get("/indbakke/", params).status_code == 200
            out.append(len(ctx.captured_queries))
        return out

    def add(n):
        for _ in range(n):
            citizen_item(channel, "Et spørgsmål")
        Conversation.objects.update(negative=True, has_personal_data=True,
                                    due_at=timezone.now() - timedelta(hours=1))

    add(3)
    few = queries()
    add(27)
    assert queries() == few


def test_counts_kept_before_channels_are_made_again_per_channel(desk):
    """What migration 0008 does to a database whose counts had no channel."""
    citizen_item(desk["channel"], "Før")
    counts.remove_counts(connection)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE inbox_statuscount (id integer PRIMARY KEY, "
                       "organisation_id bigint NOT NULL, administration_id bigint "
                       "NOT NULL DEFAULT 0, person_id bigint NOT NULL DEFAULT 0, "
                       "status varchar(20) NOT NULL, n integer NOT NULL)")
    counts.ensure_counts(connection)
    assert counts.check() == []
    assert counts.list_count(desk["editor"], Filters(channel=desk["channel"].pk),
                             {}) == 1
    citizen_item(desk["channel"], "Efter")
    assert counts.check() == []
