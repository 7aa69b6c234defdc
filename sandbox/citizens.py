"""Simulated Copenhageners: they comment, reply, mention, write and post.

``tick(ctx, **options)`` is one round of citizen activity, run on a schedule
(``--citizens-every``) and on demand (``POST /_sandbox/citizens/tick``). In one
tick citizens

- comment on the accounts' own recent posts (recent posts draw more), reply to
  earlier comments and to the account's answers, mention accounts and write
  direct messages, all through ``ctx.add_citizen_item`` so each network module
  stores them its own way;
- post public posts with #voreskbh and campaign hashtags (for hashtag search);
- grow follower counts and post metrics: views ≫ likes > comments, decaying
  with the post's age on the sandbox clock.

The mix: questions for Borgerservice (opening hours, passports, health cards),
questions about the post, praise, complaints, a few rude ones (for
moderation), some with personal data (CPR numbers, phone numbers, addresses,
e-mail; all made up), English ones and emoji. A ``seed`` makes a tick
reproducible; without one the context's seeded ``rng`` is used.

Meta networks (Facebook, Instagram, Threads) get a signed webhook for each
citizen item unless their module sends its own from ``on_citizen_item``.
See the "Citizens" section of ``sandbox/README.md`` for the hooks.
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
from dataclasses import dataclass
from datetime import datetime

logger = logging.getLogger("sandbox.citizens")

DEFAULT_ACTIONS = 8
# On a schedule (``--citizens-every``), a tick covers just its interval.
ACTIONS_PER_HOUR = 60
DEFAULT_HASHTAGS = ("voreskbh", "kulturnat", "klimakbh", "sommerikbh", "kbhbibliotek")
# Networks whose API can search or list others' posts by hashtag or keyword.
HASHTAG_NETWORKS = frozenset({"x", "mastodon", "bluesky", "instagram", "threads"})
# Networks where a page or account can receive direct messages through the API.
MESSAGE_NETWORKS = frozenset({"facebook", "instagram", "x"})
# Networks where citizens tag an account with @handle.
MENTION_NETWORKS = frozenset({"x", "mastodon", "bluesky", "instagram", "threads",
                              "facebook"})
META_NETWORKS = frozenset({"facebook", "instagram", "threads"})
GENERIC_METRICS = ("views", "reach", "likes", "shares", "clicks", "saves")

# -- who ------------------------------------------------------------------------

FIRST_NAMES = (
    "Mette", "Anders", "Fatima", "Jonas", "Sofie", "Mikkel", "Aisha", "Lars",
    "Camilla", "Ahmad", "Ida", "Rasmus", "Freja", "Kasper", "Nadia", "Peter",
    "Louise", "Emil", "Signe", "Omar", "Karen", "Henrik", "Maja", "Ali",
)
LAST_NAMES = (
    "Hansen", "Nielsen", "Jensen", "Pedersen", "Andersen", "Christensen",
    "Larsen", "Sørensen", "Rasmussen", "Jørgensen", "Petersen", "Madsen",
    "Kristensen", "Olsen", "Thomsen", "Poulsen", "Khan", "Yilmaz", "Holm",
)
ENGLISH_NAMES = ("Emma Clarke", "Liam O'Brien", "Sarah Miller", "Tom Becker",
                 "Priya Sharma", "Lucas Moreau")

PLACES = (
    "Islands Brygge", "Nørrebro", "Vesterbro", "Amager", "Valby", "Bispebjerg",
    "Østerbro", "Sydhavnen", "Brønshøj", "Christianshavn", "Nordvest",
)
VENUES = (
    "Hovedbiblioteket", "Havnebadet på Islands Brygge", "Valby Bibliotek",
    "Kulturhuset Islands Brygge", "Bellahøj Svømmestadion", "Amager Bio",
    "Nørrebrohallen", "Sundby Bad", "Rådhushallen", "Kulturstationen Vanløse",
)
STREETS = ("Nørrebrogade", "Istedgade", "Amagerbrogade", "Valby Langgade",
           "Frederikssundsvej", "Østerbrogade", "Jagtvej", "Gammel Kongevej")
POSTCODES = ("2200 København N", "1620 København V", "2300 København S",
             "2500 Valby", "2400 København NV", "2100 København Ø")
MONTHS = ("januar", "februar", "marts", "april", "maj", "juni", "juli",
          "august", "september", "oktober", "november", "december")

# -- what ---------------------------------------------------------------------
# (category, weight, templates). {place} {venue} {street} {month} {cpr}
# {phone} {address} {email} {handle} are filled in.

COMMENTS: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("question_borgerservice", 5, (
        "Hvornår har Borgerservice åbent på lørdag?",
        "Har Borgerservice i {place} åbent mellem jul og nytår?",
        "Hvor lang tid tager det at få et nyt pas? Jeg skal ud at rejse i {month}.",
        "Skal man bestille tid for at forny sit pas, eller kan man bare møde op?",
        "Hvordan får jeg et nyt sundhedskort? Mit gule kort er blevet væk.",
        "Kan man skifte læge på borger.dk, eller skal man ringe til jer?",
        "Hvor melder jeg flytning, når jeg flytter til {place}?",
        "Er det rigtigt, at Borgerservice på Rådhuset lukker tidligere i {month}?",
        "Min søn skal have sygesikringsbevis. Hvad skal vi medbringe?",
    )),
    ("question_post", 4, (
        "Hvornår starter det?",
        "Er der parkering ved {venue}?",
        "Koster det noget at deltage?",
        "Er der adgang for kørestol?",
        "Kan man tage børn med?",
        "Gælder det også for os, der bor i {place}?",
        "Hvor kan jeg læse mere om det?",
    )),
    ("praise", 4, (
        "Tak for en fantastisk dag på {venue}! 👏",
        "Dejligt initiativ ❤️",
        "Super godt arbejde, København!",
        "Personalet på {venue} var virkelig søde og hjælpsomme i går.",
        "Endelig! Det har vi ventet længe på i {place} 🙌",
        "Tak for hurtig hjælp i Borgerservice i dag, det var en god oplevelse.",
    )),
    ("complaint", 4, (
        "Skraldet er ikke blevet hentet på {street} i to uger.",
        "Cykelstien på {street} er fuld af huller. Hvornår bliver den lavet?",
        "Jeg har ventet tre uger på svar fra jer. Det er ikke godt nok.",
        "Der er ingen tider hos Borgerservice før om en måned. Hvad skal man gøre?",
        "Gadelyset på {street} har været slukket i en uge.",
        "Hvorfor er {venue} lukket igen? Det er tredje gang i år.",
        "Der mangler virkelig flere vuggestuepladser i {place}.",
    )),
    ("rude", 2, (
        "I er en flok idioter på Rådhuset.",
        "Sikke noget lort. Spild af vores skattekroner!!",
        "Hold kæft hvor er det ringe, har I overhovedet tænkt jer om?",
        "Fyr hele bundtet. Inkompetente klaphatte.",
        "Det her er det dummeste, jeg længe har læst 🤡",
    )),
    ("personal_data", 3, (
        "Mit CPR-nummer er {cpr}. Kan I tjekke, hvor langt min sag er?",
        "Kan nogen ringe til mig på {phone}? Det handler om min boligstøtte.",
        "Jeg bor på {address} og der er rotter i gården. Kan I sende nogen?",
        "Min datters cpr er {cpr}, hun mangler stadig sit sundhedskort.",
        "Skriv til mig på {email} eller ring {phone}, tak.",
        "Jeg har sendt min ansøgning med cpr {cpr} for en måned siden, hvad sker der?",
    )),
    ("english", 3, (
        "Hi! Is Borgerservice open on Saturdays?",
        "How do I get a CPR number as a new resident in Copenhagen?",
        "Lovely event, thank you Copenhagen! 🎉",
        "Is there an English version of this information?",
        "Where can I renew my residence card?",
    )),
    ("emoji", 2, ("😍😍😍", "👍", "❤️❤️", "🙌🇩🇰", "👏👏👏 Fedt!", "🤔")),
)

REPLIES_TO_CITIZENS = (
    "Enig!",
    "Det har jeg også oplevet.",
    "Prøv at ringe til Borgerservice på 3366 3366, de hjalp mig.",
    "Nej, det passer ikke. Læs lige opslaget igen.",
    "Samme her i {place} 😕",
    "Same question here!",
)
REPLIES_TO_ACCOUNT = (
    "Tak for svaret! 🙏",
    "Det svarer slet ikke på mit spørgsmål.",
    "Super, tak for hurtigt svar.",
    "Okay, men hvornår får jeg så besked?",
    "Thanks for the quick answer!",
    "Jeg har ringet, men ingen tager telefonen. Mit nummer er {phone}.",
)
MENTIONS = (
    "@{handle} hvornår åbner havnebadet igen?",
    "Hey @{handle}, hvorfor er cykelstien på {street} stadig spærret?",
    "Tak til @{handle} for en skøn kulturnat 🎭",
    "@{handle} der ligger storskrald på {street} igen.",
    "@{handle} is the library in {place} open on Sundays?",
    "@{handle} mit CPR-nummer er {cpr}, kan I se min sag?",
)
MESSAGES = (
    "Hej, jeg har et spørgsmål om min boligstøtte. Mit cpr-nummer er {cpr}.",
    "Hej Københavns Kommune. Hvordan klager jeg over en afgørelse?",
    "Jeg kan ikke logge ind med MitID på jeres side. Kan I hjælpe? Ring {phone}.",
    "Hi, I just moved to {place}. How do I register with a doctor?",
    "Hvorfor har I ikke svaret på min mail? Jeg bor på {address}.",
    "Tak for hjælpen i går 😊",
)
HASHTAG_POSTS = (
    "Dejlig aften på {place} #voreskbh",
    "{venue} er bare det bedste sted i byen #voreskbh #{campaign}",
    "Copenhagen in autumn 🍂 #voreskbh",
    "Morgendukkert i {venue} før arbejde 🌊 #voreskbh #{campaign}",
    "Så er der kulturnat! Vi ses på {venue} #{campaign}",
    "Hvorfor tager det tre uger at få et pas i København? #voreskbh",
    "Bibliotekerne i {place} er undervurderede #{campaign} #voreskbh",
)

CPR_EXAMPLES = ("010190-1234", "120315-4321", "311285-2468", "050578-1357")


@dataclass(frozen=True)
class Citizen:
    name: str
    author_id: str
    english: bool = False


def citizen(rng: random.Random, *, english: bool = False) -> Citizen:
    if english:
        name = rng.choice(ENGLISH_NAMES)
    else:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    digest = hashlib.sha256(name.encode()).hexdigest()
    # A stable id per name, numeric so every network's id style can use it.
    return Citizen(name=name, author_id=str(int(digest[:12], 16)), english=english)


def personal_details(rng: random.Random) -> dict[str, str]:
    if rng.random() < 0.5:
        cpr = rng.choice(CPR_EXAMPLES)
    else:
        cpr = (f"{rng.randint(1, 28):02d}{rng.randint(1, 12):02d}"
               f"{rng.randint(40, 99):02d}-{rng.randint(1000, 9999)}")
    phone = " ".join(f"{rng.randint(20, 99)}" for _ in range(4))
    address = (f"{rng.choice(STREETS)} {rng.randint(1, 180)}, "
               f"{rng.randint(1, 5)}. {rng.choice(['tv', 'th', 'mf'])}, "
               f"{rng.choice(POSTCODES)}")
    first = rng.choice(FIRST_NAMES).lower()
    email = f"{first}.{rng.choice(LAST_NAMES).lower()}@example.dk"
    return {"cpr": cpr, "phone": phone, "address": address,
            "email": email.replace("ø", "oe")}


def fill(template: str, rng: random.Random, **extra: str) -> str:
    values = {
        "place": rng.choice(PLACES),
        "venue": rng.choice(VENUES),
        "street": rng.choice(STREETS),
        "month": rng.choice(MONTHS),
        **personal_details(rng),
        **extra,
    }
    return template.format(**values)


def pick_comment(rng: random.Random) -> tuple[str, str]:
    categories = [c for c, _, _ in COMMENTS]
    weights = [w for _, w, _ in COMMENTS]
    category = rng.choices(categories, weights=weights)[0]
    templates = next(t for c, _, t in COMMENTS if c == category)
    return category, rng.choice(templates)


# -- where ----------------------------------------------------------------------


def own_posts(ctx, network: str, account_id: str) -> list:
    return [
        p for p in ctx.store.list_items(network, account_id=account_id, kind="post",
                                        limit=50)
        if p.author_id in (account_id, "")
    ]


def age_hours(ctx, moment: datetime) -> float:
    return max(0.0, (ctx.now() - moment).total_seconds() / 3600)


def pick_recent(rng: random.Random, ctx, posts: list):
    weights = [math.exp(-age_hours(ctx, p.created_at) / 24) + 0.02 for p in posts]
    return rng.choices(posts, weights=weights)[0]


def targets(ctx, networks) -> dict[str, list]:
    """Each mounted network's accounts that own posts, with their posts."""
    found: dict[str, list] = {}
    for network in networks:
        for account in ctx.store.list_accounts(network):
            posts = own_posts(ctx, network, account.account_id)
            if posts:
                found.setdefault(network, []).append((account, posts))
    return found


