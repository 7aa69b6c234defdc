"""The inbox: what citizens write to the organisation's channels.

``WebhookDelivery`` keeps a signed webhook's raw body before anything reads
it; ``InboxItem`` is one comment, reply, mention or direct message, unique
per channel by the network's id, with every text the network showed us kept
in ``ItemVersion`` (an edit or a deletion never overwrites what was seen);
``Conversation`` groups items (a top-level comment and its replies, or one
person's messages) and carries the desk's status and assignment.
"""

from __future__ import annotations

import datetime

from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kanal import untrusted


class ItemKind(models.TextChoices):
    COMMENT = "comment", _("Kommentar")
    REPLY = "reply", _("Svar")
    MENTION = "mention", _("Omtale")
    MESSAGE = "message", _("Besked")


class ConversationStatus(models.TextChoices):
    NEW = "new", _("Ny")
    ASSIGNED = "assigned", _("Tildelt")
    WAITING = "waiting", _("Afventer")
    ANSWERED = "answered", _("Besvaret")
    NO_REPLY = "no_reply", _("Kræver ikke svar")
    HIDDEN = "hidden", _("Skjult")
    REFERRED = "referred", _("Henvist")


#: Statuses that still wait for the desk.
OPEN_STATUSES = frozenset(
    {ConversationStatus.NEW, ConversationStatus.ASSIGNED, ConversationStatus.WAITING}
)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Venter")
    PROCESSED = "processed", _("Behandlet")
    IGNORED = "ignored", _("Ignoreret")
    FAILED = "failed", _("Fejlet")


def default_weekdays() -> list[int]:
    return [0, 1, 2, 3, 4]


#: The days a Danish municipality's offices close beyond the public holidays
#: (``holidays``): Juleaftensdag, Nytårsaftensdag and Grundlovsdag, as
#: "MM-DD" (every year); a single date is "YYYY-MM-DD".
DEFAULT_CLOSED_DAYS = ("12-24", "12-31", "06-05")


def default_closed_days() -> list[str]:
    return list(DEFAULT_CLOSED_DAYS)


DEFAULT_FOOTER = (
    "Svaret er vejledning og ikke en afgørelse. Skriv til os på kk.dk, hvis du "
    "har brug for en afgørelse."
)


#: The inbox period's bounds: never so short that a citizen's comment is
#: blanked before the desk has read and answered it, never so long that the
#: date arithmetic of the retention job overflows.
RETENTION_MIN_DAYS = 30
RETENTION_MAX_DAYS = 36_500


