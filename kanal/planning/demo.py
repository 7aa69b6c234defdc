"""Demo content for planning: two weeks of Copenhagen posts around today,
proposals from the administrations, and posts in every state.

``load_planning_demo(organisation)`` is called by ``kanal.demo.load_demo``
and does two things, each idempotent (loading twice changes nothing):

1. The plan: campaigns, the coming week's posts (draft to scheduled, one
   cancelled) and proposals, made through the actions.
2. The history: last week's posts, published the way Kanal publishes: each
   approved variant is queued as a publication and sent by the publishing
   engine to the sandbox (the demo's channels point there), with the
   engine's clock and the sandbox's clock both at the planned time. What
   went out is therefore on the sandbox with the address Kanal shows; one
   refusal is the network's own (an injected policy block) and one post is
   missed because no worker ran. This needs the sandbox and Kanal's web
   server (Instagram and Threads fetch the images from it) to be running;
   ``make run`` starts both and then loads the demo again. Without them the
   history waits for that next load.
"""

from __future__ import annotations

import io
import logging
import math
from dataclasses import dataclass, field
from datetime import date, time, timedelta

import httpx
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from kanal.core import audit
from kanal.organisations.models import Membership

from . import actions
from .models import Campaign, Post, PostStatus
from .timeutil import from_local
from .validation import check_saved_variant

logger = logging.getLogger(__name__)

DEMO_CAMPAIGN = "Vores København"


@dataclass(frozen=True)
class DemoImage:
    """A generated photo stand-in: its own name, colours and motif."""

    name: str
    colour: tuple[int, int, int]
    motif: str
    alt_text: str
    credit: str = "Foto: Københavns Kommune"
    size: tuple[int, int] = (1080, 1080)
    tags: tuple[str, ...] = ()


# day offset, hour, title, text, networks, category, purposes, image
FUTURE = [
    (
        1,
        9,
        "Vinterbadning i Islands Brygge Havnebad",
        "Havnebadet er åbent for vinterbadere hver weekend. Livredderne viser nye "
        "badere til rette søndag kl. 10–14.",
        ("facebook", "instagram"),
        "KK events, indvielser etc.",
        ["involvement", "service"],
        DemoImage(
            "vinterbadning-islands-brygge.jpg",
            (40, 110, 170),
            "waves",
            "Vinterbadere på stigen ned til Islands Brygge Havnebad en frostklar "
            "morgen",
            tags=("islands brygge", "havnebad", "vinter"),
        ),
    ),
    (
        2,
        12,
        "Forfatteraften på Hovedbiblioteket",
        "Mød tre debuterende københavnske forfattere på Hovedbiblioteket torsdag "
        "kl. 19. Gratis adgang, tilmelding: https://bibliotek.kk.dk/forfatteraften",
        ("facebook", "x", "mastodon"),
        "KK events, indvielser etc.",
        ["storytelling"],
        None,
    ),
    (
        3,
        8,
        "Pressemeddelelse: ny cykelbro over Inderhavnen",
        "Den nye cykel- og gangbro ved Nyhavn åbner for trafik mandag. Læs mere "
        "på kk.dk.",
        ("x", "mastodon", "bluesky", "linkedin"),
        "Pressemeddelelser og nyheder på kk.dk",
        ["news"],
        None,
    ),
    (
        4,
        15,
        "Juleudstilling i Nikolaj Kunsthal",
        "Årets juleudstilling i Nikolaj Kunsthal er skabt af børn fra byens "
        "billedskoler. Se den gratis frem til nytår.",
        ("instagram", "facebook"),
        "Udstillinger på museerne",
        ["branding"],
        DemoImage(
            "juleudstilling-nikolaj-kunsthal.jpg",
            (170, 40, 60),
            "circles",
            "Børnetegninger af nisser og juletræer hængt op i Nikolaj Kunsthals "
            "udstillingssal",
            tags=("jul", "udstilling", "børn"),
        ),
    ),
    (
        5,
        10,
        "Borgerservice: åbningstider i julen",
        "Borgerservice holder lukket 24.–26. december. Book tid online til pas og "
        "kørekort.",
        ("facebook", "x"),
        "Borgerservice",
        ["service", "information"],
        None,
    ),
    (
        6,
        11,
        "Julekoncert i Kulturhuset Indre By",
        "Københavns Drengekor synger julen ind i Kulturhuset Indre By lørdag kl. 15.",
        ("facebook", "instagram", "threads"),
        "KK events, indvielser etc.",
        ["branding"],
        DemoImage(
            "julekoncert-kulturhuset.jpg",
            (20, 120, 80),
            "stripes",
            "Københavns Drengekor i røde kjortler på scenen i Kulturhuset Indre By",
            tags=("jul", "koncert", "kulturhuse"),
        ),
    ),
    (
        7,
        9,
        "Nye boldbaner i Sydhavnen",
        "Tre nye kunstgræsbaner er klar i Sydhavnen. Foreninger kan booke tider nu.",
        ("facebook", "linkedin"),
        "Nyheder med københavnervinkel",
        ["information"],
        None,
    ),
]
# Which state each future post ends in (same order as FUTURE).
FUTURE_STATES = [
    "scheduled",
    "scheduled",
    "in_review",
    "draft",
    "approved",
    "scheduled",
    "cancelled",
]


