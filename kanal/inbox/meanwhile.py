"""What was written in a conversation while a person wrote an answer.

The reply form carries what its page showed (``Seen``: the newest item, the
newest answer, the newest version of an item's text and the newest answer
written on the network). ``reply_to_item`` refuses an answer when, since
then, a colleague's answer was queued or sent (from Kanal, or written on
the network itself), or the citizen wrote again, edited or deleted what
they wrote (``WrittenMeanwhile``): two colleagues answering the same citizen at once
must not both go out unnoticed, nor an answer to a question the citizen
has since changed. The person reads what came and may send
theirs anyway, which tells Kanal they have now seen it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from kanal.core.formatting import when

from .models import Conversation, ItemVersion


@dataclass(frozen=True)
class Seen:
    """The newest item, answer and item version (an edit, a deletion) of a
    conversation a page showed (their ids; 0: none). ``version_id`` None:
    not known (a page drawn before versions were counted), edits are not
    checked."""

    item_id: int = 0
    answer_id: int = 0
    version_id: int | None = None
    #: The newest answer written on the network (``NetworkAnswer``) the
    #: page showed; None: not known (a page drawn before they were kept).
    network_answer_id: int | None = None

    def __str__(self) -> str:
        if self.version_id is None:
            return f"{self.item_id}.{self.answer_id}"
        if self.network_answer_id is None:
            return f"{self.item_id}.{self.answer_id}.{self.version_id}"
        return (f"{self.item_id}.{self.answer_id}.{self.version_id}."
                f"{self.network_answer_id}")

    @classmethod
    def parse(cls, value: str) -> Seen | None:
        """The ``Seen`` a form sent back (``str(seen)``); None when it is not
        one."""
        parts = (value or "").split(".")
        if len(parts) not in (2, 3, 4) or len(value) > LIMIT or not all(
            part.isascii() and part.isdigit() and int(part) <= ID_MAX
            for part in parts
        ):
            return None
        return cls(*(int(part) for part in parts))


#: The largest id a database row has (a 64-bit integer), and the longest
#: ``str(Seen)``: four such ids and three dots.
ID_MAX = 2**63 - 1
LIMIT = 4 * len(str(ID_MAX)) + 3


def seen_now(conversation: Conversation) -> Seen:
    """What a page drawn now shows of ``conversation``."""
    def newest(rows) -> int:
        return rows.order_by("-pk").values_list("pk", flat=True).first() or 0

    return Seen(newest(conversation.items), newest(conversation.answers),
                newest(ItemVersion.objects.filter(
                    item__conversation_id=conversation.pk)),
                newest(conversation.network_answers))


class WrittenMeanwhile(ValidationError):
    """An answer was queued or sent, or the citizen wrote, after what the
    person saw. ``now`` is what the page that says so shows; ``answer_id``
    or ``item_id`` is what came."""

    def __init__(self, message: str, *, now: Seen, answer_id: int | None = None,
                 item_id: int | None = None, network_answer_id: int | None = None):
        super().__init__(message, code="written_meanwhile")
        self.now = now
        self.answer_id = answer_id
        self.item_id = item_id
        self.network_answer_id = network_answer_id


def check(conversation: Conversation, seen: Seen) -> None:
    """Raise ``WrittenMeanwhile`` when something was written in
    ``conversation`` after ``seen``, or the citizen edited or deleted an item
    (a new ``ItemVersion``) since. The caller holds the conversation's row
    lock until its own answer is queued, so of two answers sent at once the
    second finds the first here."""
    answer = (conversation.answers.filter(pk__gt=seen.answer_id)
              .exclude(follow_up__status="failed")  # nothing reached the citizen
              .select_related("author__user").order_by("pk").first())
    if answer is not None:
        who = answer.author.display_name if answer.author else _("En kollega")
        raise WrittenMeanwhile(
            _("%(who)s svarede %(at)s, mens du skrev. Dit svar er ikke sendt. "
              "Læs svaret herunder, og send dit alligevel hvis det stadig er "
              "relevant.") % {"who": who, "at": _at(answer.created_at)},
            now=seen_now(conversation), answer_id=answer.pk)
    if seen.network_answer_id is not None:
        written = conversation.network_answers.filter(
            pk__gt=seen.network_answer_id).order_by("pk").first()
        if written is not None:
            raise WrittenMeanwhile(
                _("Der blev svaret på netværket %(at)s, mens du skrev. Dit svar "
                  "er ikke sendt. Læs svaret herunder, og send dit alligevel "
                  "hvis det stadig er relevant.") % {"at": _at(written.seen_at)},
                now=seen_now(conversation), network_answer_id=written.pk)
    item = conversation.items.filter(pk__gt=seen.item_id).order_by("pk").first()
    if item is not None:
        raise WrittenMeanwhile(
            _("Borgeren skrev igen %(at)s, mens du skrev. Dit svar er ikke sendt. "
              "Læs det nye herunder, og send dit alligevel hvis det stadig er "
              "relevant.") % {"at": _at(item.received_at)},
            now=seen_now(conversation), item_id=item.pk)
    if seen.version_id is None:
        return
    version = ItemVersion.objects.filter(
        item__conversation_id=conversation.pk, pk__gt=seen.version_id,
    ).exclude(change=ItemVersion.Change.ORIGINAL).order_by("pk").first()
    if version is not None:
        if version.change == ItemVersion.Change.DELETED:
            message = _("Borgeren slettede %(at)s noget af det, de skrev, mens du "
                        "skrev. Dit svar er ikke sendt. Læs samtalen herunder, og "
                        "send dit alligevel hvis det stadig er relevant.")
        else:
            message = _("Borgeren rettede sin tekst %(at)s, mens du skrev. Dit "
                        "svar er ikke sendt. Læs den nye udgave herunder, og send "
                        "dit alligevel hvis det stadig er relevant.")
        raise WrittenMeanwhile(message % {"at": _at(version.seen_at)},
                               now=seen_now(conversation), item_id=version.item_id)


def _at(moment) -> str:
    """"kl. 14:02" today, "3. dec. kl. 14:02" another day (Danish time)."""
    local = timezone.localtime(moment)
    time = local.strftime("%H:%M")
    if local.date() == timezone.localdate():
        return _("kl. %(time)s") % {"time": time}
    return _("%(day)s kl. %(time)s") % {"day": when(local, "day"), "time": time}
