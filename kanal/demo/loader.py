"""The Copenhagen demo: Københavns Kommune as its 2015 strategy describes it.

``load_demo()`` is idempotent: loading twice changes nothing. Channels point
at the sandbox (``settings.KANAL_SANDBOX_URL``) with the sandbox's fixed demo
tokens (``sandbox/seed.py``), so the demo publishes to the øvebane, never to
the real networks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from kanal.channels import actions as channel_actions
from kanal.channels.models import Channel
from kanal.organisations import actions as org_actions
from kanal.organisations.models import Administration, Membership, Organisation, Team
from kanal.organisations.roles import Role

DEMO_PASSWORD = "kanal-demo"
DEMO_TOKEN_EXPIRY = datetime(2036, 1, 1, tzinfo=UTC)

ADMINISTRATIONS = [
    ("ØKF", "Økonomiforvaltningen", False),
    ("KFF", "Kultur- og Fritidsforvaltningen", True),
    ("BUF", "Børne- og Ungdomsforvaltningen", False),
    ("SUF", "Sundheds- og Omsorgsforvaltningen", False),
    ("SOF", "Socialforvaltningen", False),
    ("TMF", "Teknik- og Miljøforvaltningen", False),
    ("BIF", "Beskæftigelses- og Integrationsforvaltningen", False),
]
TEAMS = [
    ("KFF", "Redaktionen for sociale medier"),
    ("KFF", "Biblioteker"),
    ("KFF", "Kulturhuse"),
    ("KFF", "Svømmehaller"),
    ("ØKF", "Kriseberedskab"),
]

# username, full name, role, administration, team
USERS = [
    ("admin", "Anne Admin", Role.ADMIN, "KFF", "Redaktionen for sociale medier"),
    (
        "redaktor",
        "Rasmus Redaktør",
        Role.EDITOR,
        "KFF",
        "Redaktionen for sociale medier",
    ),
    (
        "godkender",
        "Gitte Godkender",
        Role.APPROVER,
        "KFF",
        "Redaktionen for sociale medier",
    ),
    ("bidragyder", "Bo Bidragyder", Role.CONTRIBUTOR, "BUF", None),
    ("bidragyder-tmf", "Tina Teknik", Role.CONTRIBUTOR, "TMF", None),
    ("krise", "Karen Krisestyring", Role.CRISIS_LEAD, "ØKF", "Kriseberedskab"),
    ("analytiker", "Anders Analytiker", Role.ANALYST, "ØKF", None),
    ("journal", "Jonna Journal", Role.RECORDS_OFFICER, "KFF", None),
]


@dataclass(frozen=True)
class DemoChannel:
    network: str
    path: str  # below the sandbox URL, as the adapter expects its base URL
    display_name: str
    handle: str
    remote_id: str
    followers: int
    credentials: dict[str, str]
    purposes: list[str]
    categories: list[str]
    cadence: tuple[int, int, str]
    hashtags: list[str] = field(default_factory=list)
    tone: str = ""
    owner: str = "KFF"
    # API settings; "{sandbox}" is replaced by the sandbox's base URL.
    api_settings: dict[str, str] = field(default_factory=dict)


CHANNELS = [
    DemoChannel(
        "facebook",
        "/facebook/v25.0",
        "Københavns Kommune",
        "kobenhavnskommune",
        "104738291045678",
        43000,
        {"access_token": "sandbox-facebook-page-token-kk"},
        [
            "branding",
            "involvement",
            "storytelling",
            "dialogue",
            "information",
            "service",
        ],
        [
            "Borgerservice",
            "Nyheder med københavnervinkel",
            "Indlæg om byudvikling",
            "KK events, indvielser etc.",
            "Andre events, som KFF har støttet",
            "Kriseberedskab",
            "Præsentation af KK medarbejdere",
            "Kampagner",
        ],
        (2, 4, "day"),
        ["#voreskbh"],
        "Venlig, nær og konkret. Skriv til københavnerne, ikke om dem. "
        "Svar på spørgsmål inden for arbejdstiden.",
    ),
    DemoChannel(
        "instagram",
        "/instagram/v25.0",
        "Københavns Kommune",
        "kobenhavnskommune",
        "17841400000000001",
        6000,
        {"access_token": "sandbox-instagram-token-kk"},
        ["branding", "involvement"],
        [
            "Billeder af byen",
            "Anlægsprojekter",
            "Udstillinger på museerne",
            "Medarbejdere",
            "Rådhuset",
            "Udvalgte kampagner",
        ],
        (2, 3, "week"),
        ["#voreskbh"],
        "Billedet først. Korte tekster, altid alt-tekst. Brug #voreskbh.",
    ),
    DemoChannel(
        "x",
        "/x",
        "Københavns Kommune",
        "kobenhavn",
        "1500000000000000001",
        2900,
        {
            "access_token": "sandbox-x-access-token-kk",
            "refresh_token": "sandbox-x-refresh-token-kk",
        },
        ["news", "dialogue", "involvement", "branding"],
        [
            "Pressemeddelelser og nyheder på kk.dk",
            "Retweets af andres relevante nyheder",
            "Fotos/video fra byen",
        ],
        (1, 2, "day"),
        [],
        "Nyheder med link til kk.dk. Kort og præcist.",
    ),
    DemoChannel(
        "mastodon",
        "/mastodon",
        "Københavns Kommune",
        "kobenhavn",
        "109000000000000001",
        1850,
        {"access_token": "sandbox-mastodon-token-kk"},
        ["news", "information", "dialogue"],
        ["Pressemeddelelser og nyheder på kk.dk", "Borgerservice", "Kriseberedskab"],
        (1, 2, "day"),
        ["#København"],
        "Som X, men uden forkortelser; skriv alt-tekst til alle billeder.",
    ),
    DemoChannel(
        "bluesky",
        "/bluesky",
        "Københavns Kommune",
        "kobenhavn.bsky.social",
        "did:plc:kbhkommune7x2q4m5n6p3r",
        3400,
        {
            "identifier": "kobenhavn.bsky.social",
            "did": "did:plc:kbhkommune7x2q4m5n6p3r",
            "app_password": "kbhk-demo-pass-word",
            "access_token": "sandbox-bluesky-access-jwt-kk",
            "refresh_token": "sandbox-bluesky-refresh-jwt-kk",
        },
        ["news", "information", "dialogue"],
        ["Pressemeddelelser og nyheder på kk.dk", "Borgerservice", "Kriseberedskab"],
        (1, 2, "day"),
        [],
        "Højst 300 tegn. Link til kk.dk for detaljer.",
        api_settings={"web_url": "{sandbox}/bluesky"},
    ),
    DemoChannel(
        "linkedin",
        "/linkedin/rest",
        "Københavns Kommune",
        "kobenhavns-kommune",
        "1000001",
        48500,
        {
            "access_token": "sandbox-linkedin-access-token-kk",
            "refresh_token": "sandbox-linkedin-refresh-token-kk",
        },
        ["branding", "information", "storytelling"],
        [
            "Job og rekruttering",
            "Præsentation af KK medarbejdere",
            "Indlæg om byudvikling",
        ],
        (2, 4, "week"),
        [],
        "Professionel, men menneskelig. Vis medarbejderne.",
        owner="ØKF",
    ),
    DemoChannel(
        "threads",
        "/threads/v1.0",
        "Københavns Kommune",
        "kobenhavnskommune",
        "26000000000000001",
        1200,
        {"access_token": "sandbox-threads-token-kk"},
        ["branding", "involvement", "dialogue"],
        ["Billeder af byen", "KK events, indvielser etc.", "Kampagner"],
        (3, 5, "week"),
        ["#voreskbh"],
        "Uformel og kort; højst 500 tegn.",
    ),
]


def sandbox_url(path: str) -> str:
    return settings.KANAL_SANDBOX_URL.rstrip("/") + path


def load_demo(*, notes: list[str] | None = None) -> Organisation:
    """Create what is missing of the demo; touch nothing that exists.

    The organisation, people and channels are written in one transaction;
    then each app adds its content (planning's history is published through
    the sandbox, which needs what came before committed). What an app has to
    say (e.g. that the history waits for the sandbox) is appended to
    ``notes``.
    """
    organisation = _load_organisation()
    _load_app_demos(organisation, notes if notes is not None else [])
    return organisation


@transaction.atomic
def _load_organisation() -> Organisation:
    organisation = Organisation.objects.filter(slug="kk").first()
    if organisation is None:
        organisation = org_actions.create_organisation(
            name="Københavns Kommune",
            slug="kk",
            # The demo logins work without an authenticator app; a real
            # installation keeps the default (required for admins and editors).
            require_two_factor=False,
            forbid_self_approval=True,
        )
    administrations = {}
    for code, name, central in ADMINISTRATIONS:
        administration = Administration.objects.filter(
            organisation=organisation, code=code
        ).first() or org_actions.create_administration(
            organisation, actor=None, code=code, name=name, is_central_desk=central
        )
        administrations[code] = administration
    teams = {}
    for code, name in TEAMS:
        administration = administrations[code]
        teams[name] = Team.objects.filter(
            administration=administration, name=name
        ).first() or org_actions.create_team(administration, actor=None, name=name)
    for username, full_name, role, code, team in USERS:
        if Membership.objects.filter(
            organisation=organisation, user__username=username
        ).exists():
            continue
        org_actions.add_member(
            organisation,
            actor=None,
            username=username,
            email=f"{username}@kanal-demo.kk.dk",
            full_name=full_name,
            administration=administrations[code],
            role=role,
            password=DEMO_PASSWORD,
            team=teams.get(team),
        )
    for demo in CHANNELS:
        if Channel.objects.filter(
            organisation=organisation, network=demo.network, remote_id=demo.remote_id
        ).exists():
            continue
        low, high, period = demo.cadence
        channel_actions.create_channel(
            actor=None,
            organisation=organisation,
            network=demo.network,
            display_name=demo.display_name,
            handle=demo.handle,
            remote_id=demo.remote_id,
            owner_administration=administrations[demo.owner],
            base_url=sandbox_url(demo.path),
            api_settings={
                name: value.replace("{sandbox}", sandbox_url(""))
                for name, value in demo.api_settings.items()
            },
            credentials=demo.credentials,
            token_expires_at=DEMO_TOKEN_EXPIRY,
            follower_count=demo.followers,
            strategy={
                "purposes": demo.purposes,
                "categories": demo.categories,
                "cadence_min": low,
                "cadence_max": high,
                "cadence_period": period,
                "default_hashtags": demo.hashtags,
                "tone_notes": demo.tone,
            },
        )
    return organisation


def _load_app_demos(organisation: Organisation, notes: list[str]) -> None:
    """The apps' demo content (each idempotent): the desk's prepared crisis
    messages (only the missing ones are added) and the plan."""
    from kanal.inbox.demo import load_inbox_demo
    from kanal.insights.demo import load_insights_demo
    from kanal.planning.demo import load_planning_demo
    from kanal.publishing.crisis import install_starter_templates
    from kanal.records.demo import load_records_demo
    from kanal.sources.demo import load_sources_demo

    install_starter_templates(actor=None, organisation=organisation)
    load_inbox_demo(organisation)
    note = load_planning_demo(organisation)
    if isinstance(note, str) and note:
        notes.append(note)
    # After the plan, so the suggestions find room around the planned posts.
    note = load_sources_demo(organisation, feeds_url=sandbox_url("/_feeds"))
    if note:
        notes.append(note)
    # After the history, so what it published is in the record too.
    load_records_demo(organisation)
    # The dashboards' past year (after the plan: it reads the campaigns).
    load_insights_demo(organisation)


def demo_logins() -> list[tuple[str, str]]:
    User = get_user_model()
    labels = dict(Role.choices)
    present = set(
        User.objects.filter(username__in=[u[0] for u in USERS]).values_list(
            "username", flat=True
        )
    )
    return [
        (username, str(labels[role]))
        for username, _n, role, _a, _t in USERS
        if username in present
    ]
