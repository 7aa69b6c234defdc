"""The planning pages, in modules by concern.

``kanal.planning.urls`` (and ``kanal.urls``) name them as
``kanal.planning.views.<name>``; this package exports every view.
"""

from __future__ import annotations

from .calendar import (
    calendar_month_view,
    calendar_week_view,
    post_list_view,
)
from .campaigns import (
    campaign_list_view,
    ical_feed_view,
    ical_settings_view,
    link_tracking_view,
    media_file_view,
    report_view,
)
from .common import (
    POST_FORM_FIELDS,
    PROPOSAL_FORM_FIELDS,
    VARIANT_FORM_FIELDS,
)
from .library import (
    media_detail_view,
    media_list_view,
    media_picker_view,
)
from .posts import (
    post_create_view,
    post_detail_view,
    post_edit_view,
    post_import_template_view,
    post_import_view,
)
from .proposals import (
    proposal_accept_view,
    proposal_changes_view,
    proposal_create_view,
    proposal_decline_view,
    proposal_edit_view,
    proposal_list_view,
)
from .workflow import (
    post_approve_view,
    post_cancel_view,
    post_comment_view,
    post_reject_view,
    post_reschedule_view,
    post_schedule_view,
    post_submit_view,
    preview_view,
    revisions_view,
)

__all__ = [
    "POST_FORM_FIELDS",
    "PROPOSAL_FORM_FIELDS",
    "VARIANT_FORM_FIELDS",
    "calendar_month_view",
    "calendar_week_view",
    "campaign_list_view",
    "ical_feed_view",
    "ical_settings_view",
    "link_tracking_view",
    "media_detail_view",
    "media_file_view",
    "media_list_view",
    "media_picker_view",
    "post_approve_view",
    "post_cancel_view",
    "post_comment_view",
    "post_create_view",
    "post_detail_view",
    "post_edit_view",
    "post_import_template_view",
    "post_import_view",
    "post_list_view",
    "post_reject_view",
    "post_reschedule_view",
    "post_schedule_view",
    "post_submit_view",
    "preview_view",
    "proposal_accept_view",
    "proposal_changes_view",
    "proposal_create_view",
    "proposal_decline_view",
    "proposal_edit_view",
    "proposal_list_view",
    "report_view",
    "revisions_view",
]
