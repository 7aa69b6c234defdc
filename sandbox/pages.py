"""Citizen-view pages: the sandbox's accounts as a citizen would see them.

``render_index(ctx, request)`` lists the seven networks and their accounts;
``render_account(ctx, network, account, request)`` shows one account: name,
handle, followers, its posts newest first with text, images, time
(Europe/Copenhagen), numbers, and the comments and replies under each (hidden
ones marked as hidden). Plain server-rendered HTML with inline CSS that hints
at each network by colour and type, no logos and nothing fetched from outside.

Everything shown comes from citizens or editors and is untrusted: every value
is escaped, links keep only http(s) targets, and images load only from the
sandbox itself (other addresses become a labelled placeholder).
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from .networks import DISPLAY_NAMES, NETWORKS

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
MONTHS = ("jan.", "feb.", "mar.", "apr.", "maj", "jun.", "jul.", "aug.", "sep.",
          "okt.", "nov.", "dec.")
MAX_POSTS = 50
POST_KINDS = ("post", "repost", "reblog")
TOKENS = re.compile(
    r"(?P<url>https?://[^\s<>\"']+[^\s<>\"'.,;:!?)])|(?P<tag>(?<!\w)#\w+)"
)

LOOKS: dict[str, dict[str, str]] = {
    "facebook": {"accent": "#0b5fcc", "bar": "#0866ff", "bar_text": "#ffffff",
                 "bg": "#f0f2f5", "card": "#ffffff", "text": "#1c1e21",
                 "muted": "#5b6169", "font": "Helvetica, Arial, sans-serif",
                 "radius": "8px"},
    "instagram": {"accent": "#a3286e", "bar": "#ffffff", "bar_text": "#262626",
                  "bg": "#fafafa", "card": "#ffffff", "text": "#262626",
                  "muted": "#5e5e5e", "font": "system-ui, -apple-system, "
                  "'Segoe UI', Roboto, sans-serif", "radius": "4px",
                  "stripe": "linear-gradient(90deg,#f58529,#dd2a7b,#8134af,#515bd4)"},
    "x": {"accent": "#0b6bb0", "bar": "#000000", "bar_text": "#ffffff",
          "bg": "#ffffff", "card": "#ffffff", "text": "#0f1419", "muted": "#536471",
          "font": "-apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
          "radius": "0"},
    "mastodon": {"accent": "#a5a6ff", "bar": "#282c37", "bar_text": "#ecf0f3",
                 "bg": "#191b22", "card": "#282c37", "text": "#ecf0f3",
                 "muted": "#b0b8c8", "font": "Roboto, 'Segoe UI', sans-serif",
                 "radius": "6px"},
    "bluesky": {"accent": "#0060c7", "bar": "#ffffff", "bar_text": "#0b0f14",
                "bg": "#f1f3f5", "card": "#ffffff", "text": "#0b0f14",
                "muted": "#4f5b6a", "font": "InterVariable, system-ui, sans-serif",
                "radius": "10px"},
    "linkedin": {"accent": "#0a66c2", "bar": "#ffffff", "bar_text": "#191919",
                 "bg": "#f4f2ee", "card": "#ffffff", "text": "#191919",
                 "muted": "#595959", "font": "-apple-system, system-ui, 'Segoe UI', "
                 "Roboto, 'Helvetica Neue', sans-serif", "radius": "8px"},
    "threads": {"accent": "#0052a3", "bar": "#ffffff", "bar_text": "#000000",
                "bg": "#ffffff", "card": "#ffffff", "text": "#000000",
                "muted": "#5c5c5c", "font": "system-ui, -apple-system, "
                "'Helvetica Neue', sans-serif", "radius": "16px"},
}
DEFAULT_LOOK = LOOKS["bluesky"]

# Danish words per network for likes, shares and comments.
WORDS: dict[str, tuple[str, str, str]] = {
    "facebook": ("synes godt om", "delinger", "kommentarer"),
    "instagram": ("synes godt om", "delinger", "kommentarer"),
    "x": ("likes", "reposts", "svar"),
    "mastodon": ("favoritter", "boosts", "svar"),
    "bluesky": ("likes", "reposts", "svar"),
    "linkedin": ("reaktioner", "delinger", "kommentarer"),
    "threads": ("likes", "reposts", "svar"),
}
# The emulators' metric names, grouped (the largest present is shown).
VIEW_NAMES = ("views", "impressionCount", "post_media_view", "impressions",
              "views_count")
LIKE_NAMES = ("likes", "likeCount", "post_reactions_like_total", "like_count",
              "favourites_count", "likes_count")
SHARE_NAMES = ("shares", "shareCount", "reposts", "retweet_count", "reblogs_count",
               "repost_count")
ALT_KEYS = ("alt", "alt_text", "altText", "description", "alt_text_custom")
URL_KEYS = ("url", "image_url", "media_url", "preview_url", "downloadUrl", "src",
            "thumb", "fullsize")


def e(value) -> str:
    return html.escape(str(value), quote=True)


def number(value: int) -> str:
    return f"{int(value):,}".replace(",", ".")


SINGULAR = {"kommentarer": "kommentar", "delinger": "deling", "visninger": "visning",
            "reaktioner": "reaktion", "favoritter": "favorit", "følgere": "følger",
            "opslag": "opslag"}


def counted(value: int, word: str) -> str:
    """``<strong>1.234</strong> word`` with the Danish singular for one."""
    shown = SINGULAR.get(word, word) if int(value) == 1 else word
    return f"<strong>{number(value)}</strong> {e(shown)}"


def local_time(moment: datetime) -> str:
    here = moment.astimezone(COPENHAGEN)
    return (f"{here.day}. {MONTHS[here.month - 1]} {here.year} "
            f"kl. {here.hour:02d}.{here.minute:02d}")


def safe_link(url: str) -> str:
    """``url`` if it is an http(s) address, else ""."""
    url = str(url or "").strip()
    return url if urlsplit(url).scheme in ("http", "https") else ""


def loadable(ctx, url: str) -> str:
    """A src the browser may load without leaving this machine, else ""."""
    url = str(url or "").strip()
    if url.startswith("/") and not url.startswith("//"):
        return url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return ""
    own = urlsplit(ctx.config.base_url)
    if parts.hostname in ("127.0.0.1", "localhost", "::1", own.hostname):
        return url
    return ""


def rich_text(text: str) -> str:
    """Escaped text with line breaks, links and hashtags marked up."""
    out = []
    position = 0
    for match in TOKENS.finditer(text):
        out.append(e(text[position : match.start()]))
        if match.group("url"):
            url = e(match.group("url"))
            out.append(f'<a href="{url}" rel="nofollow noopener">{url}</a>')
        else:
            out.append(f'<span class="tag">{e(match.group("tag"))}</span>')
        position = match.end()
    out.append(e(text[position:]))
    return "".join(out).replace("\n", "<br>")


# -- reading a post's media, link and numbers from the generic store -------------


def post_media(ctx, network: str, item) -> list[dict]:
    module = ctx.networks.get(network)
    hook = getattr(module, "page_post", None)
    if hook is not None:
        shown = hook(ctx, item) or {}
        if "media" in shown:
            return list(shown["media"])
    data = item.data or {}
    found: list[dict] = []
    for entry in data.get("media") or []:
        if isinstance(entry, dict):
            # Each network names it its own way (X: alt_text, LinkedIn:
            # altText, Mastodon: description, Bluesky: alt).
            alt = next((str(entry[k]) for k in ALT_KEYS
                        if isinstance(entry.get(k), str) and entry.get(k)), "")
            found.append({"url": entry.get("url", ""), "alt": alt})
    for key in ("attached_media", "media_ids"):
        for ref in data.get(key) or []:
            media = ctx.store.get_item(network, str(ref)) if isinstance(
                ref, str | int) else None
            if media is not None:
                found.append(describe(media.data) or {"url": "", "alt": media.text})
    for entry in data.get("images") or []:
        if isinstance(entry, str):
            found.append({"url": entry, "alt": ""})
        elif isinstance(entry, dict):
            found.append(describe(entry) or {"url": "", "alt": ""})
    if not found:
        single = describe(data)
        if single:
            found.append(single)
        for child in data.get("children") or []:
            if isinstance(child, dict):
                described = describe(child)
                if described:
                    found.append(described)
    if not found:
        found.extend(walk_for_images(data))
    return found


def describe(data: dict) -> dict | None:
    url = next((str(data[k]) for k in URL_KEYS
                if isinstance(data.get(k), str) and data.get(k)), "")
    alt = next((str(data[k]) for k in ALT_KEYS
                if isinstance(data.get(k), str) and data.get(k)), "")
    if not url and not alt:
        return None
    if url and not alt and not looks_like_image(url, data):
        return None
    return {"url": url, "alt": alt}


def looks_like_image(url: str, data: dict) -> bool:
    mime = str(data.get("mime") or data.get("mime_type") or data.get("type") or "")
    return mime.startswith("image") or bool(
        re.search(r"\.(jpe?g|png|gif|webp)(\?|$)", url, re.I)
    )


def walk_for_images(data, depth: int = 0) -> list[dict]:
    """Image descriptors (a dict with an alt text) anywhere in ``data``."""
    if depth > 4:
        return []
    found = []
    if isinstance(data, dict):
        if any(k in data for k in ALT_KEYS) and depth:
            described = describe(data)
            if described:
                return [described]
        for value in data.values():
            found.extend(walk_for_images(value, depth + 1))
    elif isinstance(data, list):
        for value in data:
            found.extend(walk_for_images(value, depth + 1))
    return found


def post_link(ctx, network: str, item) -> str:
    module = ctx.networks.get(network)
    hook = getattr(module, "page_post", None)
    if hook is not None:
        shown = hook(ctx, item) or {}
        if "link" in shown:
            return safe_link(shown["link"])
    data = item.data or {}
    article = ((data.get("content") or {}).get("article") or {}) if isinstance(
        data.get("content"), dict) else {}
    for candidate in (data.get("link"), data.get("link_attachment"),
                      article.get("source")):
        if isinstance(candidate, str) and safe_link(candidate):
            return safe_link(candidate)
    return ""


def largest(values: dict[str, int], names) -> int | None:
    present = [values[n] for n in names if n in values]
    return max(present) if present else None


# -- HTML -------------------------------------------------------------------------


def page(title: str, look: dict[str, str], body: str, *, refresh: int = 0) -> str:
    meta_refresh = (f'<meta http-equiv="refresh" content="{int(refresh)}">'
                    if refresh > 0 else "")
    stripe = look.get("stripe", look["accent"])
    return f"""<!doctype html>
