from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _


def membership_required(view):
    """Signed in, with an active membership of some organisation.

    Anonymous users go to the login page; a signed-in user without an active
    membership (deactivated, or never added) gets 403 with an explanation.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if request.membership is None:
            raise PermissionDenied(
                _(
                    "Du er ikke (længere) medlem af en organisation i Kanal. "
                    "Kontakt din administrator."
                )
            )
        return view(request, *args, **kwargs)

    return wrapper
