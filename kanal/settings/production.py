"""Production. Refuses to start without real secrets."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    DEVELOPMENT_AUDIT_KEY,
    DEVELOPMENT_SECRET_KEY,
    DEVELOPMENT_VAULT_KEY,
    KANAL_AUDIT_KEYS,
    KANAL_VAULT_KEYS,
    SECRET_KEY,
)
from .guards import is_weak_fernet_key, is_weak_secret, split_keys

if (
    DEVELOPMENT_SECRET_KEY in SECRET_KEY
    or SECRET_KEY.startswith("django-insecure")
    or is_weak_secret(SECRET_KEY, min_length=50)
):
    raise ImproperlyConfigured(
        "KANAL_SECRET_KEY mangler, er udviklingsnøglen eller er for svag. Sæt en "
        'tilfældig nøgle på mindst 50 tegn i miljøet, fx fra `python -c "import '
        'secrets; print(secrets.token_urlsafe(50))"`, før Kanal startes i '
        "produktion."
    )
_vault_keys = split_keys(KANAL_VAULT_KEYS)
if not _vault_keys or any(
    DEVELOPMENT_VAULT_KEY in key or is_weak_fernet_key(key) for key in _vault_keys
):
    raise ImproperlyConfigured(
        "KANAL_VAULT_KEYS mangler, indeholder udviklingsnøglen eller en svag "
        "nøgle. Lav en nøgle med `kanal generate-vault-key` og sæt den i miljøet."
    )
_audit_keys = split_keys(KANAL_AUDIT_KEYS)
if (
    "KANAL_AUDIT_KEYS" not in os.environ
    or not _audit_keys
    or any(
        DEVELOPMENT_AUDIT_KEY in key or is_weak_secret(key, min_length=32)
        for key in _audit_keys
    )
):
    raise ImproperlyConfigured(
        "KANAL_AUDIT_KEYS mangler, er udviklingsnøglen eller er for svag. Lav en "
        "nøgle med `kanal generate-audit-key` og sæt den i miljøet (den holdes "
        "uden for databasen og nøgler revisionssporet)."
    )
if not os.environ.get("KANAL_AUDIT_CHECKPOINT_DIR", "").strip():
    raise ImproperlyConfigured(
        "KANAL_AUDIT_CHECKPOINT_DIR mangler. Angiv en mappe uden for databasen "
        "(helst på en anden disk eller maskine), hvor arbejderen skriver signerede "
        "checkpoints af revisionssporet."
    )
if "DATABASE_URL" not in os.environ:
    raise ImproperlyConfigured(
        "DATABASE_URL mangler. Produktion kører på PostgreSQL, fx "
        "postgresql://kanal@db.example/kanal."
    )


def _flag(name: str, default: str) -> bool:
    return os.environ.get(name, default).strip().lower() in {"1", "true", "yes", "on"}


DEBUG = False
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Plain HTTP is answered with a redirect to HTTPS (security.W008). Set
# KANAL_SSL_REDIRECT=0 only if the proxy in front already redirects.
SECURE_SSL_REDIRECT = _flag("KANAL_SSL_REDIRECT", "1")
SECURE_HSTS_SECONDS = 31536000
# Kanal's own host name has no subdomains that need plain HTTP (security.W005).
SECURE_HSTS_INCLUDE_SUBDOMAINS = _flag("KANAL_HSTS_INCLUDE_SUBDOMAINS", "1")
# The browsers' preload list is for a whole registrable domain (the
# municipality's, e.g. kk.dk), not for Kanal's host alone, and hard to leave:
# the domain's owner decides. Off unless KANAL_HSTS_PRELOAD=1; its warning
# (security.W021) is silenced while off, see the README.
SECURE_HSTS_PRELOAD = _flag("KANAL_HSTS_PRELOAD", "0")
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Logs as one JSON object per line unless KANAL_LOG_FORMAT=plain.
LOGGING["handlers"]["console"]["formatter"] = os.environ.get(  # noqa: F405
    "KANAL_LOG_FORMAT", "json"
)
# Health probes and Prometheus ask over plain HTTP on the machine itself
# (systemd, the proxy, a scraper on loopback): answered, not redirected.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