# -- the tick -------------------------------------------------------------------


def tick(ctx, *, seed: int | None = None, actions: int | None = None,
         networks: list[str] | None = None, grow: bool = True,
         hashtag_posts: bool = True, hashtags: list[str] | None = None,
         hours: float | None = None, webhooks: bool = True, **_ignored) -> dict:
    """One round of citizen activity; returns what was created and grown.

    Without ``actions``/``hours``: on a scheduled sandbox the tick covers its
    interval (about one citizen item a minute, growth for that long);
    otherwise ``DEFAULT_ACTIONS`` items and one hour of growth.
    """
    rng = random.Random(seed) if seed is not None else ctx.rng
    every = float(getattr(ctx.config, "citizens_every", 0) or 0)
    if hours is None:
        hours = every / 3600 if every > 0 else 1.0
    if actions is None:
        actions = (stochastic_round(rng, ACTIONS_PER_HOUR * hours) if every > 0
                   else DEFAULT_ACTIONS)
    mounted = [n for n in (networks or sorted(ctx.networks)) if n in ctx.networks]
    campaign_tags = list(hashtags or ctx.store.kv_get("_sandbox", "campaign_hashtags")
                         or DEFAULT_HASHTAGS)
    created: list[dict] = []
    failed = 0
    owners = targets(ctx, mounted)
    for _ in range(max(0, int(actions))):
        action = rng.choices(
            ("comment", "reply", "mention", "message", "hashtag_post"),
            weights=(10, 4, 2, 2, 3 if hashtag_posts else 0),
        )[0]
        try:
            made = ACTIONS[action](ctx, rng, mounted, owners, campaign_tags)
        except Exception:
            logger.exception("citizen %s failed", action)
            failed += 1
            continue
        if made is None:
            continue
        item, category = made
        created.append({
            "network": item.network, "kind": item.kind, "item_id": item.item_id,
            "account_id": item.account_id, "parent_id": item.parent_id,
            "author_name": item.author_name, "text": item.text,
            "category": category,
        })
        if webhooks:
            send_meta_webhook(ctx, item)
    grown = grow_everything(ctx, rng, mounted, hours=hours) if grow else {}
    return {"created": len(created), "failed": failed, "items": created, **grown}