@dataclass(frozen=True)
class PastPost:
    """Last week's post and what became of it on each network: "published",
    "failed" (the network refused it) or "missed" (no worker sent it)."""

    offset: int
    hour: int
    title: str
    text: str
    outcomes: dict[str, str]
    category: str
    purposes: list[str] = field(default_factory=list)
    image: DemoImage | None = None


# Networks that carry the post's image (Instagram requires one).
IMAGE_NETWORKS = frozenset({"facebook", "instagram", "threads"})

PAST = [
    PastPost(
        -7,
        10,
        "Lysfest på Israels Plads",
        "Lysfesten på Israels Plads tænder byens vinterlys fredag kl. 17. Kom og "
        "se lysinstallationerne og få varm kakao.",
        {"facebook": "published", "instagram": "published"},
        "KK events, indvielser etc.",
        ["branding", "involvement"],
        DemoImage(
            "lysfest-israels-plads.jpg",
            (230, 150, 30),
            "circles",
            "Lyskugler hænger over Israels Plads i skumringen, og folk står samlet "
            "under dem",
            tags=("israels plads", "lys", "vinter"),
        ),
    ),
    PastPost(
        -6,
        9,
        "Pressemeddelelse: budgetaftale for 2027",
        "Borgerrepræsentationen har indgået budgetaftale for 2027: flere pædagoger "
        "i daginstitutionerne og nye cykelstier på Amager. Læs aftalen: "
        "https://www.kk.dk/budget2027",
        {"x": "published", "mastodon": "published", "linkedin": "published"},
        "Pressemeddelelser og nyheder på kk.dk",
        ["news", "information"],
    ),
    PastPost(
        -5,
        14,
        "Billedkunst på Kastrup Fort",
        "Kastrup Fort viser i weekenden værker af lokale billedkunstnere. Gratis "
        "adgang lørdag og søndag kl. 11–16.",
        {"instagram": "published", "threads": "published"},
        "Udstillinger på museerne",
        ["branding", "storytelling"],
        DemoImage(
            "billedkunst-kastrup-fort.jpg",
            (90, 70, 140),
            "stripes",
            "Malerier ophængt på de gamle murstensvægge inde i Kastrup Fort",
            tags=("udstilling", "amager"),
        ),
    ),
    PastPost(
        -4,
        11,
        "Svømmeskole for voksne i Fælledbadet",
        "Har du aldrig lært at svømme? Fælledbadet starter svømmeskole for voksne "
        "i januar. Tilmelding: https://www.kk.dk/svoem",
        {"facebook": "published", "x": "failed"},
        "Borgerservice",
        ["service"],
    ),
    PastPost(
        -3,
        8,
        "Vejarbejde på H.C. Andersens Boulevard",
        "Fra mandag er der vejarbejde på H.C. Andersens Boulevard ved Rådhuspladsen. "
        "Kør udenom ad Vester Voldgade.",
        {"x": "published", "bluesky": "published"},
        "Pressemeddelelser og nyheder på kk.dk",
        ["information", "news"],
    ),
    PastPost(
        -2,
        16,
        "Koncert i Huset i Magstræde",
        "Huset i Magstræde holder gratis koncert med unge københavnske bands "
        "lørdag kl. 20.",
        {"facebook": "failed"},
        "KK events, indvielser etc.",
        ["branding"],
    ),
    PastPost(
        -1,
        7,
        "Morgenyoga i Kongens Have",
        "Morgenyoga i Kongens Have hver søndag kl. 8. Tag en måtte med; "
        "instruktøren er gratis.",
        {"instagram": "missed"},
        "Billeder af byen",
        ["involvement"],
        DemoImage(
            "morgenyoga-kongens-have.jpg",
            (60, 140, 70),
            "waves",
            "Et hold laver yoga på græsset i Kongens Have med Rosenborg Slot i "
            "baggrunden",
            tags=("kongens have", "motion"),
        ),
    ),
]

