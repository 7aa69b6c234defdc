"""An organisation with something on every page, for the accessibility tests:
people in every role (signing in with a password), channels with strategies,
a post waiting for approval, a draft, a proposal, an image, a campaign, a
notification and a failed publication."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from kanal.organisations.roles import Role
from kanal.organisations.tests.factories import (
    PASSWORD,
    AdministrationFactory,
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
)

ROLE_NAMES = {
    "admin": Role.ADMIN,
    "editor": Role.EDITOR,
    "approver": Role.APPROVER,
    "contributor": Role.CONTRIBUTOR,
    "crisis_lead": Role.CRISIS_LEAD,
    "analyst": Role.ANALYST,
}


@dataclass
class World:
    organisation: object
    members: dict = field(default_factory=dict)
    objects: dict = field(default_factory=dict)
    channels: dict = field(default_factory=dict)
    password: str = PASSWORD


def build_world() -> World:
    from kanal.channels.models import StrategyProfile
    from kanal.channels.tests.factories import ChannelFactory
    from kanal.planning import actions
    from kanal.planning.tests.factories import CampaignFactory, image_upload
    from kanal.publishing.actions import queue_publication
    from kanal.publishing.models import CrisisTemplate, Publication, PublicationStatus

    organisation = OrganisationFactory(name="Københavns Kommune", slug="kk")
    kff = AdministrationFactory(
        organisation=organisation,
        code="KFF",
        name="Kultur- og Fritidsforvaltningen",
        is_central_desk=True,
    )
    buf = AdministrationFactory(
        organisation=organisation, code="BUF", name="Børne- og Ungdomsforvaltningen"
    )
    world = World(organisation=organisation)
    for key, role in ROLE_NAMES.items():
        world.members[key] = MembershipFactory(
            organisation=organisation,
            administration=buf if role == Role.CONTRIBUTOR else kff,
            role=role,
            user=UserFactory(
                username=f"a11y-{key}",
                first_name=key.replace("_", " ").title(),
                last_name="Test",
                email=f"{key}@kk.example",
            ),
        )
    for network, name, low, high, period in [
        ("facebook", "Københavns Kommune", 2, 4, "day"),
        ("instagram", "kobenhavnskommune", 2, 3, "week"),
        ("x", "@KobenhavnsKom", 1, 2, "day"),
        ("mastodon", "kk@social.kk.dk", 1, 2, "day"),
    ]:
        channel = ChannelFactory(
            organisation=organisation,
            owner_administration=kff,
            network=network,
            display_name=name,
            base_url=f"http://127.0.0.1:9/{network}",
            strategy=None,
        )
        StrategyProfile.objects.create(
            channel=channel,
            purposes=["branding", "information"],
            categories=["Borgerservice", "Arrangementer"],
            cadence_min=low,
            cadence_max=high,
            cadence_period=period,
        )
        world.channels[network] = channel
    editor = world.members["editor"]
    soon = (timezone.localtime() + timedelta(days=2)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    campaign = CampaignFactory(organisation=organisation, name="Vinterbadning")
    post = actions.create_post(
        actor=editor,
        title="Svømmehallen åbner igen",
        shared_text="Svømmehallen på Nørrebro åbner igen mandag. #voreskbh",
        planned_at=soon,
        channels=[world.channels["facebook"], world.channels["x"]],
        campaign=campaign,
    )
    actions.submit_post(post, actor=editor)
    draft = actions.create_post(
        actor=editor,
        title="Kladde om biblioteket",
        shared_text="Biblioteket holder åbent til kl. 22.",
        planned_at=soon + timedelta(days=1),
        channels=[world.channels["facebook"], world.channels["mastodon"]],
    )
    proposal = actions.create_proposal(
        actor=world.members["contributor"],
        title="Sommerlejr for børn",
        text="Tilmeldingen til sommerlejren er åben.",
        reason="Mange forældre spørger.",
        channels=[world.channels["facebook"]],
    )
    asset = actions.upload_media(
        actor=editor,
        upload=image_upload("havnebad.jpg"),
        alt_text="Børn bader i Islands Brygge Havnebad en solskinsdag",
    )
    publication = queue_publication(
        actor=None,
        organisation=organisation,
        channel=world.channels["facebook"],
        planned_at=timezone.now() + timedelta(hours=2),
        post_id=None,
        variant_id=None,
        revision_id=None,
        text="Svømmehallen åbner",
    )
    Publication.objects.filter(pk=publication.pk).update(
        status=PublicationStatus.FAILED, last_error="Netværket afviste opslaget."
    )
    published, export_job = _insights_history(world, organisation)
    crisis_template = CrisisTemplate.objects.create(
        organisation=organisation,
        name="Stormflod",
        event="storm_surge",
        text="Stormflod ved [STED]. Ring 112 ved livsfare.",
    )
    from kanal.sources.models import Source, SourceItem, Suggestion

    source = Source.objects.create(
        organisation=organisation,
        owner_administration=kff,
        name="Hovedbiblioteket",
        kind="ical",
        url="https://bibliotek.kk.dk/arrangementer.ics",
        last_error="Feedet findes ikke længere på adressen (404). Tjek adressen.",
        status="failing",
    )
    source.default_channels.set([world.channels["facebook"]])
    item = SourceItem.objects.create(
        source=source,
        guid="koncert@bib",
        title="Koncert i Musikcaféen",
        location="Hovedbiblioteket",
        starts_at=soon + timedelta(days=4),
        fingerprint="x",
    )
    suggestion = Suggestion.objects.create(
        item=item,
        channel=world.channels["facebook"],
        text="Koncert i Musikcaféen på lørdag kl. 19.30.",
        link="https://bibliotek.kk.dk/koncert",
        planned_at=soon + timedelta(days=1),
    )
    conversation, new_conversation = _inbox(world.channels["facebook"], buf)
    world.objects = {
        "source": source,
        "suggestion": suggestion,
        "conversation": conversation,
        "new_conversation": new_conversation,
        "inbox_item": conversation.items.first(),
        "standard_answer": _standard_answer(organisation),
        "referral": _referral(organisation),
        "crisis_template": crisis_template,
        "post": post,
        "draft": draft,
        "proposal": proposal,
        "asset": asset,
        "variant": post.variants.first(),
        "channel": world.channels["facebook"],
        "contributor": world.members["contributor"],
        "publication": publication,
        "campaign": campaign,
        "published": published,
        "export_job": export_job,
        "rendered_report": _rendered_report(organisation),
    }
    return world


def _rendered_report(organisation):
    """A month's report the e-mail job rendered (downloaded, not a page)."""
    from kanal.insights.models import RenderedReport

    return RenderedReport.objects.create(
        organisation=organisation, cadence="monthly",
        period_start=timezone.localdate().replace(day=1),
        period_end=timezone.localdate(), content=b"%PDF-1.4",
        rendered_at=timezone.now(), file_name="kanal-maanedsrapport.pdf",
    )


