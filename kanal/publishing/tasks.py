"""Background work after a crisis (django-tasks; ids only, one action).

Follow-ups of a publication (first comment, crisis pin) are ``FollowUp`` rows
claimed by the publishing worker, not tasks (see ``followup.py``).
"""

from __future__ import annotations

from django_tasks import task


@task()
def release_crisis_pin(unpin_id: int) -> None:
    """Take one crisis message off the top of its profile after a crisis."""
    from .crisis import release_pin

    release_pin(unpin_id)