# username, title, text, reason, day offset, networks, state, decision, image
PROPOSALS = [
    (
        "bidragyder",
        "Læsefest for 2. klasser på Valby Bibliotek",
        "Alle 2. klasser i Valby inviteres til læsefest med forfatterbesøg.",
        "Vi vil gerne have flere familier til at bruge biblioteket.",
        4,
        ("facebook", "instagram"),
        "proposal",
        "",
        DemoImage(
            "laesefest-valby-bibliotek.jpg",
            (200, 80, 120),
            "stripes",
            "Børn sidder på puder og lytter til en forfatter, der læser højt på "
            "Valby Bibliotek",
            tags=("biblioteker", "børn", "valby"),
        ),
    ),
    (
        "bidragyder-tmf",
        "Ny legeplads i Kongens Have åbner",
        "Den nye naturlegeplads åbner med kage og musik.",
        "Stort ønske fra lokale familier.",
        6,
        ("facebook", "instagram", "x"),
        "changes_requested",
        "Skriv gerne præcis tid og om der er adgang med barnevogn.",
        None,
    ),
    (
        "bidragyder",
        "Skolernes motionsdag",
        "Alle skoler løber motionsløb fredag.",
        "Intern begivenhed.",
        2,
        ("facebook",),
        "declined",
        "Motionsdagen er skolernes egen begivenhed og passer ikke til kommunens "
        "kanaler. Prøv skolernes forældreintra.",
        None,
    ),
]


