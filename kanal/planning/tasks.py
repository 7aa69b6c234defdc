"""Planning's background work. The periodic job watches approvals: it warns
approvers a day ahead and marks posts missed that never got approved.

``approval_watch`` follows publishing's periodic-job signature
(``now``, ``dry_run`` → rows changed) so ``kanal worker`` can run it.
"""

from __future__ import annotations

from datetime import datetime

from django_tasks import task

from . import actions

APPROVAL_WATCH_EVERY_SECONDS = 60.0


def approval_watch(*, now: datetime | None = None, dry_run: bool = False) -> int:
    if dry_run:
        return actions.mark_unapproved_missed(now=now, dry_run=True)
    warned = actions.warn_unapproved_posts(now=now)
    return warned + actions.mark_unapproved_missed(now=now)


@task()
def run_approval_watch() -> int:
    return approval_watch()
