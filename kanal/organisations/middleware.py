"""Attach the acting membership to the request, and enforce two-factor login.

``request.membership`` is the user's active membership in the organisation
they are working in (chosen in the session; the first one otherwise), or None.
"""

from __future__ import annotations

from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp import user_has_device

SESSION_KEY = "kanal_organisation_id"

# Paths a signed-in user may reach before finishing two-factor set-up.
TWO_FACTOR_EXEMPT_PREFIXES = ("/konto/", "/static/", "/i18n/", "/tilgaengelighed/")


class MembershipMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if self._half_signed_in(request):
                # Signed in with the password but not the code, however that
                # came about (a login path that skipped the code, a session
                # from before the authenticator was set up): not signed in.
                logout(request)
                return redirect_to_login(request.get_full_path())
            request.membership = active_membership(request)
            if self._must_set_up_two_factor(request):
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse('two_factor_setup')}?{query}")
        return self.get_response(request)

    @staticmethod
    def _half_signed_in(request) -> bool:
        if _second_factor_at_identity_provider(request):
            return False
        return not request.user.is_verified() and user_has_device(
            request.user, confirmed=True
        )

    @staticmethod
    def _must_set_up_two_factor(request) -> bool:
        membership = request.membership
        if membership is None or not membership.needs_two_factor:
            return False
        if request.user.is_verified() or _second_factor_at_identity_provider(request):
            return False
        return not request.path.startswith(TWO_FACTOR_EXEMPT_PREFIXES)


def _second_factor_at_identity_provider(request) -> bool:
    """Signed in through the organisation's identity provider: the second
    factor is the provider's (its ``amr`` is in the login's audit entry, and
    an organisation can demand it; see ``sso``), not Kanal's own code."""
    signed_in = request.session.get("kanal_sso")
    membership = getattr(request, "membership", None)
    if not signed_in:
        return False
    return membership is None or signed_in.get("organisation") == (
        membership.organisation_id
    )


def active_membership(request):
    memberships = (
        request.user.memberships.filter(is_active=True)
        .select_related("organisation", "administration", "team", "user")
        .order_by("organisation__name")
    )
    chosen = request.session.get(SESSION_KEY)
    if chosen:
        for membership in memberships:
            if membership.organisation_id == chosen:
                return membership
    return next(iter(memberships), None)
