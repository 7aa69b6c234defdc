"""Settings shared by every environment. Configuration comes from the
environment (12-factor); the defaults are safe for development only."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("KANAL_VAR_DIR", BASE_DIR / "var"))

DEVELOPMENT_SECRET_KEY = "kanal-development-only-not-secret"
SECRET_KEY = os.environ.get("KANAL_SECRET_KEY", DEVELOPMENT_SECRET_KEY)
DEBUG = False
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("KANAL_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",")
    if h.strip()
]

# A development vault key (Fernet, urlsafe base64 of 32 bytes). Production
# must set KANAL_VAULT_KEYS: comma-separated, newest first (rotation).
DEVELOPMENT_VAULT_KEY = "a2FuYWwtZGV2ZWxvcG1lbnQtdmF1bHQta2V5LTMyYiE="
KANAL_VAULT_KEYS = os.environ.get("KANAL_VAULT_KEYS", DEVELOPMENT_VAULT_KEY)

# The audit log's chain is keyed with a secret kept outside the database
# (kanal/core/models.py): comma-separated, newest first. New entries use the
# first; older keys stay listed to verify the entries they keyed. Production
# must set it (`kanal generate-audit-key`).
DEVELOPMENT_AUDIT_KEY = "kanal-development-audit-key-not-secret-0123456789"
KANAL_AUDIT_KEYS = os.environ.get("KANAL_AUDIT_KEYS", DEVELOPMENT_AUDIT_KEY)
# Signed checkpoints of the chain's head, one append-only file per day, written
# by the worker every KANAL_AUDIT_CHECKPOINT_SECONDS; keep them off the
# database's machine (kanal/core/checkpoints.py). Empty: no checkpoints.
KANAL_AUDIT_CHECKPOINT_DIR = os.environ.get(
    "KANAL_AUDIT_CHECKPOINT_DIR", str(VAR_DIR / "audit-checkpoints")
)
KANAL_AUDIT_CHECKPOINT_SECONDS = int(
    os.environ.get("KANAL_AUDIT_CHECKPOINT_SECONDS", "300")
)

# Where the network emulators listen (`kanal sandbox`).
KANAL_SANDBOX_URL = os.environ.get("KANAL_SANDBOX_URL", "http://127.0.0.1:8765")
KANAL_BASE_URL = os.environ.get("KANAL_BASE_URL", "http://127.0.0.1:8000")
# Sources (kanal/sources): the largest feed Kanal reads (unpacked), and how
# long one fetch may take in all.
KANAL_SOURCES_MAX_BYTES = int(
    os.environ.get("KANAL_SOURCES_MAX_BYTES", str(20 * 1024 * 1024))
)
KANAL_SOURCES_TIMEOUT_SECONDS = float(
    os.environ.get("KANAL_SOURCES_TIMEOUT_SECONDS", "15")
)
# Insights (kanal/insights): a background export and its file are deleted
# this many days after it was asked for.
KANAL_INSIGHTS_EXPORT_RETENTION_DAYS = int(
    os.environ.get("KANAL_INSIGHTS_EXPORT_RETENTION_DAYS", "7")
)
# Meta webhooks (kanal/inbox): the app secret that signs them and the token
# Kanal answers subscription checks with. Empty refuses every webhook; the
# sandbox's own secret is the default only where the sandbox is (dev, tests).
KANAL_META_APP_SECRET = os.environ.get("KANAL_META_APP_SECRET", "")
KANAL_META_VERIFY_TOKEN = os.environ.get("KANAL_META_VERIFY_TOKEN", "")
KANAL_WEBHOOK_MAX_BYTES = int(os.environ.get("KANAL_WEBHOOK_MAX_BYTES", "1048576"))
# Single sign-on: how far (seconds) Kanal's clock and an identity provider's
# may differ when an ID token's times are checked.
KANAL_SSO_LEEWAY = int(os.environ.get("KANAL_SSO_LEEWAY", "60"))
# Records: the folder the case system picks filed items up from (one PDF, one
# JSON of metadata and a receipt per item; kanal/records/filing.py).
KANAL_RECORDS_FILING_DIR = Path(
    os.environ.get("KANAL_RECORDS_FILING_DIR", VAR_DIR / "filing")
)
# The accessibility statement (tilgængelighedserklæring) shown at
# /tilgaengelighed/: a TOML file the organisation edits; the default is
# Kanal's own statement.
KANAL_ACCESSIBILITY_STATEMENT = Path(
    os.environ.get(
        "KANAL_ACCESSIBILITY_STATEMENT",
        BASE_DIR / "kanal" / "core" / "accessibility" / "statement.toml",
    )
)

# When the desk posts (Copenhagen time): times proposed for paused posts after
# a crisis fall within these hours.
KANAL_DESK_HOURS = os.environ.get("KANAL_DESK_HOURS", "07:00-22:00")

# No django.contrib.admin: it would be a second way in (its own login, no
# throttle, no second factor) and it writes users and authenticators around
# the actions and the audit log. Everything is managed in Kanal's own pages.
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_tasks",
    "django_tasks_db",
    "kanal.core",
    "kanal.organisations",
    "kanal.notifications",
    "kanal.channels",
    "kanal.planning",
    "kanal.publishing",
    "kanal.sources",
    "kanal.records",
    "kanal.insights",
    "kanal.inbox",
    "kanal.operations",
    "kanal.demo",
]

MIDDLEWARE = [
    # Request id (X-Request-ID) and latency, around everything else.
    "kanal.core.observability.RequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "kanal.core.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kanal.core.security.RefuseNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "kanal.organisations.middleware.MembershipMiddleware",
    "kanal.core.errors.ErrorPagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# The networks' signed webhooks (/webhooks/: machine-to-machine POSTs, no
# cookie, no user, the signature is the check) run through these alone
# (kanal/wsgi.py): the request id, log line and latency, the security
# headers and redirects, the NUL refusal, the language, the Host check and
# Kanal's error pages as everywhere; no static files, session, CSRF (the views are
# exempt), authentication, two-factor, membership or messages, which a
# webhook never uses but every request paid for.
KANAL_WEBHOOK_MIDDLEWARE = [
    "kanal.core.observability.RequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "kanal.core.security.SecurityHeadersMiddleware",
    "kanal.core.security.RefuseNulMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Refuses a Host not in ALLOWED_HOSTS (400), as on every other address.
    "django.middleware.common.CommonMiddleware",
    "kanal.core.errors.ErrorPagesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
#: Paths that take the webhook middleware (kanal/wsgi.py).
KANAL_WEBHOOK_PREFIX = "/webhooks/"

ROOT_URLCONF = "kanal.urls"
WSGI_APPLICATION = "kanal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "kanal" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "kanal.organisations.context_processors.membership",
                "kanal.publishing.context_processors.crisis",
            ],
        },
    },
]
# Every form draws its fields with errors tied to them (kanal/core/rendering.py).
FORM_RENDERER = "kanal.core.rendering.KanalFormRenderer"


def database_from_env(url: str) -> dict:
    # Connections are kept between requests, SQLite's too: opening the file
    # (the PRAGMAs) and closing it (the last connection's checkpoint of the
    # log) cost a webhook more than its INSERT. Safe with WAL: between
    # requests a connection holds no transaction, so it blocks neither the
    # worker's writes nor the automatic checkpoints.
    config = dj_database_url.parse(url, conn_max_age=60)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers and the worker proceed while one process writes;
        # IMMEDIATE takes the write lock at BEGIN so two writers queue on the
        # busy timeout instead of failing half-way through a transaction.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
            ),
        }
    return config


DATABASES = {
    "default": database_from_env(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'kanal.sqlite3'}")
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    # Shared between web and worker processes: the login throttle lives here.
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "kanal_cache",
    }
}

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": (
            "django.contrib.auth.password_validation."
            "UserAttributeSimilarityValidator"
        )
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "kanal.core.views.csrf_failure"

# Login throttling (kanal/organisations/throttle.py): failures within the
# window are counted per (address, account), per account and per address,
# each with its own limit; password-reset requests per e-mail and per address.
KANAL_LOGIN_MAX_FAILURES = int(os.environ.get("KANAL_LOGIN_MAX_FAILURES", "5"))
KANAL_LOGIN_MAX_ACCOUNT_FAILURES = int(
    os.environ.get("KANAL_LOGIN_MAX_ACCOUNT_FAILURES", "20")
)
KANAL_LOGIN_MAX_ADDRESS_FAILURES = int(
    os.environ.get("KANAL_LOGIN_MAX_ADDRESS_FAILURES", "100")
)
KANAL_LOGIN_WINDOW_SECONDS = int(os.environ.get("KANAL_LOGIN_WINDOW_SECONDS", "900"))
KANAL_PASSWORD_RESET_MAX_REQUESTS = int(
    os.environ.get("KANAL_PASSWORD_RESET_MAX_REQUESTS", "3")
)
KANAL_PASSWORD_RESET_MAX_ADDRESS_REQUESTS = int(
    os.environ.get("KANAL_PASSWORD_RESET_MAX_ADDRESS_REQUESTS", "20")
)
# Reverse proxies whose X-Forwarded-For is believed (addresses or networks,
# comma-separated, e.g. "10.0.0.5,10.1.0.0/24"). Empty: none, REMOTE_ADDR is
# the client.
KANAL_TRUSTED_PROXIES = os.environ.get("KANAL_TRUSTED_PROXIES", "")

LANGUAGE_CODE = "da"
LANGUAGES = [("da", _("Dansk")), ("en", _("Engelsk"))]
LOCALE_PATHS = [BASE_DIR / "kanal" / "locale"]
TIME_ZONE = "Europe/Copenhagen"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "kanal" / "static"]
STATIC_ROOT = Path(os.environ.get("KANAL_STATIC_ROOT", VAR_DIR / "static"))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("KANAL_MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Development and the demo write each e-mail to a file in var/mail/; set
# KANAL_EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend (and
# EMAIL_HOST etc.) in production.
EMAIL_BACKEND = os.environ.get(
    "KANAL_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = os.environ.get("KANAL_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("KANAL_EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("KANAL_FROM_EMAIL", "kanal@localhost")

# Logs: one line per record, JSON (KANAL_LOG_FORMAT=json, production's
# default) or plain text, with the request id, secrets blanked
# (kanal/core/observability.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact": {"()": "kanal.core.observability.RedactSecretsFilter"},
        "request_id": {"()": "kanal.core.observability.RequestIdFilter"},
    },
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] "
            "%(message)s"
        },
        "json": {"()": "kanal.core.observability.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": os.environ.get("KANAL_LOG_FORMAT", "plain"),
            "filters": ["request_id", "redact"],
        }
    },
    "loggers": {
        "kanal": {"handlers": ["console"], "level": "INFO"},
        "django": {"handlers": ["console"], "level": "WARNING"},
    },
}

# Prometheus metrics at /metrics (kanal/operations/metrics.py): with
# KANAL_METRICS_TOKEN set, only for "Authorization: Bearer <token>";
# without it, only for direct requests from this machine (loopback, no proxy).
KANAL_METRICS_TOKEN = os.environ.get("KANAL_METRICS_TOKEN", "")

# Uploads: the first handler counts the bytes of every uploaded file and stops
# keeping them past KANAL_MAX_UPLOAD_BYTES, so the view can refuse in Danish
# (kanal/planning/uploads.py). Default: the largest video Kanal accepts.
FILE_UPLOAD_HANDLERS = [
    "kanal.planning.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
KANAL_MAX_UPLOAD_BYTES = int(
    os.environ.get("KANAL_MAX_UPLOAD_BYTES", str(500 * 1024 * 1024))
)
# Each organisation's media library may hold this many bytes of uploads.
KANAL_MEDIA_QUOTA_BYTES = int(
    os.environ.get("KANAL_MEDIA_QUOTA_BYTES", str(20 * 1024**3))
)
# More API hosts a channel may use, beyond each network's real ones and the
# sandbox (kanal/channels/hosts.py): "network=host" pairs, comma-separated;
# "*" for every network; a host means https on 443, a full origin
# (http://127.0.0.1:9000) means exactly that.
# KANAL_API_HOSTS="mastodon=social.kk.dk,bluesky=pds.kk.dk"
KANAL_API_HOSTS: dict[str, list[str]] = {}
for _entry in os.environ.get("KANAL_API_HOSTS", "").split(","):
    _network, _sep, _host = _entry.strip().partition("=")
    if _sep and _network.strip() and _host.strip():
        KANAL_API_HOSTS.setdefault(_network.strip(), []).append(_host.strip())
