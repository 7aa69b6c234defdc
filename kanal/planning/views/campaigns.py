"""Campaigns, link tracking, calendar feeds, the report and media files."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
)

from kanal.channels.models import Channel
from kanal.core.decorators import membership_required

from .. import actions, ical, selectors
from ..forms import (
    CampaignForm,
    LinkTrackingForm,
    ReportForm,
)
from ..models import (
    CalendarFeed,
    MediaAsset,
)
from ..policies import (
    campaign_policy,
    link_tracking_policy,
    post_policy,
)
from .common import _int, _status

# ---------------------------------------------------------------------------
# Campaigns, notifications, iCal, report


@membership_required
@require_http_methods(["GET", "POST"])
def campaign_list_view(request):
    actor = request.membership
    campaign_policy.check(actor, "list")
    form = CampaignForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        campaign_policy.check(actor, "create")
        if form.is_valid():
            try:
                actions.create_campaign(actor=actor, **form.cleaned_data)
            except actions.PlanningError as e:
                form.add_error(None, str(e))
            else:
                messages.success(request, _("Kampagnen er oprettet."))
                return redirect("planning:campaign_list")
    return render(
        request,
        "planning/campaign_list.html",
        {
            "campaigns": campaign_policy.visible(actor),
            "form": form,
            "can_create": campaign_policy.can(actor, "create"),
        },
        status=_status(request, not form.errors),
    )


def _tracking_initial(row) -> dict:
    if row is None:
        return {"enabled": False, "medium": "social"}
    return {
        "enabled": row.enabled,
        "source": row.source,
        "medium": row.medium,
        "campaign_default": row.campaign_default,
        "domains": " ".join(row.domains),
        "replace_existing": row.replace_existing,
    }


@membership_required
@require_http_methods(["GET", "POST"])
def link_tracking_view(request):
    """UTM parameters for the organisation and, where wanted, per channel."""
    actor = request.membership
    link_tracking_policy.check(actor, "view")
    rows = {r.channel_id: r for r in link_tracking_policy.visible(actor)}
    data = request.POST if request.method == "POST" else None
    organisation_row = rows.get(None)
    forms = [
        LinkTrackingForm(
            data, prefix="org", initial=_tracking_initial(organisation_row)
        )
    ]
    for channel in Channel.objects.filter(
        organisation_id=actor.organisation_id
    ).exclude(status="disabled"):
        row = rows.get(channel.pk)
        initial = {"inherit": row is None}
        initial.update(_tracking_initial(row or organisation_row))
        forms.append(
            LinkTrackingForm(
                data, prefix=f"c{channel.pk}", channel=channel, initial=initial
            )
        )
    if request.method == "POST":
        link_tracking_policy.check(actor, "change")
        if all([f.is_valid() for f in forms]):
            for form in forms:
                if not form.has_changed():
                    continue
                cd = form.cleaned_data
                if form.channel is not None and cd.get("inherit"):
                    actions.save_link_tracking(
                        actor=actor,
                        organisation=actor.organisation,
                        channel=form.channel,
                        inherit=True,
                    )
                    continue
                actions.save_link_tracking(
                    actor=actor,
                    organisation=actor.organisation,
                    channel=form.channel,
                    **{k: cd[k] for k in actions.LINK_TRACKING_FIELDS},
                )
            messages.success(
                request,
                _(
                    "Linksporingen er gemt. Den gælder opslag, der planlægges fra "
                    "nu af; det, der allerede er planlagt, beholder sine links."
                ),
            )
            return redirect("planning:link_tracking")
    return render(
        request,
        "planning/link_tracking.html",
        {
            "forms": forms,
            "can_change": link_tracking_policy.can(actor, "change"),
            "example": "https://www.kk.dk/jul",
        },
        status=_status(request, all(not f.errors for f in forms)),
    )


@membership_required
@require_http_methods(["GET", "POST"])
def ical_settings_view(request):
    actor = request.membership
    if request.method == "POST":
        if request.POST.get("revoke"):
            feed = get_object_or_404(
                CalendarFeed, pk=_int(request.POST.get("revoke")), membership=actor
            )
            actions.revoke_calendar_feed(feed, actor=actor)
            messages.success(
                request,
                _(
                    "Adressen er slået fra. Kalendere, der "
                    "bruger den, får ikke flere opdateringer."
                ),
            )
        else:
            actions.create_calendar_feed(actor=actor)
            messages.success(request, _("Der er lavet en ny hemmelig adresse."))
        return redirect("planning:ical_settings")
    feed = actor.calendar_feeds.filter(revoked_at__isnull=True).first()
    url = (
        request.build_absolute_uri(reverse("planning:ical_feed", args=[feed.token]))
        if feed
        else ""
    )
    return render(request, "planning/ical_settings.html", {"feed": feed, "url": url})


def ical_feed_view(request, token):
    feed = (
        CalendarFeed.objects.select_related(
            "membership__organisation", "membership__user", "membership__administration"
        )
        .filter(token=token, revoked_at__isnull=True)
        .first()
    )
    if (
        feed is None
        or not feed.membership.is_active
        or not feed.membership.user.is_active
    ):
        raise Http404
    posts = selectors.feed_posts(feed.membership, timezone.now())
    body = ical.render_feed(
        posts, feed.membership, request.build_absolute_uri("/").rstrip("/")
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="kanal-plan.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


@membership_required
def report_view(request):
    actor = request.membership
    if not post_policy.can(actor, "report"):
        raise PermissionDenied(_("Rapporten kræver adgang til rapporter."))
    today = timezone.localdate()
    month_end = (today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(
        days=1
    )
    form = ReportForm(
        request.GET or None,
        initial={"first_day": today.replace(day=1), "last_day": month_end},
    )
    if request.GET and form.is_valid():
        first, last = form.cleaned_data["first_day"], form.cleaned_data["last_day"]
    else:
        first, last = today.replace(day=1), month_end
    report = selectors.strategy_report(actor, first, last) if not form.errors else None
    return render(
        request,
        "planning/report.html",
        {"form": form, "report": report, "first": first, "last": last},
    )


@require_GET
def media_file_view(request, name):
    """Serve an uploaded file, for the networks that fetch media by URL.

    No login: Instagram and Threads fetch the image themselves. Only files
    that belong to a media asset are served (never anything else under
    MEDIA_ROOT), with the type Kanal verified from the file's content, and
    headers that stop a browser from treating it as a page.
    """
    asset = (
        MediaAsset.objects.filter(Q(file=name) | Q(thumbnail=name))
        .only("file", "thumbnail", "mime_type")
        .first()
    )
    if asset is None:
        raise Http404
    is_thumbnail = asset.thumbnail.name == name
    field_file = asset.thumbnail if is_thumbnail else asset.file
    try:
        handle = field_file.open("rb")
    except FileNotFoundError as e:
        raise Http404 from e
    response = FileResponse(
        handle, content_type="image/jpeg" if is_thumbnail else asset.mime_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "public, max-age=86400"
    return response
