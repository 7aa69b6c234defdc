from __future__ import annotations

import factory

from kanal.channels import vault
from kanal.channels.models import Channel, Network, StrategyProfile
from kanal.organisations.tests.factories import (
    AdministrationFactory,
    OrganisationFactory,
)


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    owner_administration = factory.SubFactory(
        AdministrationFactory, organisation=factory.SelfAttribute("..organisation")
    )
    network = Network.FACEBOOK
    display_name = factory.Sequence(lambda n: f"Kanal {n}")
    handle = factory.Sequence(lambda n: f"kanal{n}")
    remote_id = factory.Sequence(lambda n: str(100000 + n))
    base_url = "http://127.0.0.1:9/facebook/v25.0"
    encrypted_credentials = factory.LazyFunction(
        lambda: vault.encrypt({"access_token": "test-token"})
    )
    strategy = factory.RelatedFactory(
        "kanal.channels.tests.factories.StrategyProfileFactory",
        factory_related_name="channel",
    )


class StrategyProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StrategyProfile

    channel = None
    purposes = ["branding", "information"]
    categories = ["Borgerservice", "Kampagner"]
    cadence_min = 2
    cadence_max = 4
    cadence_period = "day"
    default_hashtags = ["#voreskbh"]
