"""Every write to planning: posts, proposals, workflow, media, feeds.

Each action checks the policy, changes state with ``save(update_fields=...)``,
writes an audit entry and queues follow-up work after commit. ``actor`` is a
Membership, or None for the system. The actions live in modules by concern;
this package exports them all (``from kanal.planning.actions import X``).
"""

from __future__ import annotations

# Read through this package by older callers; their home is ``validation``.
from ..validation import check_saved_variant, outgoing
from .campaigns import (
    LINK_TRACKING_FIELDS,
    create_calendar_feed,
    create_campaign,
    revoke_calendar_feed,
    save_link_tracking,
)
from .common import (
    PLANNABLE_FROM,
    PLANNABLE_UNTIL,
    POST_FIELDS,
    PROPOSAL_FIELDS,
    VARIANT_FIELDS,
    ApprovalOutdated,
    InvalidVariants,
    PlanningError,
    StaleEdit,
    _save_revision,
    apply_changes,
)
from .library import (
    MEDIA_FIELDS,
    media_quota_bytes,
    update_media,
    upload_media,
)
from .posts import (
    create_post,
    import_posts,
    update_post,
)
from .proposals import (
    accept_proposal,
    create_proposal,
    decline_proposal,
    request_proposal_changes,
    update_proposal,
)
from .workflow import (
    CONTENT_FIELDS,
    _schedule,
    add_comment,
    approve_post,
    cancel_post,
    invalid_variants,
    mark_unapproved_missed,
    reject_post,
    reschedule_post,
    schedule_post,
    submit_post,
    warn_unapproved_posts,
)

__all__ = [
    "CONTENT_FIELDS",
    "LINK_TRACKING_FIELDS",
    "MEDIA_FIELDS",
    "PLANNABLE_FROM",
    "PLANNABLE_UNTIL",
    "POST_FIELDS",
    "PROPOSAL_FIELDS",
    "VARIANT_FIELDS",
    "ApprovalOutdated",
    "InvalidVariants",
    "PlanningError",
    "StaleEdit",
    "_save_revision",
    "_schedule",
    "accept_proposal",
    "add_comment",
    "apply_changes",
    "approve_post",
    "cancel_post",
    "check_saved_variant",
    "create_calendar_feed",
    "create_campaign",
    "create_post",
    "create_proposal",
    "decline_proposal",
    "import_posts",
    "invalid_variants",
    "mark_unapproved_missed",
    "media_quota_bytes",
    "outgoing",
    "reject_post",
    "request_proposal_changes",
    "reschedule_post",
    "revoke_calendar_feed",
    "save_link_tracking",
    "schedule_post",
    "submit_post",
    "update_media",
    "update_post",
    "update_proposal",
    "upload_media",
    "warn_unapproved_posts",
]
