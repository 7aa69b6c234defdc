"""Two colleagues answering the same citizen at once (T3-10 and its class):
an answer written on a page that did not show a newer answer (queued or
sent), a newer item from the citizen, or the citizen's edit or deletion
(T4-10) is not sent; the page comes back
(409) with what the person wrote, who answered and when, and a "Send
alligevel" that sends on the next submit."""

from __future__ import annotations

import re
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from kanal.inbox import meanwhile, replies
from kanal.inbox.models import Answer
from kanal.organisations.roles import Role
from kanal.publishing.models import FollowUp

from .factories import citizen_item, together_at_queuing
from .test_found_by_tester3_replies import _reply_form_fields

CPH = ZoneInfo("Europe/Copenhagen")


@pytest.fixture
def two(desk, member, client, time_machine):
    """One question, and the conversation's page as Signe Jensen and as a
    second editor see it, both drawn before either answered."""
    time_machine.move_to(datetime(2026, 12, 7, 13, 55, tzinfo=CPH), tick=False)
    item = citizen_item(desk["channel"], "Hvornår åbner svømmehallen?")
    signe = desk["editor"]
    signe.user.first_name, signe.user.last_name = "Signe", "Jensen"
    signe.user.save()
    other = member(Role.EDITOR, administration=desk["kff"])
    url = f"/indbakke/{item.conversation_id}/"

    def page(who):
        client.force_login(who.user)
        return _reply_form_fields(client.get(url).content.decode())

    def send(who, fields, text, **more):
        client.force_login(who.user)
        return client.post(url + "svar/", {**fields, "text": text, **more})

    forms = {"signe": page(signe), "other": page(other)}
    time_machine.move_to(datetime(2026, 12, 7, 14, 2, tzinfo=CPH), tick=False)
    return {"item": item, "signe": signe, "other": other, "forms": forms,
            "send": send, "page": page, "url": url}


def _anyway(html: str) -> str:
    """The value of the page's "Send alligevel" checkbox ("" when none)."""
    box = re.search(r'<input type="checkbox" name="send_anyway"[^>]*>', html)
    if not box:
        return ""
    assert "checked" not in box[0]
    return re.search(r'value="([^"]*)"', box[0])[1]


@pytest.mark.django_db
def test_a_colleagues_answer_stops_mine_and_the_page_says_who_and_when(two):
    assert two["send"](two["signe"], two["forms"]["signe"],
                       "Kl. 10 i morgen.").status_code == 302
    response = two["send"](two["other"], two["forms"]["other"], "Kl. 11 i morgen.")
    page = response.content.decode()
    assert response.status_code == 409
    assert ("Signe Jensen svarede kl. 14:02, mens du skrev. Dit svar er ikke "
            "sendt. Læs svaret herunder, og send dit alligevel hvis det stadig "
            "er relevant.") in page
    assert "Kl. 11 i morgen.</textarea>" in page  # nothing written is lost
    first = Answer.objects.get()
    assert f'class="inbox-item kind-answer inbox-meanwhile" id="answer-{first.pk}"' \
        in page
    assert "Kl. 10 i morgen." in page
    assert _anyway(page) == str(meanwhile.seen_now(first.conversation))
    assert Answer.objects.count() == 1


@pytest.mark.django_db
def test_send_anyway_sends_on_the_next_submit_and_not_without_the_tick(two):
    two["send"](two["signe"], two["forms"]["signe"], "Kl. 10 i morgen.")
    stopped = two["send"](two["other"], two["forms"]["other"], "Kl. 11 i morgen.")
    fields = _reply_form_fields(stopped.content.decode())
    # Sent again as it came back, without the tick: stopped again.
    again = two["send"](two["other"], fields, "Kl. 11 i morgen.")
    assert again.status_code == 409
    assert Answer.objects.count() == 1
    fields = _reply_form_fields(again.content.decode())
    ticked = two["send"](two["other"], fields, "Kl. 11 i morgen.",
                         send_anyway=_anyway(again.content.decode()))
    assert ticked.status_code == 302
    assert [a.text.split("\n")[0] for a in Answer.objects.order_by("pk")] == [
        "Kl. 10 i morgen.", "Kl. 11 i morgen."]


