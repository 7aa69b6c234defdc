"""Full-text search: stored, kept up to date on every write, flat in queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kanal.channels.tests.factories import ChannelFactory
from kanal.inbox import search, selectors
from kanal.inbox.models import InboxItem
from kanal.inbox.policies import conversation_policy
from kanal.organisations.roles import Role

from .factories import citizen_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(organisation):
    return ChannelFactory(organisation=organisation, network="facebook")


@pytest.fixture
def editor(member):
    return member(Role.EDITOR)


def found(editor, q):
    visible = conversation_policy.visible(editor)
    return set(selectors.conversations(visible, selectors.Filters(q=q)))


def test_search_finds_every_word_in_text_or_author_name(channel, editor):
    pas = citizen_item(channel, "Hvornår kan jeg hente mit nye pas?",
                       author="Mette Hansen").conversation
    citizen_item(channel, "Cykelstien på Jagtvej er fuld af huller",
                 author="Ole Jensen")
    assert found(editor, "pas") == {pas}
    assert found(editor, "hente pas") == {pas}
    assert found(editor, "mette") == {pas}
    assert found(editor, "pas huller") == set()


def test_search_matches_danish_word_forms(channel, editor):
    svømmehal = citizen_item(channel, "Svømmehallen er lukket igen").conversation
    assert found(editor, "svømmehallen") == {svømmehal}
    assert found(editor, "lukket") == {svømmehal}


def test_an_edit_on_the_network_changes_what_search_finds(channel, editor):
    item = citizen_item(channel, "Hvor er biblioteket?")
    InboxItem.objects.filter(pk=item.pk).update(text="Hvor er rådhuset?")
    assert found(editor, "biblioteket") == set()
    assert found(editor, "rådhuset") == {item.conversation}
    item.refresh_from_db()
    item.author_name = "Karen Blixen"
    item.save()
    assert found(editor, "blixen") == {item.conversation}


def test_a_deleted_item_is_no_longer_found(channel, editor):
    item = citizen_item(channel, "Parkeringen ved skolen")
    other = citizen_item(channel, "Parkeringen ved hallen").conversation
    item.delete()
    assert found(editor, "parkeringen") == {other}


@pytest.mark.parametrize("q", ['"', 'pas"', "NOT", "AND OR", "(pas", "pas*",
                               "^pas", "-", "NEAR(pas skole)", "a:b", "💙"])
def test_query_syntax_is_searched_as_text_and_never_fails(channel, editor,
                                                         client_for, q):
    citizen_item(channel, "Mit pas er væk")
    response = client_for(editor).get("/indbakke/", {"q": q})
    assert response.status_code == 200


def test_the_fts5_query_quotes_every_word():
    assert search.fts5_query('nyt "pas" NOT') == '"nyt"* """pas"""* "NOT"*'
    assert search.fts5_query("- ! ?") == ""


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 table")
def test_lost_sqlite_triggers_are_restored_and_the_index_rebuilt(channel, editor):
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER inbox_item_fts_ai")
    late = citizen_item(channel, "Skrevet mens udløseren manglede").conversation
    assert found(editor, "udløseren") == set()
    search.ensure_search(connection)
    assert found(editor, "udløseren") == {late}
    later = citizen_item(channel, "Skrevet bagefter").conversation
    assert found(editor, "bagefter") == {later}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL vector")
def test_postgresql_fills_missing_vectors_in_batches(channel, editor):
    items = [citizen_item(channel, f"Henvendelse nummer {n} om affald")
             for n in range(5)]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE inbox_inboxitem SET search_vector = NULL")
    assert found(editor, "affald") == set()
    assert search.fill_postgresql(connection, batch=2) == 5
    assert found(editor, "affald") == {i.conversation for i in items}
    assert search.fill_postgresql(connection, batch=2) == 0


def test_the_list_reads_the_same_number_of_queries_for_3_and_30_conversations(
    channel, editor, client_for
):
    client = client_for(editor)

    def queries(params):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/indbakke/", params).status_code == 200
        return len(ctx.captured_queries)

    for n in range(3):
        citizen_item(channel, f"Spørgsmål om affald {n}")
    few = [queries({}), queries({"q": "affald"}), queries({"status": "new"})]
    for n in range(27):
        citizen_item(channel, f"Spørgsmål om affald {n}", author=f"Borger {n}",
                     remote_id=f"q{n}")
        citizen_item(channel, f"Opfølgning {n}", kind="reply", parent=f"q{n}")
    many = [queries({}), queries({"q": "affald"}), queries({"status": "new"})]
    assert few == many


def test_a_search_finding_many_items_gives_the_same_conversations(
    channel, editor, monkeypatch
):
    wanted = {citizen_item(channel, f"Affald nummer {n}").conversation
              for n in range(4)}
    citizen_item(channel, "Noget helt andet")
    assert found(editor, "affald") == wanted  # as a list of ids
    monkeypatch.setattr(selectors, "FOUND_AS_IDS", 2)
    assert found(editor, "affald") == wanted  # as a subquery


def test_a_search_finding_very_many_items_shows_the_newest_and_says_so(
    channel, editor, client_for, monkeypatch
):
    items = [citizen_item(channel, f"Affald nummer {n}") for n in range(5)]
    monkeypatch.setattr(selectors, "FOUND_AS_IDS", 3)
    response = client_for(editor).get("/indbakke/", {"q": "affald"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Søgningen fandt mere end 3 henvendelser." in html
    assert html.count('id="conversation-') == 3  # at most the cap, newest first
    assert f'id="conversation-{items[-1].conversation_id}"' in html
    assert f'id="conversation-{items[0].conversation_id}"' not in html
    page = selectors.page_of(conversation_policy.visible(editor),
                             selectors.Filters(q="affald"), 1)
    assert page.capped and page.paginator.count == 3
    monkeypatch.setattr(selectors, "FOUND_AS_IDS", 10)
    response = client_for(editor).get("/indbakke/", {"q": "affald"})
    assert "Søgningen fandt mere end" not in response.content.decode()


def test_a_contributor_s_search_shows_the_newest_matches_they_may_see(
    channel, editor, member, monkeypatch
):
    from kanal.inbox import actions
    from kanal.organisations.tests.factories import AdministrationFactory

    buf = AdministrationFactory(organisation=channel.organisation, code="BUF")
    contributor = member(Role.CONTRIBUTOR, administration=buf)
    items = [citizen_item(channel, f"Affald nummer {n}") for n in range(12)]
    # Only every third conversation is BUF's; the newest matches are not.
    for item in items[:9:3]:
        actions.assign_conversation(item.conversation, actor=editor,
                                    administration=buf)
    monkeypatch.setattr(selectors, "FOUND_AS_IDS", 2)

    def page(actor):
        return selectors.page_of(
            conversation_policy.visible(actor), selectors.Filters(q="affald"), 1)

    shown = page(contributor)
    assert [c.pk for c in shown.object_list] == [
        items[6].conversation_id, items[3].conversation_id]
    assert shown.capped and shown.paginator.count == 2
    shown = page(editor)
    assert [c.pk for c in shown.object_list] == [
        items[11].conversation_id, items[10].conversation_id]
    monkeypatch.setattr(selectors, "FOUND_AS_IDS", 3)
    shown = page(contributor)
    assert not shown.capped and shown.paginator.count == 3


def test_a_filter_finds_what_a_capped_search_left_out(channel, editor,
                                                      monkeypatch):
    """The notice says a filter finds the rest: the newest matches are
    taken among the conversations the filter lets through."""
    from kanal.inbox import actions

    old = citizen_item(channel, "Affald, den ældste")
    for n in range(4):
        citizen_item(channel, f"Affald nummer {n}")
    actions.set_conversation_status(old.conversation, actor=editor,
                                    status="waiting")
    monkeypatch.setattr(selectors, "FOUND_AS_IDS", 2)
    visible = conversation_policy.visible(editor)
    page = selectors.page_of(visible, selectors.Filters(q="affald"), 1)
    assert page.capped and old.conversation not in page.object_list
    page = selectors.page_of(
        visible, selectors.Filters(q="affald", status="waiting"), 1)
    assert [c.pk for c in page.object_list] == [old.conversation_id]
