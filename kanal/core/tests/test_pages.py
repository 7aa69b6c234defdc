import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from kanal.core.pages import form_page, run_action


def _request(method="post"):
    request = getattr(RequestFactory(), method)("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def _said(request):
    return [(m.level_tag, m.message) for m in get_messages(request)]


def test_a_form_page_answering_a_post_is_a_400_and_a_get_a_200():
    template = "organisations/member_form.html"
    assert form_page(_request("post"), template, {"form": None}).status_code == 400
    assert form_page(_request("get"), template, {"form": None}).status_code == 200


def test_run_action_says_done_worded_after_the_action():
    request, state = _request(), {"status": "ny"}
    ran = run_action(request, lambda: state.update(status="lukket"),
                     done=lambda: f"Status er nu: {state['status']}.")
    assert ran is True
    assert _said(request) == [("success", "Status er nu: lukket.")]


def test_run_action_shows_every_reason_of_a_refusal_and_not_done():
    def refuse():
        raise ValidationError(["Samtalen er lukket.", "Vælg en forvaltning."])

    request = _request()
    assert run_action(request, refuse, done="Gemt.") is False
    assert _said(request) == [("error", "Samtalen er lukket. Vælg en forvaltning.")]


def test_run_action_refuses_only_with_the_errors_it_is_given():
    def refuse():
        raise ValueError("Udgivelsen kan ikke flyttes.")

    request = _request()
    assert run_action(request, refuse, done="Flyttet.", refusals=(ValueError,)) is False
    assert _said(request) == [("error", "Udgivelsen kan ikke flyttes.")]
    with pytest.raises(ValueError):
        run_action(_request(), refuse, done="Flyttet.")