@pytest.mark.django_db
def test_send_anyway_is_stopped_by_an_answer_that_came_after_the_warning(
    two, member, desk
):
    two["send"](two["signe"], two["forms"]["signe"], "Kl. 10 i morgen.")
    stopped = two["send"](two["other"], two["forms"]["other"], "Kl. 11 i morgen.")
    third = member(Role.EDITOR, administration=desk["kff"])
    replies.reply_to_item(two["item"], actor=third, text="Kl. 12.", key="third")
    fields = _reply_form_fields(stopped.content.decode())
    ticked = two["send"](two["other"], fields, "Kl. 11 i morgen.",
                         send_anyway=_anyway(stopped.content.decode()))
    assert ticked.status_code == 409
    assert Answer.objects.count() == 2


@pytest.mark.django_db
def test_the_citizen_writing_again_meanwhile_stops_the_answer(two, desk):
    citizen_item(desk["channel"], "Og hvad koster det?", parent=two["item"].remote_id)
    response = two["send"](two["signe"], two["forms"]["signe"], "Kl. 10 i morgen.")
    assert response.status_code == 409
    assert ("Borgeren skrev igen kl. 14:02, mens du skrev. Dit svar er ikke sendt."
            ) in response.content.decode()
    assert not Answer.objects.exists()


@pytest.mark.django_db
def test_an_answer_that_never_went_out_does_not_stop_the_next(two):
    two["send"](two["signe"], two["forms"]["signe"], "Kl. 10 i morgen.")
    FollowUp.objects.update(status="failed")
    response = two["send"](two["other"], two["forms"]["other"], "Kl. 11 i morgen.")
    assert response.status_code == 302
    assert Answer.objects.count() == 2


@pytest.mark.django_db
def test_the_same_form_sent_twice_is_one_answer_not_a_warning(two):
    form = two["forms"]["signe"]
    assert two["send"](two["signe"], form, "Kl. 10.").status_code == 302
    assert two["send"](two["signe"], form, "Kl. 10.").status_code == 302
    assert Answer.objects.count() == 1


@pytest.mark.django_db
def test_a_form_without_what_its_page_showed_is_refused_and_given_it(two):
    fields = {k: v for k, v in two["forms"]["signe"].items() if k != "seen"}
    response = two["send"](two["signe"], fields, "Kl. 10.")
    assert response.status_code == 400
    assert not Answer.objects.exists()
    again = _reply_form_fields(response.content.decode())
    assert again["seen"] == str(meanwhile.seen_now(two["item"].conversation))
    assert two["send"](two["signe"], again, "Kl. 10.").status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["", "1", "1.", ".1", "-1.2", "1.2.3.4.5",
                                   "1..2", "١.٢", "9" * 42 + ".1", "1 .2",
                                   "1.2.9223372036854775808"])
def test_what_a_page_showed_is_read_strictly(value):
    assert meanwhile.Seen.parse(value) is None


def test_what_a_page_showed_reads_back_with_or_without_its_versions():
    for seen in (meanwhile.Seen(3, 4, 5), meanwhile.Seen(3, 4),
                 meanwhile.Seen(3, 4, 0), meanwhile.Seen(3, 4, 5, 6),
                 meanwhile.Seen(3, 4, 0, 0)):
        assert meanwhile.Seen.parse(str(seen)) == seen


@pytest.mark.django_db
def test_a_warning_about_another_day_names_the_day(two, time_machine):
    two["send"](two["signe"], two["forms"]["signe"], "Kl. 10 i morgen.")
    time_machine.move_to(datetime(2026, 12, 8, 9, 0, tzinfo=CPH), tick=False)
    response = two["send"](two["other"], two["forms"]["other"], "Kl. 11.")
    assert "Signe Jensen svarede 7. dec. kl. 14:02, mens du skrev." in (
        response.content.decode())


@pytest.mark.django_db
def test_two_answers_from_one_page_state_one_goes_out(desk, member):
    """The action itself, one after the other (SQLite and PostgreSQL)."""
    item = citizen_item(desk["channel"])
    seen = meanwhile.seen_now(item.conversation)
    other = member(Role.EDITOR, administration=desk["kff"])
    replies.reply_to_item(item, actor=desk["editor"], text="Kl. 10.", key="a",
                          seen=seen)
    with pytest.raises(meanwhile.WrittenMeanwhile):
        replies.reply_to_item(item, actor=other, text="Kl. 11.", key="b",
                              seen=seen)
    assert Answer.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite lets one writer in at a time")
