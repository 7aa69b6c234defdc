from __future__ import annotations

from django.utils import timezone

from kanal.channels.networks.base import InboxItem as NetworkItem
from kanal.inbox.intake import ingest
from kanal.inbox.models import InboxItem

_counter = [0]


def citizen_item(channel, text="Hvornår åbner svømmehallen?", *, remote_id="",
                 kind="comment", parent="", author="Mette Hansen", at=None,
                 handle=""):
    """Store a citizen's item on ``channel`` the way intake does."""
    _counter[0] += 1
    remote_id = remote_id or f"item-{_counter[0]}"
    ingest(channel, NetworkItem(
        remote_id=remote_id, kind=kind, author_id="author-" + author.replace(" ", "-"),
        author_name=author, text=text, created_at=at or timezone.now(),
        post_remote_id="post-1", parent_remote_id=parent or "post-1",
        author_handle=handle,
    ))
    return InboxItem.objects.get(channel=channel, remote_id=remote_id)


def published_post(channel, *, published_at):
    """A post published on ``channel`` at ``published_at`` (what sets the
    polling cadence)."""
    from kanal.planning.models import Post, PostStatus
    from kanal.publishing.models import Publication, PublicationStatus

    _counter[0] += 1
    post = Post.objects.create(
        organisation_id=channel.organisation_id,
        owner_administration=channel.owner_administration, title="Opslag",
        status=PostStatus.PUBLISHED,
    )
    return Publication.objects.create(
        organisation_id=channel.organisation_id, channel=channel, post_id=post.pk,
        planned_at=published_at, due_at=published_at, late_after=published_at,
        text="Opslag", status=PublicationStatus.PUBLISHED,
        published_at=published_at, remote_id=f"pub-{_counter[0]}",
        idempotency_key=f"pub-{_counter[0]}",
    )


def page_seen(item) -> str:
    """The reply form's ``seen`` as the conversation's page draws it now."""
    from kanal.inbox import meanwhile

    return str(meanwhile.seen_now(item.conversation))


def post_answer(client, item, text="", *, key="k" * 32, **fields):
    """Send the reply form of ``item``'s conversation page as a person
    would: ``text`` (or a standard answer or referral in ``fields``) with
    the form's ``key`` and what the page showed (``page_seen``)."""
    return client.post(f"/indbakke/{item.conversation_id}/svar/", {
        "item": item.pk, "text": text, "key": key, "seen": page_seen(item),
        **fields})


def together_at_queuing(monkeypatch) -> None:
    """Make two threads that answer reach the queuing of their answers at
    the same moment, unless something orders them (the conversation's row
    lock): then the waiting one breaks the barrier and both go on."""
    import contextlib
    import threading

    from kanal.publishing import followup

    barrier = threading.Barrier(2, timeout=3)
    original = followup.queue_reply

    def queue_reply(**kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return original(**kwargs)

    monkeypatch.setattr(followup, "queue_reply", queue_reply)