def _image(spec: DemoImage) -> SimpleUploadedFile:
    """A JPEG of its own for each demo image (never the same picture twice)."""
    width, height = spec.size
    image = Image.new("RGB", spec.size, spec.colour)
    draw = ImageDraw.Draw(image)
    light = tuple(min(255, c + 45) for c in spec.colour)
    dark = tuple(max(0, c - 45) for c in spec.colour)
    if spec.motif == "stripes":
        for x in range(-height, width, 90):
            draw.line([(x, 0), (x + height, height)], fill=light, width=28)
    elif spec.motif == "circles":
        for n in range(9):
            r = 60 + 40 * (n % 3)
            cx = (n * 233) % width
            cy = (n * 157) % height
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=light, outline=dark)
    else:  # waves
        for row in range(0, height, 70):
            points = [
                (x, row + 22 * math.sin((x + row) / 70)) for x in range(0, width, 12)
            ]
            draw.line(points, fill=light, width=10)
    draw.rectangle([0, height - 120, width, height], fill=dark)
    draw.text((40, height - 90), spec.name.rsplit(".", 1)[0], fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return SimpleUploadedFile(spec.name, out.getvalue(), "image/jpeg")


def _upload(member, spec: DemoImage):
    return actions.upload_media(
        actor=member,
        upload=_image(spec),
        alt_text=spec.alt_text,
        credit=spec.credit,
        tags=list(spec.tags),
    )


def _members(organisation) -> dict[str, Membership]:
    return {
        m.user.username: m
        for m in Membership.objects.filter(organisation=organisation).select_related(
            "user", "administration", "organisation"
        )
    }


def load_planning_demo(organisation) -> str:
    """The plan, then the history (see the module's docstring). Returns what
    happened to the history, for the person loading the demo."""
    load_plan(organisation)
    return publish_history(organisation)


# ---------------------------------------------------------------------------
# The plan


def load_plan(organisation) -> None:
    if Campaign.objects.filter(organisation=organisation, name=DEMO_CAMPAIGN).exists():
        return
    members = _members(organisation)
    editor, approver = members.get("redaktor"), members.get("godkender")
    if editor is None or approver is None:
        logger.warning("Planning demo skipped: no demo editor/approver")
        return
    channels = {c.network: c for c in organisation.channels.select_related("strategy")}
    with transaction.atomic():
        campaign = actions.create_campaign(
            actor=editor,
            name=DEMO_CAMPAIGN,
            hashtags=["#voreskbh"],
            starts_on=timezone.localdate() - timedelta(days=30),
            ends_on=timezone.localdate() + timedelta(days=60),
        )
        # The city's web statistics see which post brought a visitor to kk.dk.
        actions.save_link_tracking(
            actor=editor,
            organisation=organisation,
            enabled=True,
            medium="social",
            campaign_default="organisk",
            domains=["kk.dk"],
        )
        actions.create_campaign(
            actor=editor,
            name="Jul i København",
            hashtags=["#julikbh"],
            starts_on=date(timezone.localdate().year, 12, 1),
            ends_on=date(timezone.localdate().year, 12, 31),
        )
        today = timezone.localdate()
        for spec, state in zip(FUTURE, FUTURE_STATES, strict=True):
            _future_post(editor, approver, channels, campaign, today, spec, state)
        for (
            username,
            title,
            text,
            reason,
            offset,
            networks,
            state,
            decision,
            image,
        ) in PROPOSALS:
            member = members.get(username)
            if member is None:
                continue
            proposal = actions.create_proposal(
                actor=member,
                title=title,
                text=text,
                reason=reason,
                wish_from=today + timedelta(days=offset),
                wish_to=today + timedelta(days=offset + 5),
                channels=[channels[n] for n in networks if n in channels],
                event_details="Se kk.dk for tid og sted.",
                media=[_upload(member, image)] if image else [],
            )
            if state == "changes_requested":
                actions.request_proposal_changes(
                    proposal, actor=editor, reason=decision
                )
            elif state == "declined":
                actions.decline_proposal(proposal, actor=editor, reason=decision)
        actions.add_comment(
            Post.objects.get(
                organisation=organisation,
                title="Pressemeddelelse: ny cykelbro over Inderhavnen",
            ),
            actor=editor,
            body="Kan vi få et billede af broen fra Teknik og Miljø?",
        )


def _future_post(editor, approver, channels, campaign, today, spec, state):
    offset, hour, title, text, networks, category, purposes, image = spec
    chosen = [channels[n] for n in networks if n in channels]
    if not chosen:
        return
    planned = from_local(today + timedelta(days=offset), time(hour, 0)).value
    post = actions.create_post(
        actor=editor,
        title=title,
        shared_text=text,
        channels=chosen,
        planned_at=planned,
        category=category,
        purposes=purposes,
        campaign=campaign,
    )
    variants = {}
    if image is not None:
        asset = _upload(editor, image)
        for variant in post.variants.all():
            if variant.channel.network in IMAGE_NETWORKS:
                variants[variant.channel_id] = {"media": [asset]}
    for variant in post.variants.all():
        if variant.channel.network == "x":
            variants.setdefault(variant.channel_id, {})["text"] = text[:200]
    if variants:
        actions.update_post(post, actor=editor, variants=variants)
    if state == "draft":
        return
    actions.submit_post(post, actor=editor)
    if state == "in_review":
        return
    if state == "approved":
        # Approved, waiting for the desk to schedule it.
        for variant in post.variants.all():
            variant.approved_revision_id = variant.current_revision_id
            variant.save(update_fields=["approved_revision"])
        Post.objects.filter(pk=post.pk).update(
            status=PostStatus.APPROVED,
            approved_by=approver.user,
            approved_at=timezone.now(),
        )
        return
    try:
        actions.approve_post(post, actor=approver)
    except actions.PlanningError as e:
        logger.warning("Demo post %r not approved: %s", title, e)
        return
    if state == "cancelled":
        actions.cancel_post(post, actor=editor, reason="Aflyst på grund af vejret")


# ---------------------------------------------------------------------------
# The history


class HistoryUnavailable(Exception):
    """The sandbox or Kanal's web server is not running (``str()`` says which)."""


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=3).status_code < 500
    except httpx.HTTPError:
        return False