def test_two_colleagues_submitting_at_the_same_moment_send_one_answer(
    organisation, member, monkeypatch
):
    """Both requests check before either queues, unless the conversation's
    row lock orders them: the barrier lets both reach the queuing together
    when nothing does (then two answers go out)."""
    from django.db import connections

    from kanal.channels.tests.factories import ChannelFactory

    item = citizen_item(ChannelFactory(organisation=organisation,
                                       network="facebook"))
    seen = meanwhile.seen_now(item.conversation)
    editors = [member(Role.EDITOR), member(Role.EDITOR)]
    together_at_queuing(monkeypatch)
    outcomes = []

    def submit(editor, key):
        try:
            replies.reply_to_item(item, actor=editor, text=f"Svar {key}.", key=key,
                                  seen=seen)
            outcomes.append("sent")
        except meanwhile.WrittenMeanwhile:
            outcomes.append("stopped")
        except Exception as e:
            outcomes.append(f"{type(e).__name__}: {e}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(e, f"k{i}"))
               for i, e in enumerate(editors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["sent", "stopped"]
    assert Answer.objects.count() == 1


def _citizen_changes(item, action, text=""):
    """The network tells Kanal the citizen edited (or deleted) ``item``."""
    from django.utils import timezone

    from kanal.channels.networks.base import InboxItem as NetworkItem
    from kanal.inbox import intake

    intake.ingest(item.channel, NetworkItem(
        remote_id=item.remote_id, kind=item.kind, author_id=item.author_id,
        author_name=item.author_name, text=text or item.text,
        created_at=item.created_at, post_remote_id=item.post_remote_id,
        parent_remote_id=item.parent_remote_id,
    ), action=action, at=timezone.now())


@pytest.mark.django_db
def test_an_edit_while_i_wrote_stops_my_answer_and_send_anyway_sends_it(two):
    """T4-10 (fixer): the page comes back 409 naming the edit, marks the
    edited item, shows the new wording, and "Send alligevel" sends."""
    item = two["item"]
    _citizen_changes(item, "edited", "Hvornår lukker svømmehallen for vinteren?")
    stopped = two["send"](two["signe"], two["forms"]["signe"], "Kl. 10.")
    page = stopped.content.decode()
    assert stopped.status_code == 409
    assert "Borgeren rettede sin tekst kl. 14:02, mens du skrev." in page
    assert f'id="item-{item.pk}" class="inbox-item kind-comment inbox-meanwhile"' \
        in page
    assert "Hvornår lukker svømmehallen for vinteren?" in page
    assert not Answer.objects.exists()
    fields = _reply_form_fields(page)
    sent = two["send"](two["signe"], fields, "Kl. 10.", send_anyway=_anyway(page))
    assert sent.status_code == 302
    assert Answer.objects.count() == 1


@pytest.mark.django_db
def test_a_deletion_while_i_wrote_stops_my_answer_to_another_item(two, desk):
    """The citizen deleted their follow-up question while the editor
    answered the first one: stopped, like an edit."""
    follow_up = citizen_item(desk["channel"], "Og om søndagen?",
                             parent=two["item"].remote_id)
    fields = two["page"](two["signe"])
    _citizen_changes(follow_up, "remove")
    stopped = two["send"](two["signe"], {**fields, "item": two["item"].pk},
                          "Kl. 10.")
    assert stopped.status_code == 409
    assert "Borgeren slettede kl. 14:02 noget af det" in stopped.content.decode()
    assert not Answer.objects.exists()


@pytest.mark.django_db
def test_a_page_drawn_after_the_edit_sends_and_an_old_form_without_versions_too(
    two
):
    item = two["item"]
    _citizen_changes(item, "edited", "Hvornår lukker svømmehallen?")
    fields = two["page"](two["signe"])
    # Item, answer, version and answer written on the network (T7b-1).
    assert fields["seen"].count(".") == 3
    assert two["send"](two["signe"], fields, "Kl. 10.").status_code == 302
    # A form from a page drawn before versions were counted ("item.answer"):
    # edits are not known to it, and it is not refused for them.
    _citizen_changes(item, "edited", "Hvornår lukker svømmehallen i dag?")
    seen = meanwhile.seen_now(item.conversation)
    old = {**two["page"](two["other"]),
           "seen": f"{seen.item_id}.{seen.answer_id}"}
    assert two["send"](two["other"], old, "Kl. 11.").status_code == 302
