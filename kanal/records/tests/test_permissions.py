"""Every records URL × every role, as the policies say (the core access
matrix reads ``CASES`` so no records page escapes the check)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kanal.core.tests.headers import assert_security_headers
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import MembershipFactory
from kanal.records import actions, capture
from kanal.records.export import run_export

ROLES = ["anonymous", *Role.values, "other_org_officer"]


def _only(allowed, answer, **extra):
    """``answer`` for the roles in ``allowed``, 403 for the other members."""
    out = {"anonymous": "login", "other_org_officer": extra.pop("other", 404)}
    for role in Role.values:
        out[role] = answer if role in allowed else 403
    out.update(extra)
    return out


OFFICER = {Role.RECORDS_OFFICER}
READERS = {Role.RECORDS_OFFICER, Role.ADMIN}
REQUESTERS = {Role.RECORDS_OFFICER, Role.ADMIN, Role.EDITOR}
HOLDERS = {Role.RECORDS_OFFICER}

# name -> (method, kwargs naming world objects, data, expectations)
CASES = {
    "list": ("get", {}, {}, _only(READERS, 200, other=200)),
    "detail": ("get", {"pk": "entry"}, {}, _only(READERS, 200)),
    "access_requests": ("get", {}, {}, _only(REQUESTERS, 200, other=200)),
    "access_request_create": ("get", {}, {}, _only(REQUESTERS, 200, other=200)),
    "access_request": ("get", {"pk": "request"}, {}, _only(REQUESTERS, 200)),
    "withhold": ("post", {"pk": "request", "item_pk": "item"},
                 {"ground": "ofl_30_1"}, _only(OFFICER, 302,
                                               admin=403, editor=403)),
    "redact": ("post", {"pk": "request", "item_pk": "item"},
               {"passage": "Havnebad", "ground": "ofl_30_1"},
               _only(OFFICER, 302)),
    "access_request_close": ("post", {"pk": "request"}, {},
                             _only(REQUESTERS, 302)),
    "export_start": ("post", {"pk": "request"}, {}, _only(REQUESTERS, 302)),
    "export": ("get", {"pk": "export"}, {}, _only(REQUESTERS, 200)),
    "export_download": ("get", {"pk": "export", "what": "pdf"}, {},
                        _only(REQUESTERS, 200)),
    "retention": ("get", {}, {}, _only(HOLDERS, 200, other=200)),
    "filing": ("get", {}, {}, _only(OFFICER, 200, other=200)),
    "mark_for_filing": ("post", {"pk": "entry"}, {"case_ref": "S-1"},
                        _only(OFFICER, 302)),
}


@pytest.fixture
def world(organisation, desk, published, settings, tmp_path):
    members = {role: MembershipFactory(organisation=organisation,
                                       administration=desk["kff"], role=role)
               for role in Role.values}
    other = MembershipFactory(role=Role.RECORDS_OFFICER)
    entry = capture.capture_publication(
        published(desk["facebook"], "Havnebad i dag", ago=timedelta(days=2))
    )
    today = timezone.localdate()
    request = actions.build_access_request(
        actor=members[Role.RECORDS_OFFICER], title="Journalist", requester="A",
        case_ref="", period_start=today - timedelta(days=10), period_end=today,
        search_words=["havnebad"],
    )
    export = actions.start_export(request, actor=members[Role.RECORDS_OFFICER])
    export = run_export(export.pk) if export.status == "queued" else export
    export.refresh_from_db()
    return {
        "members": {**members, "other_org_officer": other},
        "objects": {"entry": entry.pk, "request": request.pk,
                    "item": request.items.get().pk, "export": export.pk},
    }


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("role", ROLES)
def test_access(world, client, name, role):
    method, kwargs, data, expect = CASES[name]
    if role != "anonymous":
        client.force_login(world["members"][role].user)
    url = reverse(f"records:{name}",
                  kwargs={k: world["objects"].get(v, v) for k, v in kwargs.items()})
    response = getattr(client, method)(url, data)
    assert_security_headers(response)
    expected = expect[role]
    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected, (name, role, response.status_code)