<html lang="da">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{meta_refresh}
<title>{e(title)}</title>
<style>
:root {{
  --accent: {look["accent"]}; --bar: {look["bar"]}; --bar-text: {look["bar_text"]};
  --bg: {look["bg"]}; --card: {look["card"]}; --text: {look["text"]};
  --muted: {look["muted"]}; --radius: {look["radius"]};
}}
* {{ box-sizing: border-box; }}
body {{ margin: 0; background: var(--bg); color: var(--text);
  font-family: {look["font"]}; font-size: 16px; line-height: 1.45; }}
a {{ color: var(--accent); }}
a:focus-visible, button:focus-visible {{ outline: 3px solid var(--accent);
  outline-offset: 2px; }}
header.bar {{ background: var(--bar); color: var(--bar-text);
  border-bottom: 4px solid transparent; border-image: {stripe} 1;
  padding: .75rem 1rem; display: flex; gap: 1rem; align-items: baseline;
  flex-wrap: wrap; }}
header.bar a {{ color: var(--bar-text); }}
header.bar .net {{ font-weight: 700; font-size: 1.1rem; }}
.sandbox-note {{ font-size: .85rem; }}
main {{ max-width: 40rem; margin: 0 auto; padding: 1rem; }}
.card {{ background: var(--card); border-radius: var(--radius);
  border: 1px solid rgba(127,127,127,.35); padding: 1rem; margin: 0 0 1rem; }}
