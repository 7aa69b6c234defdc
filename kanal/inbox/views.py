"""The inbox pages: the list with filters and search, one conversation and
what the desk does in it (assign, status, notes, answers, moderation, likes).
The setup pages editors keep are in ``setup_views``."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from kanal.channels.models import Channel, ChannelStatus
from kanal.core.decorators import membership_required
from kanal.core.pages import run_action
from kanal.organisations.models import Administration

from . import (
    actions,
    counts,
    likes,
    meanwhile,
    moderation,
    replies,
    selectors,
    templating,
)
from .forms import (
    AssignForm,
    FilterForm,
    ModerationForm,
    NoteForm,
    ReplyForm,
    StatusForm,
    one_line_break,
)
from .models import (
    ConversationStatus,
    InboxItem,
    ItemVersion,
)
from .policies import (
    conversation_policy,
    inbox_settings_policy,
    referral_template_policy,
    standard_answer_policy,
)


def _filters(request, actor):
    visible = conversation_policy.visible(actor)
    channels = Channel.objects.filter(organisation_id=actor.organisation_id)
    administrations = Administration.objects.filter(
        organisation_id=actor.organisation_id)
    form = FilterForm(request.GET or None, channels=channels,
                      administrations=administrations)
    if form.is_bound and not form.is_valid():
        # What the form cannot read is said (the page's error summary) and
        # lists nothing: dropped, a long search listed every conversation.
        return visible.none(), form, selectors.Filters()
    values = form.cleaned_data if form.is_bound else {}
    filters = selectors.Filters(
        network=values.get("network") or "",
        channel=values.get("channel"),
        status=values.get("status") or "",
        administration=values.get("administration"),
        overdue=bool(values.get("overdue")),
        personal_data=bool(values.get("personal_data")),
        negative=bool(values.get("negative")),
        priority=bool(values.get("priority")),
        q=(values.get("q") or "").strip(),
    )
    return visible, form, filters


def _page(request, actor, visible, filters, per_status=None, *, count=None):
    if count is None:
        if per_status is None:
            per_status = counts.status_counts(actor)
        count = counts.list_count(actor, filters, per_status)
    return selectors.page_of(visible, filters, request.GET.get("side"),
                             count=count,
                             items=conversation_policy.visible_items(actor))


@require_safe
@membership_required
def list_view(request):
    actor = request.membership
    conversation_policy.check(actor, "list")
    visible, form, filters = _filters(request, actor)
    per_status = counts.status_counts(actor)
    page = _page(request, actor, visible, filters, per_status,
                 count=0 if form.errors else None)
    query = request.GET.copy()
    query.pop("side", None)
    return render(request, "inbox/list.html", {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "latest": selectors.latest_item_id(visible, actor.organisation_id),
        "counts": [(value, label, per_status.get(value, 0))
                   for value, label in ConversationStatus.choices],
        "can_assign": conversation_policy.can(actor, "assign"),
        "sees_all": conversation_policy.sees_all(actor),
        "filtered": _filtered(request),
        "can_configure": inbox_settings_policy.can(actor, "change"),
        "can_use_texts": standard_answer_policy.can(actor, "list"),
        "can_answer": conversation_policy.can(actor, "reply"),
        "no_messages": get_text_list(
            selectors.networks_without_messages(actor.organisation_id), _("og")),
    }, status=400 if form.errors else 200)


def _filtered(request) -> bool:
    """Whether the list is narrowed by a filter or a search (not a page)."""
    return any(value for name, value in request.GET.items()
               if name not in ("side", "siden"))


@require_safe
@membership_required
def updates_view(request):
    """For the list's polling: the newest item id and, when it changed, the
    list's rows for the same filters."""
    actor = request.membership
    conversation_policy.check(actor, "list")
    visible, form, filters = _filters(request, actor)
    if form.errors:
        # The list page says what is wrong; its rows stay as they are.
        return JsonResponse({"error": _("Filtrene kan ikke bruges.")}, status=400)
    latest = selectors.latest_item_id(visible, actor.organisation_id)
    try:
        since = int(request.GET.get("siden", "0"))
    except ValueError:
        since = 0
    body = {"latest": latest, "changed": latest != since}
    if latest != since:
        page = _page(request, actor, visible, filters)
        body["rows"] = render_to_string("inbox/_rows.html", {
            "page": page, "filtered": _filtered(request),
            "sees_all": conversation_policy.sees_all(actor),
        }, request=request)
        # Counted only up to a bound: "more than" that many.
        bounded = getattr(page.paginator, "bounded", False)
        body["count"] = page.paginator.bound if bounded else page.paginator.count
        body["more"] = bounded
    return JsonResponse(body)


