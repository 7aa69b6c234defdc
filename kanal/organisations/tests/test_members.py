from __future__ import annotations

from kanal.core.models import AuditEntry
from kanal.organisations.models import Membership
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import (
    AdministrationFactory,
    MembershipFactory,
    OrganisationFactory,
)


def _new_member_data(admin, **overrides):
    return {
        "username": "sofie",
        "full_name": "Sofie Sørensen",
        "email": "sofie@example.dk",
        "administration": admin.administration.pk,
        "role": Role.CONTRIBUTOR,
        **overrides,
    }


def test_admin_adds_a_member_and_it_is_audited(member, client_for):
    admin = member(Role.ADMIN)
    response = client_for(admin).post("/medlemmer/ny/", _new_member_data(admin))
    assert response.status_code == 302
    created = Membership.objects.get(user__username="sofie")
    assert created.role == Role.CONTRIBUTOR
    assert created.organisation == admin.organisation
    assert not created.user.has_usable_password()
    entry = AuditEntry.objects.get(event="organisations.membership.created")
    assert entry.actor == admin.user
    assert entry.changes["role"] == "contributor"


def test_adding_an_existing_member_again_is_refused_in_danish(member, client_for):
    admin = member(Role.ADMIN)
    client_for(admin).post("/medlemmer/ny/", _new_member_data(admin))
    response = client_for(admin).post("/medlemmer/ny/", _new_member_data(admin))
    assert response.status_code == 400
    assert "allerede medlem" in response.content.decode()
    assert Membership.objects.filter(user__username="sofie").count() == 1


def test_administration_of_another_organisation_cannot_be_chosen(member, client_for):
    admin = member(Role.ADMIN)
    foreign = AdministrationFactory(organisation=OrganisationFactory(), code="X")
    response = client_for(admin).post(
        "/medlemmer/ny/", _new_member_data(admin, administration=foreign.pk)
    )
    assert response.status_code == 400
    assert not Membership.objects.filter(user__username="sofie").exists()


def test_editor_cannot_manage_members(member, client_for):
    editor = member(Role.EDITOR)
    client = client_for(editor)
    assert client.get("/medlemmer/").status_code == 403
    response = client.post("/medlemmer/ny/", _new_member_data(editor))
    assert response.status_code == 403
    assert not Membership.objects.filter(user__username="sofie").exists()


def test_admin_changes_a_role_and_deactivates_a_member(member, client_for):
    admin = member(Role.ADMIN)
    other = member(Role.CONTRIBUTOR)
    client = client_for(admin)
    response = client.post(
        f"/medlemmer/{other.pk}/",
        {
            "administration": other.administration.pk,
            "role": Role.APPROVER,
        },
    )
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.role == Role.APPROVER
    client.post(f"/medlemmer/{other.pk}/aktiv/", {"active": "0"})
    other.refresh_from_db()
    assert not other.is_active
    events = list(AuditEntry.objects.values_list("event", flat=True))
    assert "organisations.membership.changed" in events
    assert "organisations.membership.deactivated" in events


def test_admin_cannot_deactivate_or_demote_themselves(member, client_for):
    admin = member(Role.ADMIN)
    client = client_for(admin)
    assert (
        client.post(f"/medlemmer/{admin.pk}/aktiv/", {"active": "0"}).status_code == 403
    )
    response = client.post(
        f"/medlemmer/{admin.pk}/",
        {
            "administration": admin.administration.pk,
            "role": Role.ANALYST,
        },
    )
    assert response.status_code == 403
    admin.refresh_from_db()
    assert admin.is_active and admin.role == Role.ADMIN


def test_member_of_another_organisation_is_not_found(member, client_for):
    admin = member(Role.ADMIN)
    stranger = MembershipFactory(role=Role.EDITOR)
    client = client_for(admin)
    assert client.get(f"/medlemmer/{stranger.pk}/").status_code == 404
    assert (
        client.post(f"/medlemmer/{stranger.pk}/aktiv/", {"active": "0"}).status_code
        == 404
    )
    stranger.refresh_from_db()
    assert stranger.is_active


def test_switching_to_an_organisation_one_is_not_member_of_is_refused(
    member, client_for
):
    admin = member(Role.ADMIN)
    foreign = OrganisationFactory()
    client = client_for(admin)
    client.post("/konto/organisation/", {"organisation": foreign.pk})
    assert client.get("/").context["organisation"] == admin.organisation


def test_a_user_in_two_organisations_sees_only_the_chosen_one(member, client_for):
    admin = member(Role.ADMIN)
    second = MembershipFactory(user=admin.user, role=Role.ANALYST)
    client = client_for(admin)
    client.post("/konto/organisation/", {"organisation": second.organisation.pk})
    page = client.get("/")
    assert page.context["organisation"] == second.organisation
    assert client.get("/medlemmer/").status_code == 403


def test_an_admin_cannot_pull_another_organisations_user_in_by_username(
    member, client_for
):
    admin = member(Role.ADMIN)
    stranger = MembershipFactory(role=Role.ADMIN)  # in another organisation
    for username in (stranger.user.username, stranger.user.username.upper()):
        response = client_for(admin).post(
            "/medlemmer/ny/", _new_member_data(admin, username=username)
        )
        assert response.status_code == 400
        body = response.content.decode()
        assert "Brugernavnet er allerede i brug" in body
        assert "sofie@example.dk" in body  # what was typed is kept
    assert not Membership.objects.filter(
        user=stranger.user, organisation=admin.organisation
    ).exists()
    assert not AuditEntry.objects.filter(
        event="organisations.membership.created"
    ).exists()


def test_the_add_member_action_refuses_an_existing_user_for_an_admin(member):
    import pytest
    from django.core.exceptions import PermissionDenied

    from kanal.organisations import actions

    admin = member(Role.ADMIN)
    stranger = MembershipFactory(role=Role.EDITOR)
    with pytest.raises(PermissionDenied):
        actions.add_member(
            admin.organisation,
            actor=admin,
            username=stranger.user.username,
            email="x@example.dk",
            full_name="X Y",
            administration=admin.administration,
            role=Role.ADMIN,
        )
    # The installation itself (no actor: the demo, an operator's shell) may.
    actions.add_member(
        admin.organisation,
        actor=None,
        username=stranger.user.username,
        email="x@example.dk",
        full_name="X Y",
        administration=admin.administration,
        role=Role.EDITOR,
    )
    assert stranger.user.memberships.count() == 2
