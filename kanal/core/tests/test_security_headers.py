from __future__ import annotations

from django.http import HttpResponse
from django.test import RequestFactory

from kanal.core.security import SecurityHeadersMiddleware
from kanal.core.tests.headers import assert_security_headers


def test_error_pages_and_static_files_carry_the_policy(client, db):
    for path in ("/findes-ikke/", "/static/kanal/kanal.css", "/konto/log-ind/"):
        assert_security_headers(client.get(path))


def test_a_view_with_its_own_policy_keeps_it():
    """The media view serves uploads with ``sandbox``: not overwritten."""

    def view(request):
        response = HttpResponse("x")
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response

    response = SecurityHeadersMiddleware(view)(RequestFactory().get("/media/x"))
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "camera=()" in response["Permissions-Policy"]


def test_no_template_has_inline_script_style_or_handlers():
    """The policy blocks them, so they would silently not work."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|<style\b|"
        r"javascript:|\shx-on",
        re.IGNORECASE,
    )
    offenders = []
    for path in root.rglob("templates/**/*.html"):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if inline.search(line):
                offenders.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert offenders == []
