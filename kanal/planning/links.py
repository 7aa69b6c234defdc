"""UTM parameters on the links of a post, per channel and campaign.

``tracked_content`` turns a variant's text and link into what is published:
every http(s) link to a tracked domain gets ``utm_source``, ``utm_medium`` and
``utm_campaign``. It is applied exactly once, when a variant is queued for
publishing (and in the editor's preview and count, so what is counted is what
goes out). A link that already carries UTM parameters is left as it is
(whoever put them there meant them), unless the rule says to replace them;
applying the rule to its own result changes nothing. The same link in the
text and in the link field becomes the same tracked link, so a network that
appends the link to the text finds it there and does not add it twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote_plus, urlencode, urlsplit, urlunsplit

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign")
# A URL in running text ends before white space or closing punctuation.
URL_IN_TEXT = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


@dataclass(frozen=True)
class Rule:
    """One channel's tracking, resolved from the organisation's settings."""

    source: str
    medium: str
    campaign: str
    domains: tuple[str, ...] = ()
    replace_existing: bool = False


def _domain_matches(host: str, domains) -> bool:
    host = host.lower().rstrip(".")
    if not domains:
        return True
    return any(host == d or host.endswith("." + d) for d in domains)


def normalise_domain(value: str) -> str:
    """``https://www.KK.dk/x`` → ``www.kk.dk``; ``kk.dk`` stays."""
    value = value.strip().lower()
    if "//" in value:
        value = urlsplit(value).hostname or ""
    return value.split("/", 1)[0].strip(".")


def track_url(url: str, rule: Rule) -> str:
    """``url`` with the rule's UTM parameters (idempotent)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return url
    if not _domain_matches(parts.hostname, rule.domains):
        return url
    # The query is kept as written; only the UTM parameters are added (or,
    # when the rule says so, replaced).
    segments = [seg for seg in parts.query.split("&") if seg]
    keys = {unquote_plus(seg.split("=", 1)[0]) for seg in segments}
    wanted = {
        "utm_source": rule.source,
        "utm_medium": rule.medium,
        "utm_campaign": rule.campaign,
    }
    wanted = {key: value for key, value in wanted.items() if value}
    if not wanted:
        return url
    if keys & set(UTM_KEYS):
        if not rule.replace_existing:
            return url
        segments = [
            seg
            for seg in segments
            if unquote_plus(seg.split("=", 1)[0]) not in UTM_KEYS
        ]
    query = "&".join([*segments, urlencode(wanted)])
    return urlunsplit(parts._replace(query=query))


def track_text(text: str, rule: Rule) -> str:
    return URL_IN_TEXT.sub(lambda m: track_url(m.group(0), rule), text)


def rule_for(channel, campaign=None) -> Rule | None:
    """The rule that applies to ``channel`` (its own, else the
    organisation's), or None when links are not tracked there."""
    from django.db.models import Q

    from .models import LinkTracking

    rows = {
        row.channel_id: row
        for row in LinkTracking.objects.filter(
            Q(channel_id=channel.pk) | Q(channel__isnull=True),
            organisation_id=channel.organisation_id,
        )
    }
    row = rows.get(channel.pk) or rows.get(None)
    if row is None or not row.enabled:
        return None
    campaign_name = campaign.tracking_name if campaign is not None else ""
    return Rule(
        source=row.source or channel.network,
        medium=row.medium,
        campaign=campaign_name or row.campaign_default,
        domains=tuple(normalise_domain(d) for d in row.domains if d.strip()),
        replace_existing=row.replace_existing,
    )


def tracked_content(channel, campaign, text: str, link: str) -> tuple[str, str]:
    """``(text, link)`` as published on ``channel``."""
    rule = rule_for(channel, campaign)
    if rule is None:
        return text, link
    return track_text(text, rule), track_url(link, rule) if link else link