.profile h1 {{ margin: 0 0 .25rem; font-size: 1.5rem; }}
.muted, .meta {{ color: var(--muted); font-size: .9rem; }}
.tag {{ color: var(--accent); font-weight: 600; }}
.text {{ margin: .5rem 0; overflow-wrap: anywhere; }}
figure {{ margin: .5rem 0; }}
figure img {{ max-width: 100%; height: auto; border-radius: var(--radius);
  display: block; }}
.images {{ display: grid; gap: .25rem;
  grid-template-columns: repeat(auto-fill, minmax(9rem, 1fr)); }}
.placeholder {{ border: 1px dashed var(--muted); border-radius: var(--radius);
  padding: 1rem; color: var(--muted); font-size: .9rem; }}
figcaption {{ font-size: .8rem; color: var(--muted); }}
.linkcard {{ display: block; border: 1px solid rgba(127,127,127,.45);
  border-radius: var(--radius); padding: .5rem .75rem; margin: .5rem 0;
  overflow-wrap: anywhere; }}
.numbers {{ display: flex; gap: 1rem; flex-wrap: wrap; margin: .5rem 0 0;
  padding: .5rem 0 0; border-top: 1px solid rgba(127,127,127,.35);
  font-size: .9rem; color: var(--muted); list-style: none; }}