class InboxSettings(models.Model):
    """An organisation's choices for its inbox."""

    organisation = models.OneToOneField(
        "organisations.Organisation",
        on_delete=models.CASCADE,
        related_name="inbox_settings",
    )
    hide_personal_data = models.BooleanField(
        _("skjul kommentarer med personoplysninger på netværket med det samme"),
        default=False,
    )
    retention_days = models.PositiveIntegerField(
        _("slet borgeres personoplysninger efter (dage)"), default=365,
        validators=[
            MinValueValidator(RETENTION_MIN_DAYS, message=_(
                "Opbevaringsperioden skal være mindst %(limit_value)s dage, så "
                "ingen henvendelse slettes, før nogen har set og besvaret den.")),
            MaxValueValidator(RETENTION_MAX_DAYS, message=_(
                "Opbevaringsperioden kan højst være %(limit_value)s dage.")),
        ],
    )
    require_footer = models.BooleanField(
        _("sæt vejledningsteksten under hvert svar"), default=False
    )
    footer_text = models.CharField(
        _("vejledningstekst"), max_length=300, blank=True,
        default=DEFAULT_FOOTER,
    )
    opens_at = models.TimeField(_("åbningstid fra"), default=datetime.time(8, 0))
    closes_at = models.TimeField(_("åbningstid til"), default=datetime.time(16, 0))
    open_weekdays = models.JSONField(
        _("åbne ugedage"), default=default_weekdays,
        help_text=_("0 = mandag … 6 = søndag. Helligdage er altid lukket."),
    )
    closed_days = models.JSONField(
        _("lukkedage ud over helligdagene"), default=default_closed_days,
        blank=True,
        help_text=_("Dage hvor svarfristen står stille, ud over de offentlige "
                    "helligdage."),
    )
    target_hours = models.PositiveSmallIntegerField(
        _("svarfrist (arbejdstimer)"), default=8,
        help_text=_("Fx 8 = inden for én arbejdsdag, regnet i åbningstiden."),
    )
    house_rules_url = models.URLField(
        _("adresse på husreglerne"), max_length=300, blank=True
    )
    block_at_warning = models.PositiveSmallIntegerField(
        _("bloker ved advarsel nr."), default=3,
        help_text=_("Organisationens politik: ved denne advarsel blokeres "
                    "afsenderen på netværket (0 = ingen blokering)."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("indbakkeindstillinger")
        verbose_name_plural = _("indbakkeindstillinger")

    def __str__(self) -> str:
        return f"Indbakke for {self.organisation_id}"


class WebhookDelivery(models.Model):
    """One signed webhook request, stored before it is read.

    The endpoint only checks the signature and stores the body; the worker
    parses and processes it (``intake.process_deliveries``), so the network
    gets its answer fast and nothing is lost when processing fails.
    """

    network = models.CharField(max_length=20)
    # Set when the address named an organisation: pages of others are ignored.
    organisation = models.ForeignKey(
        "organisations.Organisation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    body = models.TextField()
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    # What processing found: counts and the reasons events were ignored.
    outcome = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["status", "id"], name="inbox_delivery_due")]

    def __str__(self) -> str:
        return f"{self.network} webhook {self.pk} ({self.status})"


class MentionStatus(models.TextChoices):
    PENDING = "pending", _("Venter")
    READ = "read", _("Hentet")
    GONE = "gone", _("Væk")


class MentionReadBack(models.Model):
    """An Instagram ``mentions`` webhook's ids, kept until the mention is
    read back (the webhook names only the comment and the media).

    One row per (channel, comment, media): a replayed webhook finds its row
    and is not read again. The worker (``inbox.mentions``) reads a pending
    row, stores the mention as an item and marks it read; a failed read
    waits (``next_attempt_at``, growing with ``attempts``) and is tried
    again, never dropped; a mention the network says no longer exists (or
    may not be read) is marked gone.
    """

    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE,
                                related_name="+")
    comment_id = models.CharField(max_length=200, blank=True)
    media_id = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=MentionStatus.choices,
                              default=MentionStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # What the network last answered (for support), untranslated.
    last_error = models.CharField(max_length=300, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "comment_id", "media_id"],
                                    name="inbox_mention_once"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"],
                                name="inbox_mention_due")]

    def __str__(self) -> str:
        return f"mention {self.comment_id or self.media_id} ({self.status})"


_STATUS_LABELS = dict(ConversationStatus.choices)


class Conversation(models.Model):
    """A thread the desk handles as one: status, assignment, notes."""

    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.CASCADE,
        related_name="inbox_conversations",
    )
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.CASCADE, related_name="conversations"
    )
    # "c:<root comment id>", "dm:<author id>" or "m:<mention id>".
    key = models.CharField(max_length=300)
    post_remote_id = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ConversationStatus.choices,
        default=ConversationStatus.NEW,
    )
    # The status a *Skjult* conversation had before moderation hid its last
    # waiting item: showing an item again gives it back (``moderation``).
    status_before_hidden = models.CharField(
        max_length=20, choices=ConversationStatus.choices, blank=True
    )
    assigned_administration = models.ForeignKey(
        "organisations.Administration",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbox_conversations",
        verbose_name=_("forvaltning"),
    )
    assigned_to = models.ForeignKey(
        "organisations.Membership",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbox_conversations",
        verbose_name=_("person"),
    )
    has_personal_data = models.BooleanField(default=False)
    # The latest citizen item's sentiment hint (list filter).
    negative = models.BooleanField(default=False)
    # Raised when, during crisis mode, a citizen writes crisis words.
    priority = models.BooleanField(_("prioritet"), default=False)
    last_item_at = models.DateTimeField(null=True, blank=True)
    # When the organisation's response target falls due (working hours).
    due_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    # Set when the first answer went out: was it within the target?
    answered_on_time = models.BooleanField(null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_item_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "key"], name="inbox_conversation_key_unique"
            )
        ]
        # All follow the list's order, so a page is read from the index.
        indexes = [
            models.Index(
                fields=["organisation", "-priority", "-last_item_at", "-id"],
                name="inbox_conv_list",
            ),
            models.Index(
                fields=["organisation", "status", "-priority", "-last_item_at",
                        "-id"],
                name="inbox_conv_status_list",
            ),
            # One channel's conversations in the list's order (the channel
            # filter; a page without sorting the channel's conversations).
            models.Index(
                fields=["channel", "-priority", "-last_item_at", "-id"],
                name="inbox_conv_channel_list",
            ),
        ]
        verbose_name = _("samtale")
        verbose_name_plural = _("samtaler")

    def __str__(self) -> str:
        return f"Samtale {self.pk}"

    def get_status_display(self) -> str:
        """The status's label, looked up (Django's own builds a dict of the
        choices on every call, which was a tenth of the list page)."""
        return str(_STATUS_LABELS.get(self.status, self.status))

    def open_status(self) -> str:
        """The status this conversation takes when the desk must look at it
        again (the citizen wrote after it was answered)."""
        return (ConversationStatus.ASSIGNED if self.assigned_administration_id
                else ConversationStatus.NEW)

    def unanswered_items(self):
        """The items the desk has not answered: not deleted on the network,
        and received after the newest answer that went out (all of them when
        none went out). Response targets time from them; moderation closes
        the conversation only when none of them still waits."""
        sent = self.answers.filter(follow_up__status="done").order_by(
            "-created_at").values_list("created_at", flat=True).first()
        items = self.items.filter(deleted_on_network_at__isnull=True)
        if sent is not None:
            items = items.filter(received_at__gt=sent)
        return items