#: Items on one conversation page, the newest; earlier ones a link away (a
#: storm of replies, or a spammer's messages, must not stop the page).
ITEMS_PER_PAGE = 100


@require_safe
@membership_required
def detail_view(request, pk):
    actor = request.membership
    conversation = conversation_policy.get_allowed(actor, "view", pk=pk)
    return _detail(request, actor, conversation)


def _detail(request, actor, conversation, *, reply_form=None, status=200,
            written_meanwhile=None, note_form=None):
    """The conversation page; ``reply_form`` is a refused answer shown again
    with what the person wrote; ``written_meanwhile`` what refused it when a
    colleague answered or the citizen wrote while they wrote (marked)."""
    total = conversation.items.count()
    earlier = max(0, _int(request.GET.get("tidligere")) or 0)
    end = max(0, total - earlier)
    start = max(0, end - ITEMS_PER_PAGE)
    items = list(conversation.items.select_related("liked_by__user")
                 .annotate(versions_total=_versions_total())
                 .prefetch_related(*_versions_shown())[start:end])
    for item in items:
        item.channel = conversation.channel  # one channel: read once
        shown = {v.pk: v for v in [*item.first_versions, *item.newest_versions]}
        item.shown_versions = sorted(shown.values(),
                                     key=lambda v: (v.seen_at, v.pk))
        item.versions_left_out = (item.versions_total or 0) - len(shown)
    notes = conversation.notes.select_related("author__user")
    can_assign = conversation_policy.can(actor, "assign", conversation)
    can_note = conversation_policy.can(actor, "note", conversation)
    can_set_status = conversation_policy.can(actor, "set_status", conversation)
    # Messages are answered privately where the network lets Kanal.
    messages_answerable = any(i.kind == "message" for i in items) and (
        replies.can_answer_messages(conversation.channel))
    answerable = [i for i in items if (i.kind != "message" or messages_answerable)
                  and i.deleted_on_network_at is None]
    # A channel turned off takes nothing to the network: nothing is offered.
    channel_off = conversation.channel.status == ChannelStatus.DISABLED
    if reply_form is None and answerable and not channel_off and (
            conversation_policy.can(actor, "reply", conversation)):
        initial = {"item": answerable[-1].pk, "key": uuid.uuid4().hex,
                   "seen": str(meanwhile.seen_now(conversation))}
        chosen = standard_answer_policy.visible(actor).filter(
            pk=_int(request.GET.get("standardsvar"))).first()
        if chosen is not None:
            initial["standard_answer"] = chosen.pk
            initial["text"] = templating.fill_standard_answer(chosen, answerable[-1])
        referral = referral_template_policy.visible(actor).filter(
            pk=_int(request.GET.get("henvisning"))).first()
        if referral is not None and chosen is None:
            initial["referral"] = referral.pk
            initial["text"] = templating.fill_standard_answer(
                referral, answerable[-1])
        reply_form = ReplyForm(initial=initial, items=answerable,
                               organisation=actor.organisation)
    can_moderate = conversation_policy.can(actor, "moderate", conversation)
    if conversation_policy.can(actor, "like", conversation):
        likeable = {}
        for item in items:
            if item.kind not in likeable:
                likeable[item.kind] = likes.network_supports(item, "like")
            item.can_like = (likeable[item.kind] and not channel_off
                             and item.deleted_on_network_at is None)
    if can_moderate:
        # Asked once per kind of item and once per author, not per item.
        network_can, policies = {}, {}
        for item in items:
            for kind in ("hide", "delete"):
                if (item.kind, kind) not in network_can:
                    network_can[item.kind, kind] = moderation.can_on_network(item, kind)
            if item.author_id not in policies:
                policies[item.author_id] = moderation.warning_policy(item)
            item.warning_policy = policies[item.author_id]
            item.can_hide = network_can[item.kind, "hide"] and not channel_off
            item.can_delete = network_can[item.kind, "delete"] and not channel_off
    return render(request, "inbox/detail.html", {
        "conversation": conversation,
        "items": items,
        "items_total": total,
        "items_earlier": start,
        "earlier_offset": earlier + ITEMS_PER_PAGE if start else None,
        "newer_offset": max(0, earlier - ITEMS_PER_PAGE) if earlier else None,
        "can_moderate": can_moderate,
        "read_only": not (can_note or can_set_status or can_assign),
        "channel_off": channel_off,
        "reason_form": ModerationForm(),
        "answers": conversation.answers.select_related("follow_up",
                                                       "author__user"),
        # The page's own answers written on the network (``NetworkAnswer``).
        "network_answers": conversation.network_answers.all(),
        "reply_form": reply_form,
        "meanwhile": written_meanwhile,
        "answers_privately": messages_answerable,
        "notes": notes,
        "assign_form": AssignForm(
            organisation=actor.organisation,
            initial={"administration": conversation.assigned_administration_id,
                     "person": conversation.assigned_to_id},
        ) if can_assign else None,
        "mentionable": conversation_policy.viewers(conversation).exclude(
            pk=actor.pk).select_related("user", "administration")
        if can_note else None,
        "status_form": StatusForm(initial={"status": conversation.status},
                                  current=conversation.status)
        if can_set_status else None,
        "note_form": (note_form or NoteForm(initial={"key": uuid.uuid4().hex}))
        if can_note else None,
    }, status=status)


