"""Follow-up work after a publication (django-tasks; ids only, one action)."""

from __future__ import annotations

from django_tasks import task


@task()
def after_publication(publication_id: int) -> None:
    """Notify the channel's owners, post the first comment, pin a crisis post."""
    from .followup import after_publication as run

    run(publication_id)


@task()
def release_crisis_pin(unpin_id: int) -> None:
    """Take one crisis message off the top of its profile after a crisis."""
    from .crisis import release_pin

    release_pin(unpin_id)
