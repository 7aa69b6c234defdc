"""The two old notification tables are carried into the one per member."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [
    ("planning", "0005_post_submitted_at"),
    ("publishing", "0005_lookup_adoption"),
    ("notifications", "0001_initial"),
]
AFTER = [
    ("planning", "0006_delete_notification"),
    ("publishing", "0006_delete_notification"),
]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture(autouse=True)
def newest_schema_afterwards():
    """Leave the database at the newest migrations for the tests after this
    one (AFTER is not the newest state: later migrations exist)."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_old_rows_become_one_notification_per_member_with_read_state():
    apps = migrate(BEFORE)
    User = apps.get_model("auth", "User")
    Organisation = apps.get_model("organisations", "Organisation")
    Administration = apps.get_model("organisations", "Administration")
    Membership = apps.get_model("organisations", "Membership")
    org = Organisation.objects.create(name="Kommune", slug="kommune")
    kff = Administration.objects.create(organisation=org, code="KFF", name="K")
    buf = Administration.objects.create(organisation=org, code="BUF", name="B")

    def person(name, role, administration):
        user = User.objects.create(username=name, email=f"{name}@kk.dk")
        return Membership.objects.create(
            user=user, organisation=org, administration=administration, role=role
        )

    editor = person("editor", "editor", kff)
    admin = person("admin", "admin", buf)
    analyst = person("analyst", "analyst", kff)
    contributor = person("contributor", "contributor", kff)
    buf_editor = person("buf", "editor", buf)
    read_at = timezone.now()
    PlanningNote = apps.get_model("planning", "Notification")
    PlanningNote.objects.create(
        recipient=editor, event="post.submitted", message="Opslag venter: Fest",
        read_at=read_at,
    )
    PublishingNote = apps.get_model("publishing", "Notification")
    PublishingNote.objects.create(
        organisation=org, administration=kff, kind="publication_failed",
        message="Facebook: opslaget blev ikke udgivet.", url="/udgivelser/",
    )
    PublishingNote.objects.create(
        organisation=org, administration=None, kind="unpin_failed",
        message="X: krisebeskeden kunne ikke løsnes.",
    )

    apps = migrate(AFTER)
    Notification = apps.get_model("notifications", "Notification")
    planning = Notification.objects.get(kind="post.submitted")
    assert planning.recipient_id == editor.pk
    assert planning.params == {"text": "Opslag venter: Fest"}
    assert planning.read_at == read_at
    failed = Notification.objects.filter(kind="publication_failed")
    # The administration's people who act, and the administrators.
    assert {n.recipient_id for n in failed} == {editor.pk, admin.pk}
    assert {n.url for n in failed} == {"/udgivelser/"}
    assert all(n.read_at is None for n in failed)
    everyone = Notification.objects.filter(kind="unpin_failed")
    assert {n.recipient_id for n in everyone} == {editor.pk, admin.pk, buf_editor.pk}
    assert analyst.pk not in {n.recipient_id for n in Notification.objects.all()}
    assert contributor.pk not in {n.recipient_id for n in Notification.objects.all()}

    # Carried rows show their sentence as it was written.
    from kanal.notifications.models import Notification as Current

    assert Current.objects.get(kind="unpin_failed", recipient_id=admin.pk).message == (
        "X: krisebeskeden kunne ikke løsnes."
    )
