"""Conversations and their items: ``InboxItem`` is one comment, reply,
mention or direct message, unique per channel by the network's id, with every
text the network showed kept in ``ItemVersion`` (an edit or a deletion never
overwrites what was seen); ``Conversation`` groups items (a top-level comment
and its replies, or one person's messages) and carries the desk's status and
assignment, with its notes and answers. ``StatusCount`` keeps the list's
counts."""

from __future__ import annotations

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _

from .texts import ReferralTemplate, StandardAnswer


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



#: Statuses that still wait for the desk.
OPEN_STATUSES = frozenset(
    {ConversationStatus.NEW, ConversationStatus.ASSIGNED, ConversationStatus.WAITING}
)



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



class NetworkAnswer(models.Model):
    """The account's own answer written on the network itself (Meta Business
    Suite, the network's app: a reply under a citizen's comment, a direct
    message the network echoes back), not sent from Kanal: the conversation
    it answered shows it, and a citizen's reply to it joins that
    conversation. Never a citizen's item: it opens, reopens, notifies and
    auto-replies nothing. One row per channel and network id (a replayed
    webhook adds nothing)."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="network_answers"
    )
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.CASCADE, related_name="+"
    )
    remote_id = models.CharField(max_length=200)
    text = models.TextField(blank=True)
    # When the network says it was written; ``seen_at`` is when Kanal saw it.
    written_at = models.DateTimeField()
    seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["written_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "remote_id"],
                                    name="inbox_network_answer_once")
        ]

    def __str__(self) -> str:
        return f"Svar på netværket {self.remote_id}"



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

