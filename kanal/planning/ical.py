"""The plan as an iCalendar (RFC 5545) feed: text only, escaped."""

from __future__ import annotations

from datetime import UTC, timedelta

from django.urls import reverse
from django.utils import timezone


def escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> list[str]:
    """Lines of at most 75 octets, continued with a leading space."""
    out, current = [], ""
    for char in line:
        if len((current + char).encode()) > (75 if not out else 74):
            out.append(current)
            current = char
        else:
            current += char
    out.append(current)
    return [out[0]] + [" " + part for part in out[1:]]


def _stamp(value) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def render_feed(posts, membership, base_url: str) -> str:
    now = _stamp(timezone.now())
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Kanal//Planlægning//DA",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape('Kanal – ' + membership.organisation.name)}",
        "X-WR-TIMEZONE:Europe/Copenhagen",
    ]
    for post in posts:
        channels = ", ".join(
            v.channel.get_network_display() for v in post.variants.all()
        )
        url = base_url + reverse("planning:post_detail", args=[post.pk])
        description = (
            f"{post.get_status_display()} · {channels}\n\n{post.shared_text}\n\n{url}"
        )
        lines += [
            "BEGIN:VEVENT",
            f"UID:kanal-post-{post.pk}@{membership.organisation.slug}",
            f"DTSTAMP:{now}",
            f"DTSTART:{_stamp(post.planned_at)}",
            f"DTEND:{_stamp(post.planned_at + timedelta(minutes=15))}",
            f"SUMMARY:{escape(f'[{post.get_status_display()}] {post.title}')}",
            f"DESCRIPTION:{escape(description)}",
            f"URL:{url}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(part for line in lines for part in fold(line)) + "\r\n"
