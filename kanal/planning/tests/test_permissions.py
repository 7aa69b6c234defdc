"""Every planning URL × every role: the exact status each gets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from kanal.core.tests.headers import assert_security_headers
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import MembershipFactory, UserFactory
from kanal.planning import actions
from kanal.planning.tests.factories import MediaAssetFactory

pytestmark = pytest.mark.django_db

ROLES = ["admin", "editor", "approver", "contributor", "crisis_lead", "analyst"]


@pytest.fixture
def people(desk):
    crisis = MembershipFactory(
        organisation=desk.organisation,
        administration=desk.kff,
        role=Role.CRISIS_LEAD,
        user=UserFactory(username="krise"),
    )
    return {
        "admin": desk.admin,
        "editor": desk.editor,
        "approver": desk.approver,
        "contributor": desk.contributor,
        "crisis_lead": crisis,
        "analyst": desk.analyst,
    }


def objects(desk, soon):
    post = actions.create_post(
        actor=desk.editor,
        title="KFF-opslag",
        shared_text="Tekst",
        planned_at=soon,
        channels=[desk.channels["facebook"]],
    )
    actions.submit_post(post, actor=desk.editor)
    draft = actions.create_post(
        actor=desk.editor,
        title="Kladde",
        planned_at=soon,
        channels=[desk.channels["facebook"]],
    )
    proposal = actions.create_proposal(
        actor=desk.contributor, title="BUF-forslag", text="Tekst"
    )
    asset = MediaAssetFactory(organisation=desk.organisation, administration=desk.kff)
    return {
        "post": post,
        "draft": draft,
        "proposal": proposal,
        "asset": asset,
        "variant": post.variants.get(),
    }


def A(admin, editor, approver, contributor, crisis_lead, analyst):
    return dict(
        zip(
            ROLES,
            (admin, editor, approver, contributor, crisis_lead, analyst),
            strict=True,
        )
    )


# name: (method, args from objects, data, expected statuses per role)
CASES = {
    "calendar": ("get", [], None, A(200, 200, 200, 200, 200, 200)),
    "calendar_week": ("get", [], None, A(200, 200, 200, 200, 200, 200)),
    "post_list": ("get", [], None, A(200, 200, 200, 200, 200, 200)),
    "post_create": ("get", [], None, A(200, 200, 403, 403, 403, 403)),
    "post_import": ("get", [], None, A(200, 200, 403, 403, 403, 403)),
    "post_import_template": ("get", [], None, A(200, 200, 403, 403, 403, 403)),
    "post_detail": ("get", ["post"], None, A(200, 200, 200, 404, 200, 200)),
    "post_edit": ("get", ["post"], None, A(200, 200, 403, 404, 403, 403)),
    "post_submit": ("post", ["draft"], {}, A(302, 302, 403, 404, 403, 403)),
    "post_approve": ("post", ["post"], "seen", A(302, 403, 302, 404, 403, 403)),
    "post_reject": (
        "post",
        ["post"],
        {"reason": "Nej"},
        A(302, 403, 302, 404, 403, 403),
    ),
    "post_schedule": ("post", ["post"], {}, A(403, 403, 403, 404, 403, 403)),
    "post_cancel": ("post", ["post"], {}, A(302, 302, 403, 404, 403, 403)),
    "post_reschedule": ("post", ["post"], "day", A(302, 302, 403, 404, 403, 403)),
    "post_comment": (
        "post",
        ["post"],
        {"body": "Hej"},
        A(302, 302, 302, 404, 302, 302),
    ),
    "revisions": ("get", ["post", "variant"], None, A(200, 200, 200, 404, 200, 200)),
    "preview": ("post", [], "preview", A(200, 200, 200, 200, 200, 200)),
    "proposal_list": ("get", [], None, A(200, 200, 403, 200, 403, 403)),
    "proposal_create": ("get", [], None, A(200, 200, 403, 200, 403, 403)),
    "proposal_edit": ("get", ["proposal"], None, A(200, 200, 403, 200, 403, 404)),
    "proposal_accept": ("post", ["proposal"], {}, A(302, 302, 403, 403, 403, 404)),
    "proposal_changes": (
        "post",
        ["proposal"],
        {"reason": "Ret"},
        A(302, 302, 403, 403, 403, 404),
    ),
    "proposal_decline": (
        "post",
        ["proposal"],
        {"reason": "Nej"},
        A(302, 302, 403, 403, 403, 404),
    ),
    "media_list": ("get", [], None, A(200, 200, 200, 200, 200, 200)),
    "media_detail": ("get", ["asset"], None, A(200, 200, 200, 404, 200, 200)),
    # Without a channel of the organisation the search has nothing to answer.
    "media_picker": ("get", [], None, A(404, 404, 404, 404, 404, 404)),
    "campaign_list": ("get", [], None, A(200, 200, 200, 200, 200, 200)),
    "link_tracking": ("get", [], None, A(200, 200, 403, 403, 403, 403)),
    "ical_settings": ("get", [], None, A(200, 200, 200, 200, 200, 200)),
    "ical_feed": ("get", ["token"], None, A(404, 404, 404, 404, 404, 404)),
    "report": ("get", [], None, A(200, 200, 200, 403, 200, 200)),
}


def test_every_planning_url_has_a_case():
    from kanal.planning import urls

    assert {p.name for p in urls.urlpatterns} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_url_role_matrix(desk, soon, people, client, name):
    method, arg_names, data, expected = CASES[name]
    for role in ROLES:
        objs = objects(desk, soon)
        args = []
        for arg in arg_names:
            args.append("gæt-ikke" if arg == "token" else objs[arg].pk)
        if data == "day":
            data_ = {"day": (soon + timedelta(days=1)).date().isoformat()}
        elif data == "preview":
            data_ = {"channel": desk.channels["facebook"].pk}
        elif data == "channel":
            data_ = {"channel": desk.channels["instagram"].pk}
        elif data == "seen":
            data_ = {
                "revision": [v.current_revision_id for v in objs["post"].variants.all()]
            }
        else:
            data_ = data
        client.force_login(people[role].user)
        url = reverse(f"planning:{name}", args=args)
        response = getattr(client, method)(url, data_ or {})
        assert response.status_code == expected[role], (name, role)
        assert_security_headers(response)


OBJECT_ARGS = {"post", "draft", "proposal", "asset", "variant"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_anonymous_and_other_organisation(desk, soon, client, name):
    from kanal.organisations.tests.factories import (
        AdministrationFactory,
        OrganisationFactory,
    )

    method, arg_names, _data, _expected = CASES[name]
    objs = objects(desk, soon)
    args = ["gæt-ikke" if a == "token" else objs[a].pk for a in arg_names]
    url = reverse(f"planning:{name}", args=args)
    response = getattr(client, method)(url, {})
    assert_security_headers(response)
    if name == "ical_feed":
        assert response.status_code == 404
    else:
        assert response.status_code == 302
        assert "/konto/log-ind/" in response["Location"]
    other = OrganisationFactory(slug="anden-kommune")
    stranger = MembershipFactory(
        organisation=other,
        role=Role.ADMIN,
        administration=AdministrationFactory(organisation=other, code="ADM"),
    )
    client.force_login(stranger.user)
    response = getattr(client, method)(url, {"channel": desk.channels["x"].pk})
    assert_security_headers(response)
    if set(arg_names) & OBJECT_ARGS or name in {"preview", "ical_feed"}:
        assert response.status_code == 404, name