#: Versions of one item the page shows: its original and the newest (a
#: comment edited thousands of times, each edit a webhook, must not stop the
#: page); the rest are kept, and the page says how many it left out.
VERSIONS_SHOWN = 20


def _versions_shown() -> tuple[Prefetch, Prefetch]:
    return (
        Prefetch("versions", to_attr="first_versions",
                 queryset=ItemVersion.objects.order_by("seen_at", "pk")[:1]),
        Prefetch("versions", to_attr="newest_versions",
                 queryset=ItemVersion.objects.order_by("-seen_at", "-pk")[
                     :VERSIONS_SHOWN - 1]),
    )


def _versions_total():
    return Subquery(
        ItemVersion.objects.filter(item=OuterRef("pk")).order_by()
        .values("item").annotate(n=Count("pk")).values("n"))


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _back(conversation):
    return redirect("inbox:detail", pk=conversation.pk)


@require_POST
@membership_required
def assign_view(request, pk):
    actor = request.membership
    conversation = conversation_policy.get_allowed(actor, "assign", pk=pk)
    form = AssignForm(request.POST, organisation=actor.organisation)
    if not form.is_valid():
        for error in form.errors.get("__all__", []) or [_("Vælg en gyldig "
                                                          "forvaltning eller person.")]:
            messages.error(request, error)
        return _back(conversation)
    run_action(
        request,
        lambda: actions.assign_conversation(
            conversation, actor=actor,
            administration=form.cleaned_data["administration"],
            person=form.cleaned_data["person"],
        ),
        done=lambda: _("Samtalen er tildelt %(who)s.") % {
            "who": conversation.assigned_administration.code},
    )
    return _back(conversation)


