from __future__ import annotations

import io

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from kanal.organisations.tests.factories import (
    AdministrationFactory,
    OrganisationFactory,
)
from kanal.planning.models import Campaign, MediaAsset


def image_bytes(width=1200, height=1200, fmt="JPEG", color=(20, 90, 160)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, fmt)
    return out.getvalue()


def image_upload(name="foto.jpg", width=1200, height=1200, fmt="JPEG"):
    content_type = "image/png" if fmt == "PNG" else "image/jpeg"
    return SimpleUploadedFile(name, image_bytes(width, height, fmt), content_type)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Kampagne {n}")
    hashtags = ["#voreskbh"]


class MediaAssetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MediaAsset

    organisation = factory.SubFactory(OrganisationFactory)
    administration = factory.SubFactory(
        AdministrationFactory, organisation=factory.SelfAttribute("..organisation")
    )
    file = factory.django.FileField(
        filename="billede.jpg",
        data=factory.LazyFunction(lambda: image_bytes(1080, 1080)),
    )
    kind = "image"
    mime_type = "image/jpeg"
    original_name = "billede.jpg"
    size = 50_000
    width = 1080
    height = 1080
    alt_text = "Børn bader i Islands Brygge Havnebad en solskinsdag"
