"""Production. Refuses to start without real secrets."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    DEVELOPMENT_SECRET_KEY,
    DEVELOPMENT_VAULT_KEY,
    KANAL_VAULT_KEYS,
    SECRET_KEY,
)

if SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 32:
    raise ImproperlyConfigured(
        "KANAL_SECRET_KEY mangler eller er udviklingsnøglen. Sæt en tilfældig "
        "nøgle på mindst 32 tegn i miljøet, før Kanal startes i produktion."
    )
if DEVELOPMENT_VAULT_KEY in KANAL_VAULT_KEYS.split(","):
    raise ImproperlyConfigured(
        "KANAL_VAULT_KEYS mangler eller indeholder udviklingsnøglen. Lav en "
        "nøgle med `kanal generate-vault-key` og sæt den i miljøet."
    )
if "DATABASE_URL" not in os.environ:
    raise ImproperlyConfigured(
        "DATABASE_URL mangler. Produktion kører på PostgreSQL, fx "
        "postgresql://kanal@db.example/kanal."
    )

DEBUG = False
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 31536000
SECURE_CONTENT_TYPE_NOSNIFF = True
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
