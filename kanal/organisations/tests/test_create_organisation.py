"""Organisations as a product: a new municipality from the command line,
safe to run again, and kept apart from the others on the installation."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from kanal.core.models import AuditEntry
from kanal.organisations.models import Membership, Organisation
from kanal.organisations.roles import Role

ARGS = [
    "--name", "Aarhus Kommune", "--slug", "aarhus",
    "--administration", "BKF=Borgmesterens Afdeling",
    "--administration", "KUF=Kultur og Borgerservice",
    "--central-desk", "BKF",
    "--admin-username", "aa.admin", "--admin-email", "admin@aarhus.example",
    "--admin-name", "Aase Admin",
]


def _run(*args):
    out = StringIO()
    call_command("create_organisation", *args, stdout=out)
    return out.getvalue()


def test_command_creates_organisation_administrations_and_first_admin(
    db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        output = _run(*ARGS)
    assert "Organisationen Aarhus Kommune er oprettet." in output
    organisation = Organisation.objects.get(slug="aarhus")
    assert sorted(organisation.administrations.values_list("code", flat=True)) == [
        "BKF", "KUF",
    ]
    assert organisation.administrations.get(is_central_desk=True).code == "BKF"
    admin = Membership.objects.get(organisation=organisation)
    assert (admin.user.username, admin.role) == ("aa.admin", Role.ADMIN)
    assert admin.administration.code == "BKF"
    assert not admin.user.has_usable_password()
    assert mail.outbox[0].to == ["admin@aarhus.example"]
    assert AuditEntry.objects.filter(
        event="organisations.organisation.set_up", organisation=organisation
    ).exists()


def test_running_the_command_again_changes_nothing(
    db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _run(*ARGS)
        output = _run(*ARGS, "--administration", "BUF=Børn og Unge")
    assert "findes allerede" in output
    assert "Forvaltningen BUF er oprettet." in output
    assert Organisation.objects.filter(slug="aarhus").count() == 1
    assert Membership.objects.count() == 1
    assert len(mail.outbox) == 1


def test_slug_of_another_organisation_is_refused(organisation):
    with pytest.raises(CommandError, match="bruges allerede af Testkommune"):
        _run(*[("testkommune" if a == "aarhus" else a) for a in ARGS])
    assert not Organisation.objects.filter(name="Aarhus Kommune").exists()


def test_administrator_of_another_organisation_is_not_pulled_in(member):
    other = member(Role.EDITOR)
    args = [(other.user.username if a == "aa.admin" else a) for a in ARGS]
    with pytest.raises(CommandError, match=r"anden organisation.*Intet er ændret"):
        _run(*args)
    assert not Organisation.objects.filter(slug="aarhus").exists()


def test_bad_administration_is_refused_in_danish(db):
    with pytest.raises(CommandError, match="KODE=Navn"):
        _run(*[("BKF" if a == "BKF=Borgmesterens Afdeling" else a) for a in ARGS])
