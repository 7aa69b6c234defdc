"""What every response of Kanal must carry (used by the access matrices)."""

from __future__ import annotations

REQUIRED_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def csp_directives(header: str) -> dict[str, str]:
    directives = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            directives[name] = value.strip()
    return directives


def assert_security_headers(response) -> None:
    """A strict Content-Security-Policy (no inline script or style, no
    framing, no plugins, no foreign base or form targets) and a
    Permissions-Policy that turns off camera, microphone and location."""
    policy = response.get("Content-Security-Policy")
    assert policy, f"{response.request['PATH_INFO']}: no Content-Security-Policy"
    directives = csp_directives(policy)
    for name, value in REQUIRED_CSP.items():
        assert directives.get(name) == value, (
            f"{response.request['PATH_INFO']}: {name} is {directives.get(name)!r}"
        )
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    permissions = response.get("Permissions-Policy", "")
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in permissions, response.request["PATH_INFO"]
