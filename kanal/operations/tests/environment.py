"""The environment an operator gives Kanal in production (README,
"Configuration"), for tests and benchmarks that start the real processes."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet


def production_environment(tmp: Path, database_url: str) -> dict[str, str]:
    """``os.environ`` with ``kanal.settings.production``'s required settings:
    fresh keys, every directory under ``tmp``, HTTPS redirects off (the
    proxy's job; the processes are reached on loopback) and JSON logs."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kanal.settings.production",
        "DATABASE_URL": database_url,
        "KANAL_SECRET_KEY": secrets.token_urlsafe(50),
        "KANAL_VAULT_KEYS": Fernet.generate_key().decode(),
        "KANAL_AUDIT_KEYS": secrets.token_urlsafe(40),
        "KANAL_AUDIT_CHECKPOINT_DIR": str(tmp / "checkpoints"),
        "KANAL_ALLOWED_HOSTS": "127.0.0.1",
        "KANAL_SSL_REDIRECT": "0",
        "KANAL_VAR_DIR": str(tmp),
        "KANAL_STATIC_ROOT": str(tmp / "static"),
        "KANAL_MEDIA_ROOT": str(tmp / "media"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / "prometheus"),
        "KANAL_LOG_FORMAT": "json",
    }
    env.pop("KANAL_METRICS_TOKEN", None)
    return env