@require_POST
@membership_required
def status_view(request, pk):
    actor = request.membership
    conversation = conversation_policy.get_allowed(actor, "set_status", pk=pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Vælg en gyldig status."))
        return _back(conversation)
    run_action(
        request,
        lambda: actions.set_conversation_status(
            conversation, actor=actor, status=form.cleaned_data["status"]),
        done=lambda: _("Status er nu: %(status)s.") % {
            "status": conversation.get_status_display()},
    )
    return _back(conversation)


@require_POST
@membership_required
def note_view(request, pk):
    actor = request.membership
    conversation = _still_allowed(request, actor, "note", pk)
    if conversation is None:
        return _not_sent(request, _("Noten er ikke gemt"))
    form = NoteForm(request.POST)
    if not form.is_valid():
        # The page again with the note in its field, marked: nothing typed
        # is lost.
        return _detail(request, actor, conversation, note_form=form, status=400)
    saved = []
    run_action(
        request,
        lambda: saved.append(actions.add_note(conversation, actor=actor,
                                              text=form.cleaned_data["text"],
                                              key=form.cleaned_data["key"])),
        done=lambda: _note_saved(saved[0]),
    )
    if saved and saved[0].not_told:
        messages.warning(request, _(
            "Ingen kollega, der kan se samtalen, har brugernavnet %(names)s, så "
            "ingen fik besked om det. Se hvem du kan nævne under feltet.") % {
                "names": get_text_list([f"@{n}" for n in saved[0].not_told],
                                       _("eller"))})
    return _back(conversation)


def _still_allowed(request, actor, action, pk):
    """The conversation ``actor`` may do ``action`` to, or None when they
    may not see it (any more: the desk gave it to another administration
    while they wrote)."""
    try:
        return conversation_policy.get_allowed(actor, action, pk=pk)
    except Http404:
        return None


def _not_sent(request, title):
    """404 for a conversation the person cannot see (given to another
    administration while they wrote, or none), with what they wrote, so
    nothing typed is lost (T7a-4). The same page whether it exists or not:
    it tells nobody which ids exist."""
    return render(request, "inbox/not_sent.html", {
        "title": title,
        "message": _("Samtalen findes ikke, eller du kan ikke længere se den "
                     "(redaktionen kan have givet den til en anden forvaltning). "
                     "Intet er sendt eller gemt. Kopiér det, du skrev, herfra."),
        "text": request.POST.get("text", ""),
    }, status=404)


def _note_saved(note) -> str:
    """"Saved", and whom the note's @mentions told."""
    if not note.told:
        return _("Noten er gemt.")
    return _("Noten er gemt. %(names)s har fået besked.") % {
        "names": get_text_list([m.display_name for m in note.told], _("og"))}


@require_POST
@membership_required
def reply_view(request, pk):
    actor = request.membership
    conversation = _still_allowed(request, actor, "reply", pk)
    if conversation is None:
        return _not_sent(request, _("Svaret er ikke sendt"))
    # Only the item answered is a choice: a conversation of thousands of
    # items is not read to check one answer.
    items = conversation.items.filter(pk=_int(request.POST.get("item")))
    form = ReplyForm(request.POST, items=items, organisation=actor.organisation)
    if not form.is_valid():
        # The form shown again marks the fields and the page's error
        # summary (which gets the focus) says what to do.
        return _refused_reply(request, actor, conversation)
    item = InboxItem.objects.get(pk=form.cleaned_data["item"])
    try:
        replies.reply_to_item(
            item, actor=actor, text=form.cleaned_data["text"],
            standard_answer=form.cleaned_data["standard_answer"],
            referral=form.cleaned_data["referral"],
            key=form.cleaned_data["key"], seen=form.seen_by_writer(),
        )
    except meanwhile.WrittenMeanwhile as e:
        messages.error(request, " ".join(e.messages))
        return _refused_reply(request, actor, conversation, written_meanwhile=e)
    except ValidationError as e:
        return _refused_reply(request, actor, conversation, error=e)
    if form.cleaned_data["referral"] is not None:
        messages.success(request, _("Henvisningen sendes nu. Samtalen bliver "
                                    "”Henvist”, når den er ude."))
    else:
        messages.success(request, _("Svaret sendes nu. Du kan se her, når det er "
                                    "ude."))
    return _back(conversation)


@require_POST
@membership_required
def reply_length_view(request, pk):
    """The reply form's counter (htmx): the answer being written, counted as
    its network counts it, with the guidance footer; the same count that
    ``reply_to_item`` refuses by."""
    actor = request.membership
    conversation = conversation_policy.get_allowed(actor, "reply", pk=pk)
    item = conversation.items.filter(pk=_int(request.POST.get("item"))).first()
    message = item is not None and item.kind == "message" and (
        replies.can_answer_messages(conversation.channel))
    text = one_line_break(request.POST.get("text", "")[:10000]).strip()
    if not text and item is not None:
        # An empty field sends the chosen standard answer or referral, filled
        # in (``reply_to_item``): that is the text to count.
        template = _chosen(standard_answer_policy, actor, request, "standard_answer")
        template = template or _chosen(referral_template_policy, actor, request,
                                       "referral")
        if template is not None:
            text = templating.fill_standard_answer(template, item)
    length = selectors.answer_length(
        conversation.channel, text,
        message=message, organisation=conversation.organisation,
        to_handle=item.author_handle if item is not None else "")
    return render(request, "inbox/_answer_length.html", {"length": length})


def _chosen(policy, actor, request, name):
    """The kept text (standard answer or referral) chosen in field ``name``
    that ``actor`` may use, or None."""
    return policy.visible(actor).filter(pk=_int(request.POST.get(name))).first()


def _refused_reply(request, actor, conversation, *, written_meanwhile=None,
                   error=None):
    """The page again, 400, with what the person wrote in the form (nothing
    typed is lost) and a fresh key, so sending it again is a new answer.
    The action's ``error`` is put on the answer's text, so the field is
    marked and the error summary leads to it.

    409 when ``written_meanwhile`` refused it: the form keeps what the
    person saw when they began and offers "Send alligevel", which carries
    what this page shows (ticked, it sends unless more came since)."""
    data = request.POST.copy()
    data["key"] = uuid.uuid4().hex
    data.pop("send_anyway", None)
    if meanwhile.Seen.parse(data.get("seen", "")) is None:
        data["seen"] = str(meanwhile.seen_now(conversation))
    if written_meanwhile is not None:
        data["send_anyway"] = str(written_meanwhile.now)
    newest = conversation.items.order_by("-created_at", "-pk")[:ITEMS_PER_PAGE]
    form = ReplyForm(data, items=reversed(list(newest)),
                     organisation=actor.organisation)
    if form.is_valid() and error is not None:
        form.add_error("text", error)
    return _detail(request, actor, conversation, reply_form=form,
                   written_meanwhile=written_meanwhile,
                   status=400 if written_meanwhile is None else 409)


def _visible_item(actor, pk) -> InboxItem:
    """An item of a conversation ``actor`` may see, else 404."""
    try:
        return InboxItem.objects.select_related("conversation", "channel").get(
            pk=pk, conversation__in=conversation_policy.visible(actor))
    except InboxItem.DoesNotExist as e:
        raise Http404 from e


@require_POST
@membership_required
def moderate_view(request, pk):
    actor = request.membership
    item = _visible_item(actor, pk)
    conversation_policy.check(actor, "moderate", item.conversation)
    form = ModerationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Vælg en gyldig handling og husregel."))
        return _back(item.conversation)
    kind = form.cleaned_data["action"]
    done = {"hide": _("Kommentaren er skjult på netværket."),
            "unhide": _("Kommentaren er vist igen på netværket."),
            "delete": _("Kommentaren er slettet på netværket.")}[kind]
    run_action(
        request,
        lambda: moderation.moderate_item(item, actor=actor, kind=kind,
                                         reason=form.cleaned_data["reason"]),
        done=done,
    )
    return _back(item.conversation)


@require_POST
@membership_required
def like_view(request, pk):
    """Like (``liked=1``) or unlike (``liked=0``) an item on the network."""
    actor = request.membership
    item = _visible_item(actor, pk)
    conversation_policy.check(actor, "like", item.conversation)
    choice = request.POST.get("liked")
    if choice not in ("1", "0"):
        messages.error(request, _("Vælg om kanalen skal synes godt om "
                                  "kommentaren."))
        return _back(item.conversation)
    liked = choice == "1"
    try:
        changed = likes.set_liked(item, actor=actor, liked=liked)
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
        return _back(item.conversation)
    if not changed:
        messages.info(request, _("Kanalen synes allerede godt om kommentaren.")
                      if liked else _("Kanalen synes ikke godt om kommentaren, så "
                                      "der var intet at fjerne."))
    else:
        messages.success(request, _("Kanalen synes nu godt om kommentaren på "
                                    "netværket.") if liked else
                         _("Synes godt om er fjernet fra kommentaren på "
                           "netværket."))
    return _back(item.conversation)