def _insights_history(world, organisation):
    """A published post with two days of numbers, rolled up, and a finished
    export of the administrator's (the insights pages have content)."""
    from kanal.channels.networks.base import Metric, MetricsSnapshot
    from kanal.insights import actions as insights_actions
    from kanal.insights import rollups
    from kanal.insights.models import ExportJob, PostTracking
    from kanal.publishing.models import Publication, PublicationStatus

    channel = world.channels["facebook"]
    now = timezone.now()
    published = Publication.objects.create(
        organisation=organisation, channel=channel, planned_at=now,
        due_at=now, late_after=now, text="Havnebadet er åbent",
        status=PublicationStatus.PUBLISHED, published_at=now - timedelta(days=1),
        remote_id="insights-1", url="https://example.org/p/1",
    )
    insights_actions.track_publications(channel, [published], now=now)
    for day, followers, views in [(1, 43000, 900), (0, 43120, 1400)]:
        insights_actions.record_metrics(
            channel,
            MetricsSnapshot(
                account=(Metric("followers_count", followers, "followers", "v25.0"),),
                posts={"insights-1": (
                    Metric("post_media_view", views, "views", "v25.0"),
                    Metric("post_reactions_like_total", 40, "likes", "v25.0"),
                )},
            ),
            trackings=list(PostTracking.objects.select_related("publication")),
            now=now - timedelta(days=day),
        )
    rollups.update_dirty_days()
    export_job = ExportJob.objects.create(
        organisation=organisation, requested_by=world.members["admin"],
        table="channels", file_format="csv", start=timezone.localdate(),
        end=timezone.localdate(), status="done", progress=100, content=b"a;b",
        file_name="kanal-channels.csv",
    )
    return published, export_job


def _standard_answer(organisation):
    from kanal.inbox.models import StandardAnswer

    return StandardAnswer.objects.create(
        organisation=organisation, title="Pas",
        text="Hej {fornavn}. Et nyt pas bestilles på kk.dk/pas.",
    )


def _referral(organisation):
    from kanal.inbox.models import ReferralTemplate

    return ReferralTemplate.objects.create(
        organisation=organisation, title="Borgerservice",
        text="Hej {fornavn}. Det kan Borgerservice hjælpe med på kk.dk.",
    )


def _inbox(channel, administration):
    """Two conversations: one assigned to BUF with a reply and a CPR number,
    one new."""
    from kanal.channels.networks.base import InboxItem as NetworkItem
    from kanal.inbox.intake import ingest
    from kanal.inbox.models import Conversation

    now = timezone.now()

    def item(remote_id, text, parent=""):
        return NetworkItem(
            remote_id=remote_id, kind="reply" if parent else "comment",
            author_id=f"a-{remote_id}", author_name="Mette Hansen", text=text,
            created_at=now, post_remote_id="p1", parent_remote_id=parent or "p1",
        )

    ingest(channel, item("c1", "Mit CPR er 010190-1234. Hvornår åbner I?"))
    ingest(channel, item("c2", "Tak for svar!", parent="c1"))
    ingest(channel, item("c3", "Er der parkering ved Sundby Bad?"))
    conversation = Conversation.objects.get(channel=channel, key="c:c1")
    Conversation.objects.filter(pk=conversation.pk).update(
        status="assigned", assigned_administration=administration
    )
    conversation.refresh_from_db()
    return conversation, Conversation.objects.get(channel=channel, key="c:c3")


def sign_in(page, world: World, role: str) -> None:
    """Log in through the form, as a person would."""
    member = world.members[role]
    page.goto("/konto/log-ind/")
    page.fill("input[name=username]", member.user.username)
    page.fill("input[name=password]", world.password)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(lambda url: "/konto/log-ind/" not in url)
