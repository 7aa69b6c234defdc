"""The list's status counts, kept by triggers: every path that changes a
conversation's status, administration or existence keeps them equal to a
fresh GROUP BY, for the desk and for contributors."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from kanal.inbox import actions, counts, intake, selectors
from kanal.inbox.models import (
    AssignmentRule,
    Conversation,
    ConversationStatus,
    StatusCount,
)
from kanal.inbox.policies import conversation_policy
from kanal.inbox.selectors import Filters
from kanal.organisations.tests.factories import AdministrationFactory

from .conftest import fb_comment
from .factories import citizen_item

pytestmark = pytest.mark.django_db


def fresh(actor) -> dict[str, int]:
    """What the list counted before: a GROUP BY over what ``actor`` sees."""
    rows = (conversation_policy.visible(actor).order_by().values("status")
            .annotate(n=Count("pk")))
    return {r["status"]: r["n"] for r in rows}


def agree(desk, *, expect_editor: dict | None = None) -> None:
    assert counts.check() == []
    for who in ("editor", "buf_contributor", "tmf_contributor", "analyst"):
        assert counts.status_counts(desk[who]) == fresh(desk[who]), who
    if expect_editor is not None:
        assert counts.status_counts(desk["editor"]) == expect_editor


def test_every_path_that_changes_status_or_assignment_keeps_the_counts(
        desk, post_webhook, organisation):
    channel, editor = desk["channel"], desk["editor"]
    # Intake: new conversations (get_or_create) and a reply in one of them.
    a = citizen_item(channel, "Første", remote_id="a").conversation
    b = citizen_item(channel, "Anden", remote_id="b").conversation
    citizen_item(channel, "Svar", remote_id="a2", kind="reply", parent="a")
    agree(desk, expect_editor={"new": 2})
    # Assignment (save with update_fields) and status (the action).
    actions.assign_conversation(a, actor=editor, administration=desk["buf"])
    agree(desk, expect_editor={"new": 1, "assigned": 1})
    actions.set_conversation_status(a, actor=editor, status="answered")
    agree(desk, expect_editor={"new": 1, "answered": 1})
    # Intake reopens an answered conversation (a bulk .update()).
    citizen_item(channel, "Igen", remote_id="a3", kind="reply", parent="a")
    agree(desk, expect_editor={"new": 1, "assigned": 1})
    # A person assigned in another administration than their own.
    actions.assign_conversation(b, actor=editor, administration=desk["tmf"],
                                person=desk["buf_contributor"])
    assert counts.status_counts(desk["buf_contributor"]) == {"assigned": 2}
    agree(desk)
    # Moderation hides the conversation (.update(status=HIDDEN)) - the same
    # statement, as the network call is not what is counted here.
    Conversation.objects.filter(pk=b.pk).update(status=ConversationStatus.HIDDEN)
    agree(desk, expect_editor={"assigned": 1, "hidden": 1})
    # A bulk update over several rows at once.
    Conversation.objects.update(status=ConversationStatus.WAITING)
    agree(desk, expect_editor={"waiting": 2})
    # Automatic assignment by rule when intake creates the conversation.
    AssignmentRule.objects.create(organisation=organisation, channel=channel,
                                  administration=desk["tmf"])
    citizen_item(channel, "Tredje", remote_id="c")
    agree(desk, expect_editor={"waiting": 2, "assigned": 1})
    # A webhook processed by the worker (the rule assigns it too).
    assert post_webhook("facebook", fb_comment("104738291045678_77")
                        ).status_code == 200
    intake.process_deliveries()
    agree(desk, expect_editor={"waiting": 2, "assigned": 2})
    # An administration deleted: its conversations become unassigned
    # (SET NULL, Django's own UPDATE).
    lone = AdministrationFactory(organisation=organisation, code="LONE")
    Conversation.objects.filter(pk=b.pk).update(assigned_administration=lone,
                                                assigned_to=None)
    agree(desk)
    lone.delete()
    assert Conversation.objects.get(pk=b.pk).assigned_administration_id is None
    agree(desk)
    # A conversation deleted, then the channel with all the rest (cascade).
    a.delete()
    agree(desk)
    channel.delete()
    agree(desk, expect_editor={})
    counts.fold()
    assert StatusCount.objects.filter(organisation_id=organisation.pk).count() == 0


def test_folding_keeps_the_sums_in_one_row_per_key(desk):
    channel, editor = desk["channel"], desk["editor"]
    for n in range(5):
        conversation = citizen_item(channel, f"Nr. {n}").conversation
        actions.assign_conversation(conversation, actor=editor,
                                    administration=desk["buf"])
    before = StatusCount.objects.count()
    # Ten rows into one: five conversations went from "new" to "assigned".
    assert before == 15
    assert counts.fold_job(dry_run=True) == before - 1
    assert counts.fold() == before - 1
    # The unassigned "new" key summed to 0 and is gone.
    assert list(StatusCount.objects.values_list("administration_id", "status", "n")
                ) == [(desk["buf"].pk, "assigned", 5)]
    agree(desk, expect_editor={"assigned": 5})
    assert counts.fold() == 0


def test_the_check_command_finds_drift_and_repair_recounts(desk):
    citizen_item(desk["channel"], "Et spørgsmål")
    out = StringIO()
    call_command("inbox_counts", "--check", stdout=out)
    assert "stemmer" in out.getvalue()
    # A writer that went around the triggers (they were missing).
    StatusCount.objects.create(organisation_id=desk["channel"].organisation_id,
                               status="new", n=3)
    with pytest.raises(SystemExit) as failed:
        call_command("inbox_counts", "--check", stdout=StringIO())
    assert failed.value.code == 1
    out = StringIO()
    call_command("inbox_counts", "--repair", stdout=out)
    assert counts.check() == []
    assert counts.status_counts(desk["editor"]) == {"new": 1}


def drop_triggers() -> None:
    """What SQLite does when a migration rebuilds the conversation table."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for name in counts._SQLITE_TRIGGERS:
                cursor.execute("DROP TRIGGER " + name)
        else:
            for name in ("insdel", "upd", "truncate"):
                cursor.execute(f"DROP TRIGGER inbox_statuscount_{name} ON "
                               "inbox_conversation")