def add(ctx, network: str, *, kind: str, account_id: str, text: str,
        who: Citizen, parent_id: str = ""):
    return ctx.add_citizen_item(
        network, kind=kind, account_id=account_id, text=text, parent_id=parent_id,
        author_id=who.author_id, author_name=who.name,
    )


def do_comment(ctx, rng, mounted, owners, tags):
    if not owners:
        return None
    network = rng.choice(sorted(owners))
    account, posts = rng.choice(owners[network])
    post = pick_recent(rng, ctx, posts)
    category, template = pick_comment(rng)
    who = citizen(rng, english=category == "english")
    text = fill(template, rng)
    item = add(ctx, network, kind="comment", account_id=account.account_id,
               text=text, who=who, parent_id=post.item_id)
    return item, category


def do_reply(ctx, rng, mounted, owners, tags):
    if not owners:
        return None
    network = rng.choice(sorted(owners))
    account, posts = rng.choice(owners[network])
    post = pick_recent(rng, ctx, posts)
    thread = [
        c for c in ctx.store.list_items(network, root_id=post.item_id,
                                        kind=("comment", "reply"), limit=30)
        if not c.hidden
    ]
    if not thread:
        return do_comment(ctx, rng, mounted, owners, tags)
    parent = rng.choice(thread)
    by_account = parent.author_id == account.account_id
    pool = REPLIES_TO_ACCOUNT if by_account else REPLIES_TO_CITIZENS
    text = fill(rng.choice(pool), rng)
    who = citizen(rng, english=text.startswith(("Same", "Thanks")))
    item = add(ctx, network, kind="reply", account_id=account.account_id,
               text=text, who=who, parent_id=parent.item_id)
    return item, "reply_to_account" if by_account else "reply"


