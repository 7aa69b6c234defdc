"""What publishing tells the apps above it, without importing them.

``publication_changed``: a publication's status changed (inside the
transaction that changed it); ``post_id`` names the planning post it belongs
to. Planning rolls the post's status up (``kanal.planning.bridge``).

``approval_check``: asked at send time whether the approved revision still
stands; a receiver returns False when it does not. No receiver means no
approval flow: it stands.
"""

from __future__ import annotations

from django.dispatch import Signal

publication_changed = Signal()
approval_check = Signal()
#: A reply queued with ``followup.queue_reply`` was sent (``follow_up.status``
#: "done", with its ``remote_id``) or has finally failed ("failed", with
#: ``last_error``); sent after commit.
reply_finished = Signal()


def approval_stands(*, post_id: int, revision_id: int | None) -> bool:
    responses = approval_check.send(
        sender=None, post_id=post_id, revision_id=revision_id
    )
    return all(bool(answer) for _receiver, answer in responses)