def _sandbox(method: str, path: str, **kwargs) -> dict:
    base = settings.KANAL_SANDBOX_URL.rstrip("/")
    response = httpx.request(method, f"{base}{path}", timeout=10, **kwargs)
    response.raise_for_status()
    return response.json()


def _check_history_can_be_made(channels) -> None:
    sandbox = settings.KANAL_SANDBOX_URL.rstrip("/")
    if not _answers(f"{sandbox}/_sandbox/"):
        raise HistoryUnavailable(f"øvebanen svarer ikke på {sandbox}")
    base = settings.KANAL_BASE_URL.rstrip("/")
    if not _answers(f"{base}/konto/log-ind/"):
        raise HistoryUnavailable(f"Kanal svarer ikke på {base}")
    for channel in channels.values():
        known = {
            a["account_id"]
            for a in _sandbox(
                "GET", "/_sandbox/accounts", params={"network": channel.network}
            )
        }
        if channel.remote_id not in known:
            raise HistoryUnavailable(
                f"øvebanen på {sandbox} har ikke demokontoen til {channel}"
            )


def publish_history(organisation) -> str:
    """Last week's posts, published through the engine to the sandbox."""
    titles = [p.title for p in PAST]
    if Post.objects.filter(organisation=organisation, title__in=titles).exists():
        return "Demoens historik findes allerede."
    members = _members(organisation)
    editor, approver = members.get("redaktor"), members.get("godkender")
    campaign = Campaign.objects.filter(
        organisation=organisation, name=DEMO_CAMPAIGN
    ).first()
    if editor is None or approver is None or campaign is None:
        return "Demoens historik er sprunget over: planen mangler."
    channels = {
        c.network: c
        for c in organisation.channels.select_related("strategy")
        if any(c.network in p.outcomes for p in PAST)
    }
    try:
        _check_history_can_be_made(channels)
    except HistoryUnavailable as e:
        logger.info("Demo history waits: %s", e)
        return (
            f"Demoens historik venter: {e}. Den udgives, når øvebanen og Kanal "
            "kører (make run gør det)."
        )
    plan = _queue_history(organisation, editor, approver, campaign, channels)
    _replay(plan)
    return f"Demoens historik er udgivet på øvebanen ({len(plan)} udgivelser)."


@transaction.atomic
def _queue_history(organisation, editor, approver, campaign, channels):
    """The past posts as the desk left them: approved the day before and
    scheduled; returns ``[(planned_at, publication, outcome)]``."""
    from kanal.publishing.models import Publication

    today = timezone.localdate()
    plan = []
    for past in PAST:
        chosen = [channels[n] for n in past.outcomes if n in channels]
        if not chosen:
            continue
        planned = from_local(today + timedelta(days=past.offset), time(past.hour))
        planned_at = planned.value
        post = actions.create_post(
            actor=editor,
            title=past.title,
            shared_text=past.text,
            channels=chosen,
            category=past.category,
            purposes=past.purposes,
            campaign=campaign,
        )
        asset = _upload(editor, past.image) if past.image else None
        for variant in post.variants.select_related("channel"):
            # The time has passed, so it is set here rather than through the
            # editor (which refuses a time in the past).
            variant.planned_at = planned_at
            variant.save(update_fields=["planned_at"])
            if asset is not None and variant.channel.network in IMAGE_NETWORKS:
                variant.media.set([asset])
            actions._save_revision(variant, editor)
            problems = check_saved_variant(variant).problems
            if problems:
                logger.warning(
                    "Demo history %r on %s: %s",
                    past.title,
                    variant.channel,
                    "; ".join(p.message for p in problems),
                )
            variant.approved_revision_id = variant.current_revision_id
            variant.save(update_fields=["approved_revision"])
        post.planned_at = planned_at
        post.submitted_by = editor.user
        post.approved_by = approver.user
        post.approved_at = planned_at - timedelta(days=1)
        post.status = PostStatus.APPROVED
        post.save(
            update_fields=[
                "planned_at",
                "submitted_by",
                "approved_by",
                "approved_at",
                "status",
            ]
        )
        audit.record(
            "planning.post.approved",
            actor=approver,
            target=post,
            changes={"comment": "", "demo_history": True},
        )
        actions._schedule(post, actor=None, queue_as=None)
        for publication in Publication.objects.filter(post_id=post.pk).select_related(
            "channel"
        ):
            plan.append(
                (planned_at, publication, past.outcomes[publication.channel.network])
            )
    plan.sort(key=lambda item: (item[0], item[1].pk))
    return plan


