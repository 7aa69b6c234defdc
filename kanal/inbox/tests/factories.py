from __future__ import annotations

from django.utils import timezone

from kanal.channels.networks.base import InboxItem as NetworkItem
from kanal.inbox.intake import ingest
from kanal.inbox.models import InboxItem

_counter = [0]


def citizen_item(channel, text="Hvornår åbner svømmehallen?", *, remote_id="",
                 kind="comment", parent="", author="Mette Hansen", at=None):
    """Store a citizen's item on ``channel`` the way intake does."""
    _counter[0] += 1
    remote_id = remote_id or f"item-{_counter[0]}"
    ingest(channel, NetworkItem(
        remote_id=remote_id, kind=kind, author_id=f"author-{author}",
        author_name=author, text=text, created_at=at or timezone.now(),
        post_remote_id="post-1", parent_remote_id=parent or "post-1",
    ))
    return InboxItem.objects.get(channel=channel, remote_id=remote_id)
