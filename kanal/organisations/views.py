from __future__ import annotations

import base64
import io
import logging
import time

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model, login, logout
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from kanal.core import audit
from kanal.core.decorators import membership_required
from kanal.core.pages import form_page
from kanal.core.rendering import reject_form

from . import actions, sso, throttle
from .forms import (
    AdministrationForm,
    LoginForm,
    MemberForm,
    NewOrganisationForm,
    OrganisationSettingsForm,
    ReplaceTokenForm,
    TeamForm,
    TokenForm,
)
from .middleware import SESSION_KEY
from .models import Organisation, SingleSignOn
from .policies import (
    membership_policy,
    organisation_policy,
    password_sign_in_allowed,
)

logger = logging.getLogger(__name__)
User = get_user_model()
PENDING_KEY = "kanal_pending_login"
PENDING_MAX_AGE = 300


def safe_next(request, default="dashboard"):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    from django.urls import reverse

    return reverse(default)


def _locked_response(request, form, template="organisations/login.html"):
    form.add_error(
        None,
        _(
            "For mange mislykkede forsøg. Vent 15 minutter og prøv igen, eller "
            "kontakt en administrator."
        ),
    )
    return render(request, template, {"form": form}, status=429)


def _login_failed(username: str, address: str, tried, *, stage: str) -> None:
    """Audit a failed login and, once, the lockout it caused.

    Only attempts at real accounts are audited, at most the account's own
    limit per window (attempts on a locked counter are refused before the
    password is checked and are not audited), so the log grows with the
    number of accounts, not with an attacker's effort. Made-up usernames
    only reach the log file.
    """
    user = User.objects.filter(username=username).first()
    details = {"address": address, "stage": stage}
    if user is None:
        logger.info("failed login for an unknown username from %s", address)
    else:
        actions.record_account_event(
            user, "organisations.user.login_failed", actor=None, changes=details
        )
    locked = tried.reached
    if locked is None:
        return
    if locked.scope == "address":
        audit.record(
            "organisations.login.address_locked",
            changes={"address": address, "limit": locked.limit},
        )
    elif user is not None:
        actions.record_account_event(
            user,
            "organisations.user.locked_out",
            actor=None,
            changes={**details, "scope": locked.scope, "limit": locked.limit},
        )


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.user.is_authenticated and request.method == "GET":
        return redirect("dashboard")
    form = LoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        address = throttle.client_address(request)
        counters = throttle.login_counters(username, address)
        tried = throttle.attempt(counters)
        if tried.refused is not None:
            return _locked_response(request, form)
        user = authenticate(
            request, username=username, password=form.cleaned_data["password"]
        )
        if user is None:
            _login_failed(username, address, tried, stage="password")
            if tried.reached is not None:
                return _locked_response(request, form)
            reject_form(
                form,
                _(
                    "Brugernavn eller adgangskode er forkert. "
                    "Tjek stavningen og prøv igen."
                ),
                fields=("username", "password"),
            )
            return render(
                request, "organisations/login.html", _login_context(form), status=401
            )
        throttle.refund(counters)
        if not password_sign_in_allowed(user):
            actions.record_account_event(
                user,
                "organisations.user.login_refused",
                actor=None,
                changes={"address": address, "reason": "password_disabled"},
            )
            form.add_error(
                None,
                _(
                    "Din organisation bruger fælles login. Log ind med knappen "
                    "for din organisations login nedenfor."
                ),
            )
            return render(
                request,
                "organisations/login.html",
                _login_context(form),
                status=403,
            )
        if actions.confirmed_devices(user).exists():
            request.session[PENDING_KEY] = {
                "user": user.pk,
                "backend": user.backend,
                "at": time.time(),
                "next": safe_next(request),
            }
            return redirect("login_token")
        login(request, user)
        actions.record_account_event(
            user,
            "organisations.user.logged_in",
            changes={"address": address, "second_factor": False},
        )
        return HttpResponseRedirect(safe_next(request))
    return form_page(request, "organisations/login.html", _login_context(form))