.numbers strong {{ color: var(--text); }}
.comments {{ list-style: none; margin: .75rem 0 0; padding: 0; }}
.comments .comments {{ margin-left: 1.5rem; }}
.comment {{ margin: .5rem 0; padding: .5rem .75rem; border-radius: var(--radius);
  background: rgba(127,127,127,.12); }}
.comment .who {{ font-weight: 700; }}
.comment.own {{ border-left: 4px solid var(--accent); }}
.comment.hidden {{ opacity: .85; border: 1px dashed var(--muted);
  background: transparent; }}
.badge {{ display: inline-block; font-size: .75rem; font-weight: 700;
  padding: 0 .4rem; border-radius: 4px; border: 1px solid currentColor;
  margin-left: .35rem; }}
.networks {{ list-style: none; padding: 0; }}
pre, code {{ white-space: pre-wrap; overflow-wrap: anywhere; }}
.networks > li {{ margin: 0 0 1rem; }}
</style>
</head>
<body>
{body}
</body>
</html>
"""


def render_index(ctx, request=None) -> str:
    rows = []
    for slug in NETWORKS:
        name = DISPLAY_NAMES.get(slug, slug)
        look = LOOKS.get(slug, DEFAULT_LOOK)
        colour = look["accent"] if look["bar"] == "#ffffff" else look["bar"]
        swatch = (f'<span aria-hidden="true" style="display:inline-block;'
                  f'width:.9rem;height:.9rem;border-radius:50%;background:{colour};'
                  f'border:1px solid #767676;margin-right:.4rem"></span>')
        if slug not in ctx.networks:
            rows.append(f'<li class="card">{swatch}<strong>{e(name)}</strong> '
                        '<span class="muted">(ikke installeret i øvebanen endnu)'
                        "</span></li>")
            continue
        accounts = ctx.store.list_accounts(slug)
        links = "".join(
            f'<li><a href="/_sandbox/page/{e(slug)}/{e(quote(a.account_id, safe=""))}">'
            f"{e(a.display_name)}</a> <span class=\"muted\">{handle(slug, a.handle)}"
            f" · {number(a.followers)} følgere · "
            f"{len(ctx.store.list_items(slug, account_id=a.account_id, kind='post'))}"
            " opslag</span></li>"
            for a in accounts[:50]
        ) or '<li class="muted">Ingen konti endnu.</li>'
        rows.append(
            f'<li class="card">{swatch}<strong>{e(name)}</strong> '
            f'<span class="muted">API under <code>/{e(slug)}</code></span>'
            f"<ul>{links}</ul></li>"
        )
    body = (
        '<header class="bar"><span class="net">Kanal øvebane</span>'
        '<span class="sandbox-note">Lokale udgaver af de sociale netværk. Intet '
        "her når ud på internettet.</span></header><main>"
        "<h1>Netværk og konti</h1>"
        f'<ul class="networks">{"".join(rows)}</ul>'
        '<p class="muted">Styring: <a href="/_sandbox/styring">styring af '
        'øvebanen</a> (fejl, ur, borgere; API under <code>/_sandbox/</code>). '
        "Borgere skriver, når øvebanen kører med <code>--citizens-every</code>, "
        "eller ved <code>POST /_sandbox/citizens/tick</code>.</p></main>"
    )
    return page("Kanal øvebane", LOOKS["bluesky"] | {"bar": "#1f2a37",
                                                     "bar_text": "#ffffff"}, body)


def render_control(status: dict, endpoints: list[tuple[str, list[str]]]) -> str:
    """The control API as a page for people: what it offers and its state."""
    rows = "".join(
        f"<li><code>{e(' '.join(methods))} {e(path)}</code></li>"
        for path, methods in endpoints
    )
    body = (
        '<header class="bar"><span class="net">Kanal øvebane</span>'
        '<a class="sandbox-note" href="/">Alle netværk</a></header><main>'
        "<h1>Styring af øvebanen</h1>"
        "<p>Øvebanen styres med JSON over HTTP fra denne maskine (kun "
        "loopback): læg fejl ind, stil uret, lad borgere skrive. Se "
        "<code>sandbox/README.md</code> og <code>python -m sandbox --help</code>."
        "</p><h2>Adresser</h2>"
        f'<ul class="card">{rows}</ul>'
        "<h2>Tilstand nu</h2>"
        f'<pre class="card">{e(json.dumps(status, ensure_ascii=False, indent=2))}</pre>'
        "</main>"
    )
    return page("Styring af øvebanen · Kanal øvebane",
                LOOKS["bluesky"] | {"bar": "#1f2a37", "bar_text": "#ffffff"}, body)


def handle(network: str, value: str) -> str:
    if not value:
        return ""
    if network in ("facebook", "linkedin"):
        return e(f"/{value}")
    return e(value if value.startswith("@") else f"@{value}")


def render_account(ctx, network: str, account, request=None) -> str:
    look = LOOKS.get(network, DEFAULT_LOOK)
    refresh = 0
    if request is not None:
        try:
            refresh = max(0, min(3600, int(request.query_params.get("refresh", 0))))
        except ValueError:
            refresh = 0
    posts = [
        p for p in ctx.store.list_items(network, account_id=account.account_id,
                                        kind=POST_KINDS, limit=MAX_POSTS)
        if p.author_id in (account.account_id, "")
    ]
    posts.sort(key=lambda p: not (p.data or {}).get("pinned"))
    name = DISPLAY_NAMES.get(network, network)
    profile = (
        f'<section class="card profile" aria-label="Profil">'
        f"<h1>{e(account.display_name)}</h1>"
        f'<div class="muted">{handle(network, account.handle)}</div>'
        f"<p>{counted(account.followers, 'følgere')} · "
        f"{counted(len(posts), 'opslag')}</p></section>"
    )
    shown = "".join(render_post(ctx, network, account, p) for p in posts) or (
        '<p class="card muted">Kontoen har ingen opslag endnu.</p>'
    )
    body = (
        f'<header class="bar"><span class="net">{e(name)}</span>'
        '<a class="sandbox-note" href="/">Kanal øvebane: alle netværk</a>'
        '<span class="sandbox-note">Sådan ser borgerne kontoen. Tider i dansk '
        "tid.</span></header>"
        f"<main>{profile}<h2>Opslag</h2>{shown}</main>"
    )
    return page(f"{account.display_name} på {name} (øvebane)", look, body,
                refresh=refresh)


def render_post(ctx, network: str, account, post) -> str:
    likes_word, shares_word, comments_word = WORDS.get(
        network, ("likes", "delinger", "kommentarer"))
    thread = thread_of(ctx, network, post)
    visible_comments = sum(1 for c in thread.values() for i in c if not i.hidden)
    values = ctx.store.metrics(network, post.item_id)
    numbers = []
    views = largest(values, VIEW_NAMES)
    if views is not None:
        numbers.append(f"<li>{counted(views, 'visninger')}</li>")
    likes = largest(values, LIKE_NAMES)
    if likes is not None:
        numbers.append(f"<li>{counted(likes, likes_word)}</li>")
    shares = largest(values, SHARE_NAMES)
    if shares is not None:
        numbers.append(f"<li>{counted(shares, shares_word)}</li>")
    numbers.append(f"<li>{counted(visible_comments, comments_word)}</li>")
    media = render_media(ctx, post_media(ctx, network, post))
    link = post_link(ctx, network, post)
    link_html = (f'<a class="linkcard" href="{e(link)}" rel="nofollow noopener">'
                 f"{e(link)}</a>" if link else "")
    reshare = (post.data or {}).get("reshareContext") or {}
    reshare_html = (f'<p class="muted">Deler et andet opslag '
                    f'({e(reshare.get("parent", ""))})</p>' if reshare else "")
    comments = render_comments(ctx, network, account, thread, post.item_id)
    return (
        f'<article class="card post" id="{e(post.item_id)}">'
        f'<div class="meta">'
        f'{"Fastgjort · " if (post.data or {}).get("pinned") else ""}'
        f'<time datetime="{e(post.created_at.isoformat())}">'
        f"{e(local_time(post.created_at))}</time></div>"
        f'<div class="text">{rich_text(post.text)}</div>'
        f"{reshare_html}{media}{link_html}"
        f'<ul class="numbers" aria-label="Tal">{"".join(numbers)}</ul>'
        f"{comments}</article>"
    )


def render_media(ctx, media: list[dict]) -> str:
    if not media:
        return ""
    figures = []
    for entry in media:
        alt = str(entry.get("alt") or "")
        src = loadable(ctx, entry.get("url", ""))
        if src:
            figures.append(
                f'<figure><img src="{e(src)}" alt="{e(alt)}" loading="lazy">'
                + (f"<figcaption>Alt-tekst: {e(alt)}</figcaption>" if alt else
                   '<figcaption>Billedet mangler alt-tekst</figcaption>')
                + "</figure>"
            )
        else:
            figures.append(
                f'<figure><div class="placeholder">Billede'
                f'{": " + e(alt) if alt else " uden alt-tekst"}</div></figure>'
            )
    css = "images" if len(figures) > 1 else ""
    return f'<div class="{css}">{"".join(figures)}</div>'


def thread_of(ctx, network: str, post) -> dict[str, list]:
    """Comments and replies under ``post``, by parent id, oldest first."""
    seen: dict[str, object] = {}
    for item in ctx.store.list_items(network, root_id=post.item_id,
                                     newest_first=False):
        seen[item.item_id] = item
    for item in ctx.store.list_items(network, parent_id=post.item_id,
                                     newest_first=False):
        seen.setdefault(item.item_id, item)
    by_parent: dict[str, list] = {}
    for item in sorted(seen.values(), key=lambda i: i.seq):
        if item.kind not in ("comment", "reply"):
            continue
        by_parent.setdefault(item.parent_id or post.item_id, []).append(item)
    return by_parent


def render_comments(ctx, network: str, account, thread: dict[str, list],
                    parent_id: str, depth: int = 0) -> str:
    children = thread.get(parent_id) or []
    if not children or depth > 6:
        return ""
    parts = []
    for item in children:
        own = item.author_id in (account.account_id, f"urn:li:organization:"
                                 f"{account.account_id}")
        classes = "comment" + (" own" if own else "") + (
            " hidden" if item.hidden else "")
        badges = ""
        if own:
            badges += '<span class="badge">Svar fra kontoen</span>'
        if item.hidden:
            badges += '<span class="badge">Skjult af kontoen</span>'
        text = rich_text(item.text)
        if item.hidden:
            text = (f"<details><summary>Skjult kommentar (kun forfatteren og "
                    f"kontoen ser den)</summary>{text}</details>")
        parts.append(
            f'<li class="{classes}" id="{e(item.item_id)}">'
            f'<span class="who">{e(item.author_name or "Ukendt")}</span>{badges} '
            f'<span class="meta"><time datetime="{e(item.created_at.isoformat())}">'
            f"{e(local_time(item.created_at))}</time></span>"
            f'<div class="text">{text}</div>'
            f"{render_comments(ctx, network, account, thread, item.item_id, depth + 1)}"
            "</li>"
        )
    label = "Kommentarer" if depth == 0 else "Svar"
    return f'<ul class="comments" aria-label="{label}">{"".join(parts)}</ul>'