def test_missing_triggers_are_put_back_and_the_counts_recounted(desk):
    drop_triggers()
    citizen_item(desk["channel"], "Skrevet uden udløsere")
    assert counts.check() != []
    counts.ensure_counts(connection)
    agree(desk, expect_editor={"new": 1})
    citizen_item(desk["channel"], "Og med")
    agree(desk, expect_editor={"new": 2})


def test_the_list_shows_the_kept_counts(desk, client):
    channel = desk["channel"]
    for n in range(3):
        citizen_item(channel, f"Nr. {n}")
    actions.assign_conversation(Conversation.objects.first(),
                                actor=desk["editor"], administration=desk["buf"])
    client.force_login(desk["buf_contributor"].user)
    page = client.get("/indbakke/").content.decode()
    assert "Tildelt: 1" in page and "Ny: 0" in page
    client.force_login(desk["editor"].user)
    page = client.get("/indbakke/").content.decode()
    assert "Tildelt: 1" in page and "Ny: 2" in page


def test_the_list_takes_its_count_from_the_kept_counts_only_when_they_know_it(
        desk, client):
    channel, editor = desk["channel"], desk["editor"]
    conversations = [citizen_item(channel, f"Nr. {n}").conversation
                     for n in range(6)]
    for conversation in conversations[:3]:
        actions.assign_conversation(conversation, actor=editor,
                                    administration=desk["buf"])
    actions.set_conversation_status(conversations[0], actor=editor,
                                    status="answered")
    actions.assign_conversation(conversations[3], actor=editor,
                                administration=desk["tmf"],
                                person=desk["buf_contributor"])
    buf = desk["buf"].pk
    cases = [Filters(), Filters(status="new"), Filters(status="assigned"),
             Filters(status="hidden"), Filters(administration=buf),
             Filters(administration=buf, status="answered"),
             Filters(negative=True), Filters(q="Nr")]
    for who in ("editor", "buf_contributor", "tmf_contributor"):
        actor = desk[who]
        for filters in cases:
            known = counts.list_count(actor, filters, counts.status_counts(actor))
            rows = selectors.conversations(conversation_policy.visible(actor),
                                           filters).count()
            plain = not (filters.negative or filters.q)
            if plain and (who == "editor" or not filters.administration):
                assert known == rows, (who, filters)
            else:
                assert known is None, (who, filters)
    # The page's own count, without counting the rows.
    client.force_login(desk["buf_contributor"].user)
    page = client.get("/indbakke/?status=assigned").context["page"]
    assert page.paginator.count == 3 == len(page.object_list)
    client.force_login(editor.user)
    with CaptureQueriesContext(connection) as ctx:
        page = client.get("/indbakke/").context["page"]
    assert page.paginator.count == 6 == len(page.object_list)
    assert not [q for q in ctx.captured_queries
                if "COUNT(" in q["sql"].upper()
                and "inbox_conversation" in q["sql"]
                and "GROUP BY" not in q["sql"].upper()]


@pytest.mark.django_db(transaction=True)
def test_a_restore_keeps_the_counts_equal_to_the_conversations(
        desk, tmp_path, settings):
    """A backup leaves the triggers' table out; the restore's flush and raw
    inserts count the conversations in again (none twice)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    channel, editor = desk["channel"], desk["editor"]
    conversations = [citizen_item(channel, f"Nr. {n}").conversation
                     for n in range(3)]
    actions.assign_conversation(conversations[0], actor=editor,
                                administration=desk["buf"])
    call_command("backup", str(tmp_path / "kanal.tar.gz"), stdout=StringIO())
    citizen_item(channel, "Efter sikkerhedskopien")
    call_command("restore", str(tmp_path / "kanal.tar.gz"), yes=True,
                 stdout=StringIO())
    assert counts.check() == []
    assert counts.status_counts(desk["editor"]) == {"new": 2, "assigned": 1}
