"""What every form page and every one-action button view does the same way.

``form_page`` draws a form page with the status that says whether the form
was refused; ``run_action`` runs one action for a button and tells the person
in a message what happened or why the action refused.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def form_page(request: HttpRequest, template_name: str, context: dict) -> HttpResponse:
    """``template_name`` with ``context``: 400 when it answers a POST (a valid
    form redirects, so a POST that ends here was refused), else 200."""
    status = 400 if request.method == "POST" else 200
    return render(request, template_name, context, status=status)


def run_action(
    request: HttpRequest,
    act: Callable[[], object],
    *,
    done: str | Callable[[], str],
    refusals: tuple[type[Exception], ...] = (ValidationError,),
) -> bool:
    """Run ``act`` (one action); say ``done`` (a callable is worded after the
    action, so it can name the new state) or, when the action refuses with one
    of ``refusals``, its reasons. True when the action ran."""
    try:
        act()
    except refusals as e:
        reasons = getattr(e, "messages", None) or [str(e)]
        messages.error(request, " ".join(str(r) for r in reasons))
        return False
    messages.success(request, done() if callable(done) else done)
    return True