def do_mention(ctx, rng, mounted, owners, tags):
    choices = [(n, a) for n in mounted if n in MENTION_NETWORKS
               for a in ctx.store.list_accounts(n)]
    if not choices:
        return None
    network, account = rng.choice(choices)
    text = fill(rng.choice(MENTIONS), rng, handle=account.handle)
    who = citizen(rng, english="is the library" in text)
    item = add(ctx, network, kind="mention", account_id=account.account_id,
               text=text, who=who, parent_id=under_mention(ctx, rng, network,
                                                           account))
    return item, "mention"


def under_mention(ctx, rng, network: str, account) -> str:
    """On Instagram, now and then a mention in a comment under a citizen's
    media that named the account already (its caption): the media's id, or
    "" for a mention in a caption of its own."""
    if network != "instagram" or rng.random() >= 0.3:
        return ""
    media = [m for m in ctx.store.list_items(network, account_id=account.account_id,
                                             kind="mention", limit=20)
             if (m.data or {}).get("in") != "comment"]
    return rng.choice(media).item_id if media else ""


def do_message(ctx, rng, mounted, owners, tags):
    choices = [(n, a) for n in mounted if n in MESSAGE_NETWORKS
               for a in ctx.store.list_accounts(n)]
    if not choices:
        return None
    network, account = rng.choice(choices)
    text = fill(rng.choice(MESSAGES), rng)
    who = citizen(rng, english=text.startswith("Hi"))
    item = add(ctx, network, kind="message", account_id=account.account_id,
               text=text, who=who)
    return item, "message"


