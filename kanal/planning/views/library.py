"""The media library pages."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
)

from kanal.channels.models import Channel
from kanal.core.decorators import membership_required

from .. import actions, selectors
from ..forms import (
    MediaEditForm,
    MediaUploadForm,
    changed_values,
)
from ..media import MediaRejected, fit_for
from ..policies import (
    media_policy,
)
from ..uploads import refused_message
from ..validation import (
    capabilities_for,
)
from .common import _int, _query_without, _status

# ---------------------------------------------------------------------------
# Media


@membership_required
@require_http_methods(["GET", "POST"])
def media_list_view(request):
    actor = request.membership
    media_policy.check(actor, "list")
    can_upload = media_policy.can(actor, "upload")
    form = MediaUploadForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST":
        media_policy.check(actor, "upload")
        refused = refused_message(request)
        if refused:
            form.is_valid()
            form.errors.pop("file", None)
            form.add_error("file", refused)
        elif form.is_valid():
            data = form.cleaned_data
            try:
                asset = actions.upload_media(
                    actor=actor,
                    upload=data["file"],
                    alt_text=data["alt_text"],
                    credit=data["credit"],
                    shows_identifiable_people=data["shows_identifiable_people"],
                    identifiable_people_consent=data["identifiable_people_consent"],
                    rights_expire_on=data["rights_expire_on"],
                    tags=data["tags"],
                )
            except MediaRejected as e:
                form.add_error("file", str(e))
            else:
                messages.success(request, _("Mediet er lagt i biblioteket."))
                return redirect("planning:media_detail", pk=asset.pk)
    search = _media_search(request)
    assets = selectors.search_media(actor, **search, today=timezone.localdate())
    page = Paginator(assets, 48).get_page(request.GET.get("side"))
    return render(
        request,
        "planning/media_list.html",
        {
            "form": form,
            "page": page,
            "can_upload": can_upload,
            "today": timezone.localdate(),
            "search": search,
            "searching": any(search.values()),
            "tags": selectors.media_tags_in_use(actor),
            "query": _query_without(request, "side"),
        },
        status=_status(request, not form.errors),
    )


def _media_search(request) -> dict:
    get = request.GET
    attention = get.get("mangler", "")
    return {
        "query": get.get("q", "")[:200].strip(),
        "tag": " ".join(get.get("maerke", "")[:40].split()).lower(),
        "kind": get.get("type", "")[:10],
        "attention": attention if attention in selectors.MEDIA_ATTENTION else "",
    }


@membership_required
@require_GET
def media_picker_view(request):
    """The editor's media search (htmx): checkboxes for one variant."""
    actor = request.membership
    media_policy.check(actor, "list")
    channel = get_object_or_404(
        Channel,
        pk=_int(request.GET.get("kanal")),
        organisation_id=actor.organisation_id,
    )
    shown = {i for i in (_int(x) for x in request.GET.get("vist", "").split(",")) if i}
    query = request.GET.get("q", "")[:200].strip()
    found = []
    if query:
        found = [
            m
            for m in selectors.search_media(actor, query=query)[
                : selectors.MEDIA_CHOICES
            ]
            if m.pk not in shown
        ]
    return render(
        request,
        "planning/_media_picker.html",
        {"channel": channel, "found": found, "query": query},
    )


@membership_required
@require_http_methods(["GET", "POST"])
def media_detail_view(request, pk):
    actor = request.membership
    asset = media_policy.get_visible_or_404(actor, pk=pk)
    can_change = media_policy.can(actor, "change", asset)
    form = MediaEditForm(
        request.POST if request.method == "POST" else None,
        initial={
            "alt_text": asset.alt_text,
            "credit": asset.credit,
            "shows_identifiable_people": asset.shows_identifiable_people,
            "identifiable_people_consent": asset.identifiable_people_consent,
            "rights_expire_on": asset.rights_expire_on,
            "tags": ", ".join(t.name for t in asset.tags.all()),
        },
    )
    if request.method == "POST":
        media_policy.check(actor, "change", asset)
        if form.is_valid():
            actions.update_media(asset, actor=actor, **changed_values(form))
            messages.success(request, _("Mediet er gemt."))
            return redirect("planning:media_detail", pk=asset.pk)
    fits = []
    for channel in Channel.objects.filter(
        organisation_id=actor.organisation_id
    ).exclude(status="disabled"):
        caps = capabilities_for(channel)
        if caps is not None:
            fits.append((channel, fit_for(asset, caps, channel.get_network_display())))
    return render(
        request,
        "planning/media_detail.html",
        {
            "asset": asset,
            "form": form,
            "can_change": can_change,
            "fits": fits,
            "today": timezone.localdate(),
        },
        status=_status(request, not form.errors),
    )
