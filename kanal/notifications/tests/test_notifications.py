"""The notifications app on its own: rendering at read time in the reader's
language, read state, the menu's unread count, e-mail preferences."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import TestCase
from django.urls import reverse
from django.utils import translation

from kanal.notifications.actions import mark_read, notify, set_preferences
from kanal.notifications.kinds import KINDS
from kanal.notifications.models import Notification, Preference
from kanal.organisations.roles import Role

pytestmark = pytest.mark.django_db


def tell(member, kind="publication_failed", **params):
    params = params or {"channel": "Facebook", "why": "Teksten er for lang."}
    with TestCase.captureOnCommitCallbacks(execute=True):
        [note] = notify([member], kind=kind, params=params, url="/udgivelser/")
    return note


def test_every_kind_has_one_danish_wording_and_an_english_translation():
    for code, kind in KINDS.items():
        with translation.override("da"):
            danish = (str(kind.label), str(kind.wording))
        with translation.override("en"):
            english = (str(kind.label), str(kind.wording))
        assert english[0] != danish[0], f"{code}: label not translated"
        assert english[1] != danish[1], f"{code}: wording not translated"


def test_the_sentence_is_made_when_read_in_the_readers_language(member):
    note = tell(member(Role.EDITOR))
    assert note.params == {"channel": "Facebook", "why": "Teksten er for lang."}
    with translation.override("da"):
        assert note.message == (
            "Facebook: opslaget blev ikke udgivet. Teksten er for lang."
        )
    with translation.override("en"):
        assert note.message == (
            "Facebook: the post was not published. Teksten er for lang."
        )


def test_a_moment_is_shown_in_the_readers_zone_and_language(member):
    note = tell(
        member(Role.EDITOR),
        kind="post.approval_due",
        title="Kulturnat",
        when="2026-12-24T09:00:00+00:00",
    )
    with translation.override("da"):
        assert "skal udgives 24. dec. 2026 10:00 men" in note.message
    with translation.override("en"):
        assert "24 Dec 2026 10:00" in note.message


def test_an_unknown_kind_is_refused(member):
    with pytest.raises(ValueError):
        notify([member(Role.EDITOR)], kind="publication_exploded")


def test_each_member_is_told_once(member):
    editor = member(Role.EDITOR)
    notify([editor, editor], kind="post.submitted", params={"title": "Fest"})
    assert Notification.objects.filter(recipient=editor).count() == 1


def test_list_page_renders_in_the_readers_language_and_marks_read(
    member, client_for
):
    editor = member(Role.EDITOR)
    note = tell(editor)
    other = tell(editor, kind="post.submitted", title="Fest")
    client = client_for(editor)
    page = client.get(reverse("notifications:list")).content.decode()
    assert "Facebook: opslaget blev ikke udgivet." in page
    assert "2 ulæste." in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get(reverse("notifications:list")).content.decode()
    assert "Facebook: the post was not published." in page
    response = client.post(reverse("notifications:mark_read"), {"id": note.pk})
    assert response.status_code == 302
    note.refresh_from_db()
    other.refresh_from_db()
    assert note.read_at is not None and other.read_at is None
    client.post(reverse("notifications:mark_read"), {"alle": "1"})
    other.refresh_from_db()
    assert other.read_at is not None


def test_a_member_cannot_mark_anothers_notification_read(member, client_for):
    editor, approver = member(Role.EDITOR), member(Role.APPROVER)
    note = tell(editor)
    client_for(approver).post(reverse("notifications:mark_read"), {"id": note.pk})
    note.refresh_from_db()
    assert note.read_at is None
    assert mark_read(actor=approver, ids=[note.pk]) == 0


def test_a_bad_id_is_a_danish_400_and_marks_nothing(member, client_for):
    editor = member(Role.EDITOR)
    note = tell(editor)
    response = client_for(editor).post(
        reverse("notifications:mark_read"), {"id": "-5"}
    )
    assert response.status_code == 400
    note.refresh_from_db()
    assert note.read_at is None


def test_the_menu_counts_unread_notifications(member, client_for):
    editor = member(Role.EDITOR)
    client = client_for(editor)
    assert "ulæste" not in client.get("/").content.decode()
    note = tell(editor)
    tell(editor, kind="post.submitted", title="Fest")
    page = client.get("/").content.decode()
    assert '<span class="badge count">2<span class="visually-hidden"> ulæste' in page
    mark_read(actor=editor, ids=[note.pk])
    page = client.get("/").content.decode()
    assert '<span class="badge count">1<span class="visually-hidden"> ulæste' in page


def test_defaults_mail_failures_and_crisis_not_good_news(member):
    editor = member(Role.EDITOR)
    tell(editor)
    tell(editor, kind="crisis_started", name="Ada", reason="Skybrud")
    tell(editor, kind="post.published", title="Fest")
    assert [m.subject for m in mail.outbox] == [
        "Kanal: Facebook: opslaget blev ikke udgivet. Teksten er for lang.",
        "Kanal: Krisetilstand er slået til af Ada: Skybrud. Planlagte opslag på "
        "de berørte kanaler er sat på pause.",
    ]
    assert "/udgivelser/" in mail.outbox[0].body
    assert "/notifikationer/valg/" in mail.outbox[0].body


def test_preferences_page_stores_choices_and_mail_follows_them(member, client_for):
    editor = member(Role.EDITOR)
    client = client_for(editor)
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert 'id="id_email_publication_failed" checked' in page
    response = client.post(
        reverse("notifications:preferences"),
        {"email_post.published": "on", "language": "en"},
    )
    assert response.status_code == 302
    preference = Preference.objects.get(membership=editor)
    assert preference.language == "en"
    assert preference.wants_email("post.published")
    assert not preference.wants_email("publication_failed")
    tell(editor)  # failures now only in the app
    tell(editor, kind="post.published", title="Fest")
    assert [m.subject for m in mail.outbox] == [
        "Kanal: Your post has been published: Fest"
    ]


def test_preferences_refuse_an_unknown_language_with_400(member, client_for):
    editor = member(Role.EDITOR)
    response = client_for(editor).post(
        reverse("notifications:preferences"), {"language": "xx"}
    )
    assert response.status_code == 400
    assert not Preference.objects.filter(membership=editor).exists()


def test_set_preferences_keeps_only_what_differs_from_the_defaults(member):
    editor = member(Role.EDITOR)
    defaults = [code for code, kind in KINDS.items() if kind.by_email]
    preference = set_preferences(actor=editor, email_kinds=defaults, language="da")
    assert preference.email == {}


def test_a_member_without_an_address_is_told_in_the_app_only(member):
    editor = member(Role.EDITOR)
    editor.user.email = ""
    editor.user.save()
    tell(editor)
    assert Notification.objects.filter(recipient=editor).exists()
    assert mail.outbox == []
