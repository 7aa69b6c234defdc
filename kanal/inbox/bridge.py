"""Receivers for what the layers below announce (publishing's signals)."""

from __future__ import annotations


def on_reply_finished(sender, follow_up, **kwargs) -> None:
    """A reply the inbox queued was sent or gave up: record it."""
    from . import replies
    from .models import Answer

    answer = Answer.objects.filter(follow_up=follow_up).select_related(
        "follow_up", "item"
    ).first()
    if answer is not None:
        replies.record_reply_outcome(answer)