@require_http_methods(["GET", "POST"])
def login_token_view(request):
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending["at"] > PENDING_MAX_AGE:
        request.session.pop(PENDING_KEY, None)
        messages.info(request, _("Log ind igen: der gik for lang tid."))
        return redirect("login")
    user = User.objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        return redirect("login")
    form = TokenForm(request.POST if request.method == "POST" else None)
    template = "organisations/login_token.html"
    if request.method == "POST" and form.is_valid():
        address = throttle.client_address(request)
        counters = throttle.login_counters(user.get_username(), address)
        tried = throttle.attempt(counters)
        if tried.refused is not None:
            return _locked_response(request, form, template)
        device = next(
            (
                d
                for d in actions.confirmed_devices(user)
                if d.verify_token(form.cleaned_data["token"])
            ),
            None,
        )
        if device is None:
            _login_failed(user.get_username(), address, tried, stage="code")
            if tried.reached is not None:
                return _locked_response(request, form, template)
            form.add_error(
                "token",
                _("Koden passer ikke. Brug den nyeste kode fra din godkendelses-app."),
            )
            return render(request, template, {"form": form}, status=401)
        throttle.refund(counters)
        del request.session[PENDING_KEY]
        user.backend = pending["backend"]
        login(request, user)
        otp_login(request, device)
        actions.record_account_event(
            user,
            "organisations.user.logged_in",
            changes={"address": address, "second_factor": True},
        )
        return HttpResponseRedirect(pending.get("next") or "/")
    return form_page(request, template, {"form": form})


def _login_context(form) -> dict:
    providers = SingleSignOn.objects.filter(enabled=True).select_related(
        "organisation"
    )
    return {"form": form, "providers": providers}


@require_POST
def logout_view(request):
    signed_in = request.session.get(sso.SIGNED_IN_SESSION_KEY)
    logout(request)
    target = sso.logout_url(signed_in) if signed_in else ""
    if target:
        # RP-initiated logout: the provider ends its session too, then sends
        # the person back to Kanal's login page. A link, not a redirect: the
        # form-action policy forbids a form's redirect to another origin.
        return render(request, "organisations/sso_logged_out.html", {"url": target})
    messages.info(request, _("Du er logget ud."))
    return redirect("login")


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@require_http_methods(["GET", "POST"])
def two_factor_setup_view(request):
    """Set up the first authenticator, or swap it for a new one.

    Swapping needs a code from the authenticator in use; a session that has
    the password but not the code is signed out (the middleware does so
    first; this is the view's own guard).
    """
    if not request.user.is_authenticated:
        return redirect("login")
    replacing = actions.confirmed_devices(request.user).exists()
    if replacing and not request.user.is_verified():
        logout(request)
        return redirect("login")
    device = actions.pending_two_factor_device(request.user)
    posted = request.POST if request.method == "POST" else None
    form = ReplaceTokenForm(posted) if replacing else TokenForm(posted)
    actor = request.membership or request.user
    if request.method == "POST" and form.is_valid():
        if replacing:
            outcome = actions.replace_two_factor(
                device,
                current_token=form.cleaned_data["current_token"],
                token=form.cleaned_data["token"],
                actor=actor,
            )
            done = outcome is actions.Replacement.DONE
        else:
            outcome = None
            done = actions.confirm_two_factor(
                device, token=form.cleaned_data["token"], actor=actor
            )
        if done:
            otp_login(request, device)
            messages.success(
                request,
                _("Din nye godkendelses-app er i brug.")
                if replacing
                else _("To-faktor-login er slået til."),
            )
            return HttpResponseRedirect(safe_next(request))
        if outcome is actions.Replacement.CURRENT_CODE_WRONG:
            form.add_error(
                "current_token",
                _(
                    "Koden fra din nuværende app passer ikke. Brug den nyeste kode "
                    "fra den app, du logger ind med i dag."
                ),
            )
        else:
            form.add_error(
                "token",
                _(
                    "Koden passer ikke. Tjek at telefonens ur går rigtigt, og brug "
                    "den nyeste kode."
                ),
            )
    secret = base64.b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "replacing": replacing,
        "qr": _qr_svg(device.config_url),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "required": bool(request.membership and request.membership.needs_two_factor),
        "next": request.GET.get("next", ""),
    }
    return form_page(
        request,
        "organisations/two_factor_setup.html",
        context,
    )