class InboxItem(models.Model):
    """One comment, reply, mention or direct message from a citizen."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.CASCADE, related_name="inbox_items"
    )
    network = models.CharField(max_length=20)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="items"
    )
    remote_id = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=ItemKind.choices)
    post_remote_id = models.CharField(max_length=200, blank=True)
    parent_remote_id = models.CharField(max_length=200, blank=True)
    author_id = models.CharField(max_length=200, blank=True)
    author_name = models.CharField(max_length=300, blank=True)
    # The handle an answer names the author by (Mastodon's ``acct``).
    author_handle = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)
    url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField()  # on the network
    received_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_on_network_at = models.DateTimeField(null=True, blank=True)
    # When polling last read this item back by its id on a network without
    # webhooks (``polling.recheck``: edits and deletions); None: not yet.
    network_checked_at = models.DateTimeField(null=True, blank=True)
    hidden_on_network = models.BooleanField(default=False)
    # A moderation ("delete") the network answered with an error after which
    # Kanal could not see whether it was done: the next attempt that finds
    # the item gone records it (``moderation``).
    moderation_uncertain = models.CharField(max_length=20, blank=True)
    # When the network (or the desk through Kanal) last hid or showed it:
    # a hide/unhide event older than this, delivered late, changes nothing.
    hidden_changed_at = models.DateTimeField(null=True, blank=True)
    # When the organisation's account liked it on the network, and who in
    # Kanal did it (``likes``); both empty when it is not liked.
    liked_at = models.DateTimeField(null=True, blank=True)
    liked_by = models.ForeignKey(
        "organisations.Membership", null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    # Kinds of personal data found in the text ("cpr", "phone", "email").
    personal_data = models.JSONField(default=list, blank=True)
    # Hints (``hints``): AFINN's Danish sentiment sum and the text's language.
    sentiment = models.SmallIntegerField(null=True, blank=True)
    language = models.CharField(max_length=8, blank=True)
    # Set when retention (the records app's job, which also knows the legal
    # holds) removed the citizen's text and name.
    redacted_at = models.DateTimeField(null=True, blank=True)
    # PostgreSQL only: text and author's name in the Danish configuration,
    # set by a trigger and read through a GIN index (``search``; SQLite
    # searches an FTS5 table instead and leaves this empty).
    search_vector = SearchVectorField(null=True, editable=False)
    # The conversation's assignment, copied by the database on every path
    # that assigns a conversation or adds an item to one (``scope``), so who
    # may see an item is on its own row and a contributor's search narrows
    # by it in the search index (PostgreSQL: one GIN of the search vector
    # and these two). Never written by Kanal's code: a value written here
    # that differs from the conversation's is put back by the trigger. No
    # foreign-key constraint: the conversation holds that one.
    assigned_administration = models.ForeignKey(
        "organisations.Administration", null=True, blank=True, editable=False,
        on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
        related_name="+",
    )
    assigned_to = models.ForeignKey(
        "organisations.Membership", null=True, blank=True, editable=False,
        on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
        related_name="+",
    )

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "remote_id"], name="inbox_item_remote_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["organisation", "received_at"], name="inbox_item_recv"
            ),
            # The newest item for the list's live updates (``latest_item_id``).
            models.Index(fields=["organisation", "-id"], name="inbox_item_newest"),
            # A conversation's latest item in the list (one row per page row).
            models.Index(
                fields=["conversation", "-created_at", "-id"],
                name="inbox_item_latest",
            ),
        ]
        verbose_name = _("henvendelse")
        verbose_name_plural = _("henvendelser")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.remote_id}"


class ItemVersion(models.Model):
    """A text of an item as the network showed it at one moment."""

    class Change(models.TextChoices):
        ORIGINAL = "original", _("Oprindelig")
        EDITED = "edited", _("Redigeret")
        DELETED = "deleted", _("Slettet på netværket")

    item = models.ForeignKey(
        InboxItem, on_delete=models.CASCADE, related_name="versions"
    )
    change = models.CharField(max_length=20, choices=Change.choices)
    text = models.TextField(blank=True)
    # When the network says this text was written (orders edits that arrive
    # out of order); ``seen_at`` is when Kanal saw it.
    network_time = models.DateTimeField(null=True, blank=True)
    seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seen_at", "pk"]

    def __str__(self) -> str:
        return f"{self.change} of {self.item_id}"


class PollCursor(models.Model):
    """Where polling a channel's inbox left off (the adapter's opaque cursor)."""

    channel = models.OneToOneField(
        "channels.Channel", on_delete=models.CASCADE, related_name="inbox_cursor"
    )
    cursor = models.TextField(blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    # Why the last poll failed, as written: the network's Danish sentence, or
    # Kanal's own (its msgid, with ``last_error_params``); ``polling.
    # poll_problem`` renders it in the reader's language.
    last_error = models.TextField(blank=True)
    last_error_params = models.JSONField(default=dict, blank=True)
    items_seen = models.PositiveIntegerField(default=0)
    # Entries of the network's answers that could not be read and were
    # skipped (the cursor passed them; the log says when).
    items_skipped = models.PositiveIntegerField(default=0)
    # The permission the network says the account lacks to read direct
    # messages (its own name for it), and since when; empty while messages
    # are read (or the network has none).
    messages_denied = models.CharField(max_length=100, blank=True)
    messages_denied_since = models.DateTimeField(null=True, blank=True)
    # The network's throttle said to wait until then (a 429's Retry-After or
    # reset time, at most a day): the channel is not polled before.
    poll_not_before = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Cursor for {self.channel_id}"


class Note(models.Model):
    """An internal note on a conversation; citizens never see it."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="notes"
    )
    author = models.ForeignKey(
        "organisations.Membership", null=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    text = models.TextField(_("note"))
    # The note form's key: the same form sent twice (a double click) is one
    # note (``actions.add_note``).
    form_key = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "form_key"], condition=~models.Q(form_key=""),
                name="note_form_key_unique",
            )
        ]

    def __str__(self) -> str:
        return f"Note {self.pk}"


