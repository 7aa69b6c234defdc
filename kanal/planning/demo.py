"""Demo content for planning: two weeks of Copenhagen posts around today,
proposals from the administrations, and posts in every state.

``load_planning_demo(organisation)`` is called by ``kanal.demo.load_demo``.
Idempotent: when the demo campaign exists, nothing is changed.
"""

from __future__ import annotations

import io
import logging
from datetime import date, time, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from kanal.organisations.models import Membership

from . import actions
from .models import Campaign, Post, PostStatus, Variant, VariantRevision
from .timeutil import from_local

logger = logging.getLogger(__name__)

DEMO_CAMPAIGN = "Vores København"

# day offset, hour, title, text, networks, category, purposes, image colour
FUTURE = [
    (
        1,
        9,
        "Vinterbadning i Islands Brygge Havnebad",
        "Havnebadet er åbent for vinterbadere hver weekend. Livredderne viser nye "
        "badere til rette søndag kl. 10–14.",
        ("facebook", "instagram"),
        "Arrangementer",
        ["involvement", "service"],
        (40, 110, 170),
    ),
    (
        2,
        12,
        "Forfatteraften på Hovedbiblioteket",
        "Mød tre debuterende københavnske forfattere på Hovedbiblioteket torsdag "
        "kl. 19. Gratis adgang, tilmelding på bibliotek.kk.dk.",
        ("facebook", "x", "mastodon"),
        "Arrangementer",
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
        "Pressemeddelelser",
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
        "Museumsudstillinger",
        ["branding"],
        (170, 40, 60),
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
        "Arrangementer",
        ["branding"],
        (20, 120, 80),
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

PAST = [
    (-7, 10, "Lysfest på Israels Plads", ("facebook", "instagram"), "published"),
    (-6, 9, "Pressemeddelelse: budgetaftale for 2027", ("x", "mastodon"), "published"),
    (-5, 14, "Billedkunst på Kastrup Fort", ("instagram",), "published"),
    (
        -4,
        11,
        "Svømmeskole for voksne i Fælledbadet",
        ("facebook", "x"),
        "partially_published",
    ),
    (-3, 8, "Vejarbejde på H.C. Andersens Boulevard", ("x", "bluesky"), "published"),
    (-2, 16, "Koncert i Huset i Magstræde", ("facebook",), "failed"),
    (-1, 7, "Morgenyoga i Kongens Have", ("instagram",), "missed"),
]

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
    ),
]


def _image(colour, label: str) -> SimpleUploadedFile:
    image = Image.new("RGB", (1080, 1080), colour)
    draw = ImageDraw.Draw(image)
    for i in range(0, 1080, 60):
        draw.line([(0, i), (1080, i)], fill=tuple(min(255, c + 25) for c in colour))
    draw.text((60, 980), label, fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return SimpleUploadedFile("demo.jpg", out.getvalue(), "image/jpeg")


def load_planning_demo(organisation) -> None:
    if Campaign.objects.filter(organisation=organisation, name=DEMO_CAMPAIGN).exists():
        return
    members = {
        m.user.username: m
        for m in Membership.objects.filter(organisation=organisation).select_related(
            "user", "administration", "organisation"
        )
    }
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
        actions.create_campaign(
            actor=editor,
            name="Jul i København",
            hashtags=["#julikbh"],
            starts_on=date(timezone.localdate().year, 12, 1),
            ends_on=date(timezone.localdate().year, 12, 31),
        )
        today = timezone.localdate()
        for (
            offset,
            hour,
            title,
            text,
            networks,
            category,
            purposes,
            colour,
        ), state in zip(FUTURE, FUTURE_STATES, strict=True):
            _future_post(
                editor,
                approver,
                channels,
                campaign,
                today,
                offset,
                hour,
                title,
                text,
                networks,
                category,
                purposes,
                colour,
                state,
            )
        for offset, hour, title, networks, state in PAST:
            _past_post(
                organisation,
                editor,
                approver,
                channels,
                campaign,
                today,
                offset,
                hour,
                title,
                networks,
                state,
            )
        for (
            username,
            title,
            text,
            reason,
            offset,
            networks,
            state,
            decision,
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


def _future_post(
    editor,
    approver,
    channels,
    campaign,
    today,
    offset,
    hour,
    title,
    text,
    networks,
    category,
    purposes,
    colour,
    state,
):
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
    if colour is not None:
        asset = actions.upload_media(
            actor=editor,
            upload=_image(colour, title),
            alt_text=f"Stemningsbillede: {title}",
            credit="Foto: Københavns Kommune",
        )
        for variant in post.variants.all():
            if variant.channel.network in ("instagram", "facebook", "threads"):
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


def _past_post(
    organisation,
    editor,
    approver,
    channels,
    campaign,
    today,
    offset,
    hour,
    title,
    networks,
    state,
):
    """History cannot be made through the actions (the time has passed): the
    rows are written as publishing would have left them."""
    chosen = [channels[n] for n in networks if n in channels]
    if not chosen:
        return
    planned = from_local(today + timedelta(days=offset), time(hour, 0)).value
    post = Post.objects.create(
        organisation=organisation,
        owner_administration=editor.administration,
        title=title,
        shared_text=f"{title}. Læs mere på kk.dk.",
        category="Arrangementer",
        purposes=["branding"],
        campaign=campaign,
        status=state,
        planned_at=planned,
        created_by=editor.user,
        submitted_by=editor.user,
        approved_by=approver.user,
        approved_at=planned - timedelta(days=1),
        published_at=planned if state in ("published", "partially_published") else None,
    )
    for number, channel in enumerate(chosen):
        ok = state == "published" or (state == "partially_published" and number == 0)
        variant = Variant.objects.create(
            post=post,
            channel=channel,
            text=post.shared_text,
            planned_at=planned,
            publication_status="published"
            if ok
            else state.replace("partially_published", "failed"),
            published_url=f"https://{channel.network}.example/kk/{post.pk}"
            if ok
            else "",
        )
        revision = VariantRevision.objects.create(
            variant=variant,
            number=1,
            text=variant.text,
            planned_at=planned,
            created_by=editor.user,
        )
        variant.current_revision = variant.approved_revision = revision
        variant.save(update_fields=["current_revision", "approved_revision"])
