"""The audit chain's lock is the last lock any transaction takes.

The engine records an outcome by locking the publication, then appending to
the audit chain. An editor's action that touches publications (an edit after
approval withdraws them, a move reschedules them, a cancellation withdraws
them) must lock them before its own audit entry, or the two wait for each
other and PostgreSQL kills one as a deadlock (the editor would see an error).
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, connections
from django.utils import timezone

from kanal.core import audit
from kanal.organisations.roles import Role
from kanal.publishing.models import Publication


def _someone_waits_for_a_row_lock(deadline: float) -> bool:
    """Another session of this database is waiting for a lock."""
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.02)
    return False


def _scheduled_post(member):
    from kanal.channels.tests.factories import ChannelFactory
    from kanal.planning import actions as planning

    editor = member(Role.EDITOR)
    approver = member(Role.APPROVER, administration=editor.administration)
    channel = ChannelFactory(organisation=editor.organisation, network="mastodon",
                             owner_administration=editor.administration)
    planned_at = timezone.now() + timedelta(hours=2)
    post = planning.create_post(
        actor=editor, title="Havnebadet åbner",
        shared_text=f"Havnebadet åbner lørdag kl. 10 ({uuid.uuid4().hex[:6]})",
        channels=[channel], planned_at=planned_at,
    )
    planning.submit_post(post, actor=editor)
    post.refresh_from_db()
    planning.approve_post(post, actor=approver)
    post.refresh_from_db()
    return editor, channel, planned_at, post


def _against_each_other(engine_side, editor_side, locked) -> list:
    """Run the engine's transaction in one thread until it holds its first
    locks (``locked``), then the editor's in another; the errors of both."""
    errors = []

    def run(who, step):
        try:
            result = step()
            if who == "engine" and result is not None:
                errors.append((who, result))
        except Exception as e:
            errors.append((who, e))
        finally:
            connections.close_all()

    engine = threading.Thread(target=run, args=("engine", engine_side))
    engine.start()
    assert locked.wait(10)
    person = threading.Thread(target=run, args=("editor", editor_side))
    person.start()
    engine.join(60)
    person.join(60)
    assert not engine.is_alive() and not person.is_alive()
    return errors


def _edit(post, editor, channel, planned_at):
    from kanal.planning import actions as planning

    planning.update_post(
        post, actor=editor,
        variants={channel.pk: {"text": "Havnebadet åbner først søndag.",
                               "planned_at": planned_at}},
    )


def _cancel(post, editor, channel, planned_at):
    from kanal.planning import actions as planning

    planning.cancel_post(post, actor=editor, reason="Aflyst")


def _move(post, editor, channel, planned_at):
    from kanal.planning import actions as planning

    planning.reschedule_post(post, actor=editor,
                             planned_at=planned_at + timedelta(hours=1))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("editor_action", [_edit, _cancel, _move],
                         ids=["edit_after_approval", "cancel", "move"])
def test_an_editor_and_the_engine_recording_never_deadlock(member, editor_action):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and deadlocks: PostgreSQL (SQLite locks the file)")
    editor, channel, planned_at, post = _scheduled_post(member)
    post.refresh_from_db()
    pub = Publication.objects.get(post_id=post.pk)
    locked = threading.Event()

    def engine_records():
        """The engine's recording order: the publication, then the chain."""
        from django.db import transaction

        with transaction.atomic():
            Publication.objects.select_for_update().get(pk=pub.pk)
            locked.set()
            # Let the editor's transaction get as far as it can.
            _someone_waits_for_a_row_lock(time.monotonic() + 10)
            audit.record("publishing.publication.published", target=pub,
                         organisation=pub.organisation)

    errors = _against_each_other(
        engine_records,
        lambda: editor_action(post, editor, channel, planned_at), locked)
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_an_edit_after_approval_and_the_engines_record_batch_never_deadlock(
    member, fake_network, monkeypatch, caplog
):
    """The engine records a batch: it locks the batch's publications, then
    (for each one, through planning's roll-up) the post and the audit chain.
    An editor who edits one of those posts after approval locks the post's
    publications before the post, the order the engine takes them in, so one
    waits for the other instead of PostgreSQL killing one as a deadlock (the
    editor used to see an error, seen in the fault harness's withdrawals)."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks and deadlocks: PostgreSQL (SQLite locks the file)")
    from kanal.publishing import engine

    first = _scheduled_post(member)[3]
    editor, channel, planned_at, post = _scheduled_post(member)
    Publication.objects.filter(post_id__in=[first.pk, post.pk]).update(
        due_at=timezone.now() - timedelta(seconds=1))
    jobs = engine.claim_due(owner="test", limit=10)
    assert len(jobs) == 2
    results = [(job, engine.execute(job)) for job in jobs]
    assert [outcome.kind for _job, outcome in results] == ["published"] * 2
    locked = threading.Event()
    lock_channels = engine._lock_channels

    def paused_after_the_publications(batch):
        lock_channels(batch)
        locked.set()
        # Let the editor's transaction get as far as it can.
        _someone_waits_for_a_row_lock(time.monotonic() + 10)

    monkeypatch.setattr(engine, "_lock_channels", paused_after_the_publications)

    def engine_records():
        statuses = engine.record_many(results)
        return None if statuses == ["published", "published"] else statuses

    errors = _against_each_other(
        engine_records, lambda: _edit(post, editor, channel, planned_at), locked)
    # The editor may be refused because the post went out meanwhile; never a
    # database error (a deadlock).
    assert [(who, error) for who, error in errors
            if who == "engine" or isinstance(error, DatabaseError)] == []
    assert "deadlock" not in caplog.text
    assert set(Publication.objects.filter(post_id__in=[first.pk, post.pk])
               .values_list("status", flat=True)) == {"published"}