def do_hashtag_post(ctx, rng, mounted, owners, tags):
    choices = [n for n in mounted if n in HASHTAG_NETWORKS]
    if not choices:
        return None
    network = rng.choice(choices)
    campaign = rng.choice(tags) if tags else "voreskbh"
    text = fill(rng.choice(HASHTAG_POSTS), rng, campaign=campaign)
    who = citizen(rng, english=text.startswith("Copenhagen"))
    item = add(ctx, network, kind="post", account_id=f"citizen-{who.author_id}",
               text=text, who=who)
    return item, "hashtag_post"


ACTIONS = {
    "comment": do_comment,
    "reply": do_reply,
    "mention": do_mention,
    "message": do_message,
    "hashtag_post": do_hashtag_post,
}


# -- numbers --------------------------------------------------------------------


def stochastic_round(rng: random.Random, value: float) -> int:
    """``value`` rounded down or up at random, so small rates still add up."""
    whole = math.floor(value)
    return whole + (1 if rng.random() < value - whole else 0)


def post_growth(rng: random.Random, followers: int, age: float,
                hours: float) -> dict[str, int]:
    """Deltas for one post over ``hours``: views ≫ likes, decaying with age.

    A post reaches about a third of the followers in its first day; the hourly
    rate halves roughly every eight hours.
    """
    rate = max(followers, 200) * 0.3 / 12 * math.exp(-age / 12)
    views = int(rate * hours * rng.uniform(0.6, 1.4))
    if views <= 0:
        return {}
    return {
        "views": views,
        "reach": int(views * rng.uniform(0.6, 0.9)),
        "likes": int(views * rng.uniform(0.01, 0.04)),
        "shares": int(views * rng.uniform(0.001, 0.006)),
        "clicks": int(views * rng.uniform(0.004, 0.02)),
        "saves": int(views * rng.uniform(0.001, 0.008)),
    }


def grow_everything(ctx, rng: random.Random, networks, *, hours: float) -> dict:
    store = ctx.store
    posts_grown = 0
    followers: dict[str, int] = {}
    for network in networks:
        module = ctx.networks.get(network)
        hook = getattr(module, "citizen_metrics", None)
        for account in store.list_accounts(network):
            expected = (account.followers * rng.uniform(1e-5, 5e-5) + 0.2) * hours
            new = stochastic_round(rng, expected)
            if new:
                store.add_followers(network, account.account_id, new)
                followers[network] = followers.get(network, 0) + new
            for post in own_posts(ctx, network, account.account_id):
                deltas = post_growth(rng, account.followers,
                                     age_hours(ctx, post.created_at), hours)
                deltas = keep_proportions(ctx, post, deltas)
                if not deltas:
                    continue
                posts_grown += 1
                for name, value in deltas.items():
                    store.add_metric(network, post.item_id, name, value)
                if hook is not None:
                    hook(ctx, post, deltas)
    return {"posts_grown": posts_grown, "followers_added": followers}


