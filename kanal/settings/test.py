"""The test suite. DATABASE_URL picks SQLite (default) or PostgreSQL."""

import os

from .base import *  # noqa: F403
from .base import VAR_DIR, database_from_env

DATABASES = {
    "default": database_from_env(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'test.sqlite3'}")
    )
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
LOGGING["loggers"]["kanal"]["level"] = "WARNING"  # noqa: F405
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

# No checkpoints of the audit chain (tests that check them point this at
# their own tmp_path), so worker tests leave no files behind.
KANAL_AUDIT_CHECKPOINT_DIR = ""

# One test database per test process, so parallel runs do not collide.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not ":memory:": tests then run with WAL and IMMEDIATE
    # transactions like production SQLite, and worker threads share it.
    DATABASES["default"]["TEST"] = {
        "NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")
    }
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_kanal_{os.getpid()}"}

# The sandbox signs its Meta webhooks with this secret (sandbox/core.py).
KANAL_META_APP_SECRET = os.environ.get("KANAL_META_APP_SECRET", "sandbox-app-secret")
KANAL_META_VERIFY_TOKEN = os.environ.get("KANAL_META_VERIFY_TOKEN", "sandbox-verify")