class KeptText(models.Model):
    """A text the desk keeps for answering citizens: a title unique within
    the organisation and a text with the variables ``{fornavn}``,
    ``{kanalnavn}`` and ``{forvaltningsnavn}``, filled in when it is used.
    Each kind keeps its own table, its own ``organisation`` (for its related
    name) and its own help text."""

    title = models.CharField(_("titel"), max_length=120)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class StandardAnswer(KeptText):
    """A prepared answer the desk keeps."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE,
        related_name="standard_answers",
    )
    text = models.TextField(
        _("tekst"), max_length=2000,
        help_text=_("Du kan bruge {fornavn} (borgerens fornavn), {kanalnavn} og "
                    "{forvaltningsnavn}."),
    )

    class Meta(KeptText.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "title"], name="standard_answer_title_unique"
            )
        ]
        verbose_name = _("standardsvar")
        verbose_name_plural = _("standardsvar")


class ReferralTemplate(KeptText):
    """Where to send a citizen whose question the desk cannot settle here
    (kk.dk, Borgerservice, the right administration). Kept by editors apart
    from standard answers; answering with one marks the conversation
    *referred*."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE,
        related_name="referral_templates",
    )
    administration = models.ForeignKey(
        "organisations.Administration", null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("henvis til forvaltning"),
        help_text=_("Valgfri: den forvaltning, borgeren henvises til. Dens navn "
                    "bruges for {forvaltningsnavn}."),
    )
    text = models.TextField(
        _("tekst"), max_length=2000,
        help_text=_("Sig hvor borgeren skal henvende sig, fx en side på kk.dk "
                    "eller Borgerservice. Du kan bruge {fornavn}, {kanalnavn} og "
                    "{forvaltningsnavn}."),
    )

    class Meta(KeptText.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "title"], name="referral_title_unique"
            )
        ]
        verbose_name = _("henvisningsskabelon")
        verbose_name_plural = _("henvisningsskabeloner")


