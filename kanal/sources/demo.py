"""Demo sources: the sandbox's feeds of a library, a swimming bath, a
culture house and kk.dk's press releases, registered for the KFF desk and
fetched at once so the demo shows suggestions.

``load_sources_demo(organisation, feeds_url=...)`` is idempotent: it adds
the missing sources and fetches those that have not been fetched without
error (the first load runs before the sandbox answers).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from kanal.channels.models import Channel
from kanal.organisations.models import Administration

from . import actions
from .models import Source, SourceStatus

CULTURE_HOUSE_MAPPING = {
    "items": "data.events",
    "id": "id",
    "title": "name",
    "start": "startDate",
    "end": "endDate",
    "location": "venue.name",
    "url": "url",
    "image": "image",
    "description": "description",
}

#: name, kind, feed file, networks, category, purposes, JSON mapping
DEMO_SOURCES = (
    (
        "Hovedbiblioteket",
        "ical",
        "hovedbiblioteket.ics",
        ("facebook", "instagram", "x"),
        "Kultur og fritid",
        ["information", "involvement"],
        {},
    ),
    (
        "Øbro-Hallen",
        "ical",
        "oebro-hallen.ics",
        ("facebook", "instagram"),
        "Kultur og fritid",
        ["information", "service"],
        {},
    ),
    (
        "Kulturhuset Islands Brygge",
        "json",
        "kulturhuset-islands-brygge.json",
        ("facebook", "x"),
        "Kultur og fritid",
        ["information"],
        CULTURE_HOUSE_MAPPING,
    ),
    (
        "Københavns Kommune – pressemeddelelser",
        "rss",
        "kk-pressemeddelelser.xml",
        ("x", "facebook"),
        "Nyheder",
        ["news", "information"],
        {},
    ),
)


#: The partner the demo follows: the libraries' account on the sandbox's
#: Mastodon instance, read through the desk's Mastodon channel.
DEMO_PARTNER = ("Københavns Biblioteker på Mastodon", "bibliotek@kk.social")


def _follow_demo_partner(organisation, kff, channels) -> None:
    name, account = DEMO_PARTNER
    reader = channels.filter(network="mastodon").order_by("pk").first()
    if reader is None or Source.objects.filter(
        organisation=organisation, name=name
    ).exists():
        return
    facebook = channels.filter(network="facebook").order_by("pk").first()
    actions.create_source(
        actor=None,
        name=name,
        kind="partner",
        url="",
        owner_administration=kff,
        channels=[c for c in (reader, facebook) if c is not None],
        category="Kultur og fritid",
        purposes=["information"],
        partner_channel=reader,
        partner_account=account,
        fetch_every_minutes=15,
    )


def load_sources_demo(organisation, *, feeds_url: str) -> str:
    """Register and fetch the demo's sources; a note when the sandbox did not
    answer (they are fetched again by the next load or by the worker)."""
    kff = Administration.objects.filter(organisation=organisation, code="KFF").first()
    if kff is None:
        return ""
    channels = Channel.objects.filter(organisation=organisation)
    for name, kind, path, networks, category, purposes, mapping in DEMO_SOURCES:
        if Source.objects.filter(organisation=organisation, name=name).exists():
            continue
        chosen = []
        for network in networks:
            channel = channels.filter(network=network).order_by("pk").first()
            if channel is not None:
                chosen.append(channel)
        actions.create_source(
            actor=None,
            name=name,
            kind=kind,
            url=f"{feeds_url.rstrip('/')}/{path}",
            owner_administration=kff,
            channels=chosen,
            category=category,
            purposes=purposes,
            json_mapping=mapping,
            # The sandbox serves them on loopback.
            allow_private=True,
            fetch_every_minutes=15,
        )
    _follow_demo_partner(organisation, kff, channels)
    failing = []
    for source in Source.objects.filter(organisation=organisation).exclude(
        status=SourceStatus.OK
    ):
        actions.refresh_source(source, actor=None)
        if source.status != SourceStatus.OK:
            failing.append(source.name)
    if failing:
        return _(
            "Kilderne %(names)s blev ikke hentet, fordi øvebanen ikke svarede. "
            "De hentes, når demoen indlæses igen, eller når arbejderen kører."
        ) % {"names": ", ".join(failing)}
    return ""
