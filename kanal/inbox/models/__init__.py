"""The inbox: what citizens write to the organisation's channels, one module
per concern, every model imported from here:

- ``conversations``: ``InboxItem`` is one comment, reply, mention or direct
  message, unique per channel by the network's id, with every text the
  network showed kept in ``ItemVersion`` (an edit or a deletion never
  overwrites what was seen); ``Conversation`` groups items (a top-level
  comment and its replies, or one person's messages) and carries the desk's
  status and assignment, notes and answers;
- ``intake``: a signed webhook's raw body (``WebhookDelivery``) before
  anything reads it, Instagram mentions waiting to be read back, polling
  cursors;
- ``moderation``: the house rules' reasons and every hide, unhide and delete;
- ``settings``: an organisation's inbox settings and assignment rules;
- ``texts``: standard answers and referral templates.
"""

from .conversations import (  # noqa: F401
    OPEN_STATUSES,
    Answer,
    Conversation,
    ConversationStatus,
    InboxItem,
    ItemKind,
    ItemVersion,
    NetworkAnswer,
    Note,
    StatusCount,
)
from .intake import (  # noqa: F401
    DeliveryStatus,
    MentionReadBack,
    MentionStatus,
    PollCursor,
    WebhookDelivery,
)
from .moderation import (  # noqa: F401
    ModerationAction,
    Reason,
)
from .settings import (  # noqa: F401
    DEFAULT_CLOSED_DAYS,
    DEFAULT_FOOTER,
    RETENTION_MAX_DAYS,
    RETENTION_MIN_DAYS,
    AssignmentRule,
    InboxSettings,
    default_closed_days,
    default_weekdays,
)
from .texts import (  # noqa: F401
    KeptText,
    ReferralTemplate,
    StandardAnswer,
)