def keep_proportions(ctx, post, deltas: dict[str, int]) -> dict[str, int]:
    """Top up so that views ≫ likes > comments also on small accounts, where
    the simulated comments would otherwise outnumber the likes."""
    current = ctx.store.metrics(post.network, post.item_id)
    comments = len(ctx.store.list_items(post.network, root_id=post.item_id,
                                        kind=("comment", "reply")))
    deltas = dict(deltas)
    likes = current.get("likes", 0) + deltas.get("likes", 0)
    if comments and likes <= comments:
        deltas["likes"] = deltas.get("likes", 0) + comments + 1 - likes
        likes = comments + 1
    views = current.get("views", 0) + deltas.get("views", 0)
    if views < 20 * likes:
        deltas["views"] = deltas.get("views", 0) + 20 * likes - views
        views = 20 * likes
    reach = current.get("reach", 0) + deltas.get("reach", 0)
    if reach > views:
        deltas["reach"] = max(0, views - current.get("reach", 0))
    return {k: v for k, v in deltas.items() if v > 0}


# -- Meta webhooks ---------------------------------------------------------------


def send_meta_webhook(ctx, item) -> int:
    """Signed Meta-style event for a citizen item on Facebook/Instagram/Threads,
    unless the network's module sends its own (``on_citizen_item``)."""
    module = ctx.networks.get(item.network)
    if item.network not in META_NETWORKS or module is None:
        return 0
    if hasattr(module, "on_citizen_item"):
        return 0
    payload = meta_payload(ctx, item)
    return ctx.webhooks.send(item.network, payload) if payload else 0


def meta_payload(ctx, item) -> dict | None:
    when = int(item.created_at.timestamp())
    sender = {"id": item.author_id, "name": item.author_name}
    if item.kind == "message":
        entry_messaging = [{
            "sender": {"id": item.author_id},
            "recipient": {"id": item.account_id},
            "timestamp": when * 1000,
            "message": {"mid": f"m_{item.item_id}", "text": item.text},
        }]
        obj = "page" if item.network == "facebook" else "instagram"
        return {"object": obj, "entry": [{"id": item.account_id, "time": when * 1000,
                                          "messaging": entry_messaging}]}
    if item.network == "facebook":
        if item.kind not in ("comment", "reply", "mention"):
            return None
        value = {
            "from": sender, "message": item.text, "created_time": when,
            "post_id": item.root_id or item.parent_id, "verb": "add",
        }
        if item.kind == "mention":
            value.update(item="post", post_id=item.item_id)
        else:
            value.update(item="comment", comment_id=item.item_id,
                         parent_id=item.parent_id)
        return {"object": "page", "entry": [{
            "id": item.account_id, "time": when,
            "changes": [{"field": "mention" if item.kind == "mention" else "feed",
                         "value": value}],
        }]}
    if item.network == "instagram":
        if item.kind == "mention":
            change = {"field": "mentions",
                      "value": {"media_id": item.item_id, "comment_id": ""}}
        elif item.kind in ("comment", "reply"):
            value = {"from": {"id": item.author_id, "username": username(item)},
                     "media": {"id": item.root_id or item.parent_id,
                               "media_product_type": "FEED"},
                     "id": item.item_id, "text": item.text}
            if item.kind == "reply":
                value["parent_id"] = item.parent_id
            change = {"field": "comments", "value": value}
        else:
            return None
        return {"object": "instagram",
                "entry": [{"id": item.account_id, "time": when, "changes": [change]}]}
    if item.network == "threads":
        if item.kind not in ("comment", "reply", "mention"):
            return None
        value = {
            "id": item.item_id, "username": username(item), "text": item.text,
            "media_type": "TEXT_POST",
            "timestamp": item.created_at.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        }
        if item.kind != "mention":
            value["replied_to"] = {"id": item.parent_id}
            value["root_post"] = {"id": item.root_id or item.parent_id,
                                  "owner_id": item.account_id}
        return {"app_id": "sandbox", "topic": "moderate",
                "target_id": item.account_id, "time": when,
                "subscription_id": "sandbox", "has_uid_field": False,
                "values": {"value": value,
                           "field": "mentions" if item.kind == "mention"
                           else "replies"}}
    return None


def username(item) -> str:
    return "".join(c for c in item.author_name.lower() if c.isalnum()) or "borger"