class Answer(models.Model):
    """The desk's answer to one item, sent through publishing's follow-ups
    (claimed, fenced, sent once); ``follow_up`` holds its progress."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="answers"
    )
    item = models.ForeignKey(
        InboxItem, on_delete=models.CASCADE, related_name="answers"
    )
    author = models.ForeignKey(
        "organisations.Membership", null=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    text = models.TextField()
    standard_answer = models.ForeignKey(
        StandardAnswer, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    # Set when the answer referred the citizen elsewhere (status "referred").
    referral = models.ForeignKey(
        ReferralTemplate, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    follow_up = models.OneToOneField(
        "publishing.FollowUp", on_delete=models.PROTECT, related_name="inbox_answer"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Svar {self.pk}"


class Reason(models.TextChoices):
    """The house rules' reason codes for hiding or deleting a comment."""

    PERSONAL_DATA = "personal_data", _("Personoplysninger")
    THREATS = "threats", _("Trusler eller chikane")
    DISCRIMINATION = "discrimination", _("Diskrimination")
    SPAM = "spam", _("Spam")
    ADVERTISING = "advertising", _("Reklame")
    PARTY_POLITICS = "party_politics", _("Partipolitik")
    OFF_TOPIC = "off_topic", _("Uden for emnet")
    OTHER = "other", _("Andet brud på husreglerne")


class ModerationAction(models.Model):
    """A hide, unhide or delete on the network, with its house-rule reason."""

    class Kind(models.TextChoices):
        HIDE = "hide", _("Skjult")
        UNHIDE = "unhide", _("Vist igen")
        DELETE = "delete", _("Slettet")

    item = models.ForeignKey(
        InboxItem, on_delete=models.CASCADE, related_name="moderation"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    reason = models.CharField(max_length=30, choices=Reason.choices, blank=True)
    actor = models.ForeignKey(
        "organisations.Membership", null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    # Copied so a count survives retention and deleted members.
    author_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["author_id"], name="inbox_mod_author")]

    def __str__(self) -> str:
        return f"{self.kind} {self.item_id}"


class AssignmentRule(models.Model):
    """Assign new conversations automatically: by channel, by a keyword in
    the citizen's text, or both. The first matching rule (by ``position``)
    wins."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE,
        related_name="inbox_rules",
    )
    channel = models.ForeignKey(
        "channels.Channel", null=True, blank=True, on_delete=models.CASCADE,
        related_name="+", verbose_name=_("kanal"),
    )
    keyword = models.CharField(_("nøgleord"), max_length=100, blank=True)
    administration = models.ForeignKey(
        "organisations.Administration", on_delete=models.CASCADE,
        related_name="+", verbose_name=_("forvaltning"),
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("tildelingsregel")
        verbose_name_plural = _("tildelingsregler")

    def __str__(self) -> str:
        return f"Regel {self.pk}"

    def matches(self, channel_id: int, text: str) -> bool:
        """Whether the rule takes a new conversation on ``channel_id`` whose
        first item says ``text``, both read as shown (``untrusted.as_read``):
        an invisible character or an override inside the word hides
        nothing."""
        if self.channel_id and self.channel_id != channel_id:
            return False
        if self.keyword and untrusted.as_read(self.keyword) not in (
                untrusted.as_read(text)):
            return False
        return bool(self.channel_id or self.keyword)


class StatusCount(models.Model):
    """A share of the number of an organisation's conversations in one
    channel with one status, assigned administration and assigned person
    (0: none); the number is the sum of its rows.

    Triggers on the conversation table (``counts``) add a row of +1 or -1
    in the same transaction as every insert, deletion and change of status,
    assignment or organisation, whatever wrote it (a model's save, a bulk
    ``.update()``, a cascade, raw SQL, a restore's raw inserts), so the
    list's status counts read a few dozen rows instead of counting every
    conversation. Only inserts: two transactions never wait on one counter
    row. A periodic job folds the rows into one per key (``counts.fold``).

    The table is the triggers' alone (``managed = False``; ``counts`` makes
    it): Django's flush leaves it to them (a conversation table emptied
    row by row counts itself down, a TRUNCATE empties it too), and a backup
    leaves it out (a restore's conversations count themselves in). The keys
    are plain numbers, not foreign keys: a deleted organisation's
    conversations are counted down by the same triggers, and its rows fold
    away to nothing.
    """

    organisation_id = models.BigIntegerField()
    # Kept per channel, so a network or channel filter is counted too.
    channel_id = models.BigIntegerField(default=0)
    administration_id = models.BigIntegerField(default=0)
    person_id = models.BigIntegerField(default=0)
    status = models.CharField(max_length=20)
    n = models.IntegerField()

    class Meta:
        managed = False
        db_table = "inbox_statuscount"

    def __str__(self) -> str:
        return (f"{self.organisation_id}/{self.administration_id}/"
                f"{self.person_id}/{self.status}: {self.n}")
