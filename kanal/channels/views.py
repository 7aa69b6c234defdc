from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kanal.core.decorators import membership_required
from kanal.core.pages import form_page
from kanal.core.safety import typed_text

from . import actions, problems
from .forms import ChannelForm, CredentialsForm, StrategyForm
from .policies import channel_policy


@membership_required
def channel_list_view(request):
    channel_policy.check(request.membership, "list")
    channels = list(channel_policy.visible(request.membership))
    found = problems.for_channels(channels)
    for channel in channels:
        channel.problems = found.get(channel.pk, [])
    return render(
        request,
        "channels/channel_list.html",
        {
            "channels": channels,
            "can_create": channel_policy.can(request.membership, "create"),
        },
    )


#: The channel form's fields that the create and update actions take as they are.
CHANNEL_FIELDS = ("display_name", "handle", "remote_id", "owner_administration",
                  "base_url", "api_settings")


@membership_required
@require_http_methods(["GET", "POST"])
def channel_create_view(request):
    channel_policy.check(request.membership, "create")
    organisation = request.membership.organisation
    form = ChannelForm(
        request.POST if request.method == "POST" else None, organisation=organisation
    )
    strategy_form = StrategyForm(
        request.POST if request.method == "POST" else None,
        prefix="strategy",
        initial={
            "cadence_min": 1,
            "cadence_max": 2,
            "cadence_period": "day",
        },
    )
    if request.method == "POST" and form.is_valid() and strategy_form.is_valid():
        data = form.cleaned_data
        try:
            channel = actions.create_channel(
                actor=request.membership,
                organisation=organisation,
                network=data["network"],
                **{name: data[name] for name in CHANNEL_FIELDS},
                strategy=strategy_form.cleaned_data,
            )
        except actions.ChannelRefused as e:
            form.add_error("base_url", str(e))
        else:
            messages.success(
                request,
                _("Kanalen er oprettet. Tilføj adgangsnøglerne, så Kanal kan udgive."),
            )
            return redirect("channel_detail", pk=channel.pk)
    return form_page(
        request,
        "channels/channel_form.html",
        {"form": form, "strategy_form": strategy_form},
    )


@membership_required
def channel_detail_view(request, pk):
    channel = channel_policy.get_visible_or_404(request.membership, pk=pk)
    actor = request.membership
    return render(
        request,
        "channels/channel_detail.html",
        {
            "channel": channel,
            "strategy": channel.strategy,
            "problems": problems.for_channel(channel),
            "can_change": channel_policy.can(actor, "change", channel),
            "can_change_strategy": channel_policy.can(
                actor, "change_strategy", channel
            ),
        },
    )


@membership_required
@require_http_methods(["GET", "POST"])
def channel_edit_view(request, pk):
    channel = channel_policy.get_allowed(request.membership, "change", pk=pk)
    form = ChannelForm(
        request.POST if request.method == "POST" else None,
        organisation=channel.organisation,
        channel=channel,
        initial={
            "network": channel.network,
            "display_name": channel.display_name,
            "handle": channel.handle,
            "remote_id": channel.remote_id,
            "owner_administration": channel.owner_administration,
            "base_url": channel.base_url,
            "api_settings": "\n".join(
                f"{k}={v}" for k, v in sorted(channel.api_settings.items())
            ),
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        had_credentials = channel.has_credentials
        try:
            actions.update_channel(
                channel,
                actor=request.membership,
                **{name: data[name] for name in CHANNEL_FIELDS},
            )
        except actions.ChannelRefused as e:
            form.add_error("base_url", str(e))
        else:
            if had_credentials and not channel.has_credentials:
                messages.warning(
                    request,
                    _(
                        "Kanalen er gemt med en ny API-adresse. De gamle "
                        "adgangsnøgler er slettet: indtast nøglerne til den nye "
                        "adresse, og test derefter forbindelsen."
                    ),
                )
                return redirect("channel_credentials", pk=channel.pk)
            messages.success(request, _("Kanalen er gemt."))
            return redirect("channel_detail", pk=channel.pk)
    return form_page(
        request,
        "channels/channel_form.html",
        {"form": form, "channel": channel},
    )


@membership_required
@require_http_methods(["GET", "POST"])
def channel_credentials_view(request, pk):
    channel = channel_policy.get_allowed(
        request.membership, "change_credentials", pk=pk
    )
    form = CredentialsForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        actions.set_channel_credentials(
            channel,
            actor=request.membership,
            credentials=form.secrets(),
            token_expires_at=form.expiry_for(channel),
        )
        messages.success(
            request,
            _("Nøglerne er gemt krypteret. Test forbindelsen for at se, om de virker."),
        )
        return redirect("channel_detail", pk=channel.pk)
    return form_page(
        request,
        "channels/channel_credentials.html",
        {"form": form, "channel": channel},
    )


@membership_required
@require_http_methods(["GET", "POST"])
def channel_strategy_view(request, pk):
    channel = channel_policy.get_allowed(request.membership, "change_strategy", pk=pk)
    profile = channel.strategy
    form = StrategyForm(
        request.POST if request.method == "POST" else None,
        initial={
            "purposes": profile.purposes,
            "categories": "\n".join(profile.categories),
            "cadence_min": profile.cadence_min,
            "cadence_max": profile.cadence_max,
            "cadence_period": profile.cadence_period,
            "default_hashtags": " ".join(profile.default_hashtags),
            "tone_notes": profile.tone_notes,
        },
    )
    if request.method == "POST" and form.is_valid():
        actions.update_strategy(profile, actor=request.membership, **form.cleaned_data)
        messages.success(request, _("Strategien er gemt."))
        return redirect("channel_detail", pk=channel.pk)
    return form_page(
        request,
        "channels/strategy_form.html",
        {"form": form, "channel": channel},
    )


@membership_required
@require_POST
def channel_disable_view(request, pk):
    channel = channel_policy.get_visible_or_404(request.membership, pk=pk)
    reason = typed_text(request.POST.get("reason"), max_length=500)
    actions.disable_channel(channel, actor=request.membership, reason=reason)
    messages.success(
        request, _("Kanalen er slået fra. Intet udgives på den, før den slås til igen.")
    )
    return redirect("channel_detail", pk=channel.pk)


@membership_required
@require_POST
def channel_enable_view(request, pk):
    channel = channel_policy.get_visible_or_404(request.membership, pk=pk)
    actions.enable_channel(channel, actor=request.membership)
    messages.success(request, _("Kanalen er slået til igen."))
    return redirect("channel_detail", pk=channel.pk)


@membership_required
@require_POST
def channel_verify_view(request, pk):
    channel = channel_policy.get_visible_or_404(request.membership, pk=pk)
    ok, message = actions.verify_channel_connection(channel, actor=request.membership)
    (messages.success if ok else messages.error)(request, message)
    return redirect("channel_detail", pk=channel.pk)
