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

# Where the network emulators listen (`kanal sandbox`).
KANAL_SANDBOX_URL = os.environ.get("KANAL_SANDBOX_URL", "http://127.0.0.1:8765")
KANAL_BASE_URL = os.environ.get("KANAL_BASE_URL", "http://127.0.0.1:8000")
# When the desk posts (Copenhagen time): times proposed for paused posts after
# a crisis fall within these hours.
KANAL_DESK_HOURS = os.environ.get("KANAL_DESK_HOURS", "07:00-22:00")

INSTALLED_APPS = [
    "django.contrib.admin",
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
    "kanal.channels",
    "kanal.planning",
    "kanal.publishing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
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


def database_from_env(url: str) -> dict:
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
        config["CONN_MAX_AGE"] = 0
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

# Login throttling: this many failures for one username or one address within
# the window lock further attempts for the window.
KANAL_LOGIN_MAX_FAILURES = int(os.environ.get("KANAL_LOGIN_MAX_FAILURES", "5"))
KANAL_LOGIN_WINDOW_SECONDS = int(os.environ.get("KANAL_LOGIN_WINDOW_SECONDS", "900"))

LANGUAGE_CODE = "da"
LANGUAGES = [("da", _("Dansk")), ("en", _("Engelsk"))]
LOCALE_PATHS = [BASE_DIR / "kanal" / "locale"]
TIME_ZONE = "Europe/Copenhagen"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "kanal" / "static"]
STATIC_ROOT = VAR_DIR / "static"
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "kanal": {"handlers": ["console"], "level": "INFO"},
        "django": {"handlers": ["console"], "level": "WARNING"},
    },
}
