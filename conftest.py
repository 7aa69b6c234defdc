"""Fixtures shared by every app's tests."""

from __future__ import annotations

import pytest

from kanal.organisations.roles import Role


@pytest.fixture
def organisation(db):
    from kanal.organisations.tests.factories import OrganisationFactory

    return OrganisationFactory(name="Testkommune", slug="testkommune")


@pytest.fixture
def member(organisation):
    """``member(role, administration=None)`` → a Membership in ``organisation``."""
    from kanal.organisations.tests.factories import (
        AdministrationFactory,
        MembershipFactory,
    )

    def make(role=Role.EDITOR, administration=None, **kwargs):
        administration = administration or AdministrationFactory(
            organisation=organisation, code="KFF", name="Kultur- og Fritid"
        )
        return MembershipFactory(
            organisation=organisation,
            administration=administration,
            role=role,
            **kwargs,
        )

    return make


@pytest.fixture
def client_for(client):
    """``client_for(membership)`` → a test client logged in as that member."""

    def login(membership):
        client.force_login(membership.user)
        return client

    return login
