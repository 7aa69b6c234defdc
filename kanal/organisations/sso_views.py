"""Single sign-on pages: starting a sign-in, the redirect URI, the
organisation's identity provider settings, and linking a member to their
subject. The protocol is in ``sso``, the writes in ``sso_actions``."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kanal.core.decorators import membership_required
from kanal.core.pages import form_page

from . import sso, sso_actions, throttle
from .forms import IdentityLinkForm, SingleSignOnForm, group_roles_text
from .middleware import SESSION_KEY
from .models import ExternalIdentity, SingleSignOn
from .policies import membership_policy, organisation_policy
from .views import safe_next

logger = logging.getLogger(__name__)


@require_http_methods(["GET"])
def sso_start_view(request, slug):
    config = (
        SingleSignOn.objects.filter(organisation__slug=slug, enabled=True)
        .select_related("organisation")
        .first()
    )
    if config is None:
        raise Http404
    counters = _count_attempt(request)
    if counters is None:
        return _too_many(request)
    try:
        target = sso.begin(request, config, next_url=safe_next(request))
    except sso.SignInRefused as refusal:
        return _refused(request, config, refusal)
    throttle.refund(counters)
    return HttpResponseRedirect(target)


def _count_attempt(request):
    """Count a sign-in attempt from the client's address; None when the
    address already has too many refused ones in this window. Refusals are
    audited, so this bounds what one address can write to the log."""
    counters = throttle.sso_counters(throttle.client_address(request))
    if throttle.attempt(counters).refused is not None:
        logger.info("single sign-on refused for a throttled address")
        return None
    return counters


def _too_many(request):
    return render(
        request,
        "organisations/sso_refused.html",
        {
            "message": _(
                "For mange mislykkede forsøg. Vent 15 minutter og prøv igen, "
                "eller kontakt en administrator."
            )
        },
        status=429,
    )


def _refused(request, config, refusal, *, status=400):
    address = throttle.client_address(request)
    sso_actions.refuse_sign_in(
        config.organisation if config else None,
        refusal,
        address=address,
        issuer=config.issuer if config else "",
    )
    return render(
        request,
        "organisations/sso_refused.html",
        {"message": refusal.message, "config": config},
        status=status,
    )


@require_http_methods(["GET"])
def sso_callback_view(request):
    """Where every identity provider sends people back (the redirect URI)."""
    config = None
    counters = _count_attempt(request)
    if counters is None:
        return _too_many(request)
    try:
        flow = sso.take_flow(request)
        config = (
            SingleSignOn.objects.filter(
                organisation_id=flow["organisation"], enabled=True
            )
            .select_related("organisation")
            .first()
        )
        if config is None:
            raise sso.SignInRefused("not_configured")
        claims = sso.complete(request, config, flow)
        membership = sso_actions.sign_in_with_identity(
            config, claims, address=throttle.client_address(request)
        )
    except sso.SignInRefused as refusal:
        return _refused(request, config, refusal)
    except sso_actions.UnknownPerson as unknown:
        sso_actions.refuse_sign_in(
            config.organisation,
            unknown,
            address=throttle.client_address(request),
            issuer=config.issuer,
        )
        return render(
            request,
            "organisations/sso_unknown.html",
            {"config": config, "subject": unknown.subject},
            status=403,
        )
    throttle.refund(counters)
    login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SESSION_KEY] = membership.organisation_id
    metadata = sso.discover(config.issuer)
    request.session[sso.SIGNED_IN_SESSION_KEY] = {
        "organisation": membership.organisation_id,
        "issuer": config.issuer,
        "client_id": config.client_id,
        "id_token": claims["id_token"],
        "end_session_endpoint": metadata.end_session_endpoint,
    }
    return HttpResponseRedirect(flow.get("next") or "/")


@membership_required
@require_http_methods(["GET", "POST"])
def single_sign_on_settings_view(request):
    """The organisation's identity provider (administrators)."""
    actor = request.membership
    organisation = actor.organisation
    organisation_policy.check(actor, "change", organisation)
    config = SingleSignOn.objects.filter(organisation=organisation).first()
    initial = {"local_passwords": SingleSignOn.LocalPasswords.BREAK_GLASS}
    if config is not None:
        initial = {
            "enabled": config.enabled,
            "issuer": config.issuer,
            "client_id": config.client_id,
            "groups_claim": config.groups_claim,
            "group_roles": group_roles_text(config.group_roles),
            "local_passwords": config.local_passwords,
            "require_mfa_claim": config.require_mfa_claim,
        }
    form = SingleSignOnForm(
        request.POST if request.method == "POST" else None,
        organisation=organisation,
        has_secret=bool(config and config.encrypted_client_secret),
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        sso_actions.configure_single_sign_on(
            organisation, actor=actor, **form.cleaned_data
        )
        messages.success(request, _("Indstillingerne for fælles login er gemt."))
        return redirect("single_sign_on_settings")
    return form_page(
        request,
        "organisations/single_sign_on_settings.html",
        {
            "form": form,
            "redirect_uri": sso.redirect_uri(),
            "post_logout_redirect_uri": sso.post_logout_redirect_uri(),
            "linked": ExternalIdentity.objects.filter(
                organisation=organisation
            ).count(),
        },
    )


@membership_required
@require_POST
def member_identity_view(request, pk):
    """Link a member to their subject at the identity provider (or unlink)."""
    member = membership_policy.get_allowed(request.membership, "change_identity", pk=pk)
    form = IdentityLinkForm(request.POST)
    if not SingleSignOn.objects.filter(organisation=member.organisation).exists():
        messages.error(request, _("Sæt først fælles login op under Organisation."))
        return redirect("member_edit", pk=member.pk)
    if form.is_valid() and form.cleaned_data["subject"].strip():
        subject = form.cleaned_data["subject"].strip()
        try:
            sso_actions.link_identity(
                member, actor=request.membership, subject=subject
            )
        except PermissionDenied as e:
            messages.error(request, str(e))
            return redirect("member_edit", pk=member.pk)
        messages.success(
            request,
            _("%(user)s kan nu logge ind med fælles login.")
            % {"user": member.display_name},
        )
    elif form.is_valid():
        sso_actions.unlink_identity(member, actor=request.membership)
        messages.success(
            request,
            _("Forbindelsen til login-tjenesten er fjernet for %(user)s.")
            % {"user": member.display_name},
        )
    return redirect("member_edit", pk=member.pk)