@membership_required
@require_POST
def switch_organisation_view(request):
    try:
        organisation_id = int(request.POST.get("organisation", ""))
    except ValueError:
        organisation_id = None
    if request.user.memberships.filter(
        organisation_id=organisation_id, is_active=True
    ).exists():
        request.session[SESSION_KEY] = organisation_id
    else:
        messages.error(request, _("Du er ikke medlem af den organisation."))
    return redirect("dashboard")


@membership_required
def member_list_view(request):
    membership_policy.check(request.membership, "list")
    members = membership_policy.visible(request.membership).order_by(
        "administration__code", "user__username"
    )
    page = Paginator(members, 50).get_page(request.GET.get("side"))
    return render(request, "organisations/member_list.html", {"page": page})


@membership_required
@require_http_methods(["GET", "POST"])
def member_create_view(request):
    membership_policy.check(request.membership, "create")
    organisation = request.membership.organisation
    form = MemberForm(
        request.POST if request.method == "POST" else None, organisation=organisation
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        actions.add_member(
            organisation,
            actor=request.membership,
            username=data["username"],
            email=data["email"],
            full_name=data["full_name"],
            administration=data["administration"],
            role=data["role"],
            team=data["team"],
        )
        messages.success(
            request,
            _("%(user)s er oprettet. Send brugeren et link til at vælge adgangskode.")
            % {"user": data["username"]},
        )
        return redirect("member_list")
    return form_page(
        request,
        "organisations/member_form.html",
        {"form": form},
    )


@membership_required
@require_http_methods(["GET", "POST"])
def member_edit_view(request, pk):
    member = membership_policy.get_allowed(request.membership, "change", pk=pk)
    form = MemberForm(
        request.POST if request.method == "POST" else None,
        organisation=member.organisation,
        editing=True,
        initial={
            "administration": member.administration,
            "team": member.team,
            "role": member.role,
        },
    )
    if request.method == "POST" and form.is_valid():
        actions.change_membership(
            member,
            actor=request.membership,
            role=form.cleaned_data["role"],
            administration=form.cleaned_data["administration"],
            team=form.cleaned_data["team"],
        )
        messages.success(request, _("Ændringerne er gemt."))
        return redirect("member_list")
    return form_page(
        request,
        "organisations/member_form.html",
        {
            "form": form,
            "member": member,
            "has_two_factor": actions.confirmed_devices(member.user).exists(),
            "may_reset_two_factor": membership_policy.can(
                request.membership, "reset_two_factor", member
            ),
            "single_sign_on": SingleSignOn.objects.filter(
                organisation=member.organisation
            ).first(),
            "identity": member.user.external_identities.filter(
                organisation=member.organisation
            ).first(),
        },
    )


@membership_required
@require_POST
def member_reset_two_factor_view(request, pk):
    member = membership_policy.get_visible_or_404(request.membership, pk=pk)
    actions.reset_two_factor(member, actor=request.membership)
    messages.success(
        request,
        _(
            "To-faktor-login for %(user)s er nulstillet. Brugeren sætter en ny "
            "godkendelses-app op ved næste login."
        )
        % {"user": member.user.get_username()},
    )
    return redirect("member_edit", pk=member.pk)


@membership_required
@require_POST
def member_set_active_view(request, pk):
    member = membership_policy.get_visible_or_404(request.membership, pk=pk)
    active = request.POST.get("active") == "1"
    actions.set_membership_active(member, actor=request.membership, active=active)
    text = (
        _("%(user)s er aktiveret.")
        if active
        else _(
            "%(user)s er deaktiveret og kan ikke længere logge ind i organisationen."
        )
    )
    messages.success(request, text % {"user": member.user.get_username()})
    return redirect("member_list")


@membership_required
@require_http_methods(["GET", "POST"])
def organisation_settings_view(request):
    """The organisation's rules, administrations and teams (admins)."""
    actor = request.membership
    organisation = actor.organisation
    organisation_policy.check(actor, "change", organisation)
    posted = request.POST if request.method == "POST" else None
    which = request.POST.get("form") if posted else None
    settings_form = OrganisationSettingsForm(
        posted if which == "settings" else None,
        initial={
            "name": organisation.name,
            "require_two_factor": organisation.require_two_factor,
            "forbid_self_approval": organisation.forbid_self_approval,
        },
    )
    administration_form = AdministrationForm(
        posted if which == "administration" else None, organisation=organisation
    )
    team_form = TeamForm(posted if which == "team" else None, organisation=organisation)
    if which == "settings" and settings_form.is_valid():
        actions.update_organisation(
            organisation, actor=actor, **settings_form.cleaned_data
        )
        messages.success(request, _("Organisationens indstillinger er gemt."))
        return redirect("organisation_settings")
    if which == "administration" and administration_form.is_valid():
        actions.create_administration(
            organisation, actor=actor, **administration_form.cleaned_data
        )
        messages.success(request, _("Forvaltningen er oprettet."))
        return redirect("organisation_settings")
    if which == "team" and team_form.is_valid():
        data = team_form.cleaned_data
        actions.create_team(data["administration"], actor=actor, name=data["name"])
        messages.success(request, _("Teamet er oprettet."))
        return redirect("organisation_settings")
    administrations = organisation.administrations.prefetch_related("teams")
    return render(
        request,
        "organisations/organisation_settings.html",
        {
            "settings_form": settings_form,
            "administration_form": administration_form,
            "team_form": team_form,
            "administrations": administrations,
        },
        status=400 if posted else 200,
    )


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Forgotten password: after a few requests for one e-mail or from one
    address, further requests look the same to the sender but send nothing,
    so the form cannot be used to flood someone's inbox. These counters are
    apart from the login counters: asking for a link never locks a login."""

    template_name = "organisations/password_forgot.html"
    email_template_name = "organisations/password_forgot_email.txt"
    subject_template_name = "organisations/password_forgot_subject.txt"
    success_url = reverse_lazy("password_forgot_done")

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        address = throttle.client_address(self.request)
        tried = throttle.attempt(throttle.reset_counters(email, address))
        if tried.refused is not None:
            logger.info("password reset request refused from %s", address)
            return HttpResponseRedirect(self.get_success_url())
        for user in form.get_users(email):
            actions.record_account_event(
                user,
                "organisations.user.password_reset_requested",
                actor=None,
                changes={"address": address},
            )
        return super().form_valid(form)


class AuditedPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Choosing a new password from the e-mailed link (audited)."""

    template_name = "organisations/password_set.html"
    success_url = reverse_lazy("password_set_done")

    def form_valid(self, form):
        response = super().form_valid(form)
        actions.record_account_event(
            self.user,
            "organisations.user.password_reset",
            changes={"address": throttle.client_address(self.request)},
        )
        return response


@require_http_methods(["GET", "POST"])
def installation_organisations_view(request):
    """Every organisation on this installation, and a form for a new one
    (the installation's superusers only; others are told nothing exists)."""
    if not (request.user.is_authenticated and request.user.is_superuser):
        raise Http404
    if not request.user.is_verified():
        # Creating municipalities and their administrators: only with the
        # second factor, whatever organisation rules say.
        query = urlencode({"next": request.get_full_path()})
        return redirect(f"{reverse('two_factor_setup')}?{query}")
    form = NewOrganisationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            report = actions.set_up_organisation(
                actor=request.user, **form.cleaned_data
            )
        except ValueError as e:
            form.add_error(None, str(e))
        else:
            for line in report:
                messages.success(request, line)
            return redirect("installation_organisations")
    organisations = Organisation.objects.annotate(
        member_count=Count(
            "memberships", filter=Q(memberships__is_active=True), distinct=True
        ),
        administration_count=Count("administrations", distinct=True),
    ).order_by("name")
    return form_page(
        request,
        "organisations/installation_organisations.html",
        {"form": form, "organisations": organisations},
    )