def _replay(plan) -> None:
    """Send the queued history in time order, the engine's clock and the
    sandbox's clock at each planned time."""
    from kanal.publishing import conf, engine

    injected = set()
    try:
        for planned_at in sorted({item[0] for item in plan}):
            batch = [item for item in plan if item[0] == planned_at]
            if all(outcome == "missed" for _at, _pub, outcome in batch):
                # No worker ran: the sweep after the late cutoff marks it.
                engine.mark_missed(
                    now=planned_at + conf.late_cutoff() + timedelta(minutes=1)
                )
                continue
            _sandbox("POST", "/_sandbox/clock", json={"reset": True})
            offset = (planned_at - timezone.now()).total_seconds()
            _sandbox("POST", "/_sandbox/clock", json={"advance_seconds": offset})
            for _at, publication, outcome in batch:
                if outcome == "failed":
                    channel = publication.channel
                    _sandbox(
                        "POST",
                        "/_sandbox/faults",
                        json={
                            "network": channel.network,
                            "kind": "policy_block",
                            "account": channel.remote_id,
                            "operation": "publish",
                            "count": 1,
                        },
                    )
                    injected.add(channel.network)
            mine = {pub.pk for _at, pub, _outcome in batch}
            jobs = engine.claim_due(owner="kanal-demo", limit=50, now=planned_at)
            for job in jobs:
                if job.publication_id not in mine:
                    logger.warning(
                        "Demo history claimed publication %s too", job.publication_id
                    )
                engine.record(job, engine.execute(job), now=planned_at)
    finally:
        _sandbox("POST", "/_sandbox/clock", json={"reset": True})
        for network in injected:
            _sandbox("DELETE", "/_sandbox/faults", params={"network": network})
    _date_history_messages([pub.pk for _at, pub, _outcome in plan])
    _date_published_posts({pub.post_id for _at, pub, _outcome in plan})


def _date_history_messages(publication_ids) -> None:
    """History happened at the planned times. The engine stamps its messages,
    and some adapters the publication, with the moment they ran (today);
    they are dated when it happened (the cutoff for the missed one)."""
    from kanal.notifications.models import Notification, subject_of
    from kanal.publishing.models import Publication

    for pub in Publication.objects.filter(pk__in=publication_ids):
        at = pub.late_after if pub.status == "missed" else pub.planned_at
        if pub.published_at and pub.published_at - pub.planned_at > timedelta(hours=1):
            Publication.objects.filter(pk=pub.pk).update(published_at=pub.planned_at)
        Notification.objects.filter(subject=subject_of(pub)).update(
            created_at=at + timedelta(seconds=5)
        )


def _date_published_posts(post_ids) -> None:
    """A post was published when its first publication went out (the roll-up
    records the moment it ran, which for history is today)."""
    from django.db.models import Min

    from kanal.publishing.models import Publication, PublicationStatus

    first = dict(
        Publication.objects.filter(
            post_id__in=post_ids, status=PublicationStatus.PUBLISHED
        )
        .values_list("post_id")
        .annotate(at=Min("published_at"))
    )
    for post_id, at in first.items():
        Post.objects.filter(pk=post_id).update(published_at=at)
