import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from kanal.channels.policies import channel_policy
from kanal.channels.tests.factories import ChannelFactory
from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_get_allowed_gives_the_object_the_actor_may_act_on():
    admin = MembershipFactory(role=Role.ADMIN)
    channel = ChannelFactory(organisation=admin.organisation)
    assert channel_policy.get_allowed(admin, "change", pk=channel.pk) == channel


def test_get_allowed_is_403_for_a_visible_object_the_role_may_not_change():
    analyst = MembershipFactory(role=Role.ANALYST)
    channel = ChannelFactory(organisation=analyst.organisation)
    with pytest.raises(PermissionDenied):
        channel_policy.get_allowed(analyst, "change", pk=channel.pk)


def test_get_allowed_is_404_for_another_organisations_object_or_a_bad_id():
    admin = MembershipFactory(role=Role.ADMIN)
    elsewhere = ChannelFactory()
    with pytest.raises(Http404):
        channel_policy.get_allowed(admin, "change", pk=elsewhere.pk)
    with pytest.raises(Http404):
        channel_policy.get_allowed(admin, "change", pk="ikke-et-tal")
