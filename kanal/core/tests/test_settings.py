from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.db import connection

IMPORT_PRODUCTION = "import kanal.settings.production"


def _import_production(**env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KANAL_", "DATABASE_URL"))
    }
    return subprocess.run(
        [sys.executable, "-c", IMPORT_PRODUCTION],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_the_development_secret_key():
    result = _import_production(DATABASE_URL="postgresql://x@localhost/kanal")
    assert result.returncode != 0
    assert "KANAL_SECRET_KEY mangler eller er udviklingsnøglen" in result.stderr


def test_production_refuses_the_development_vault_key():
    result = _import_production(
        KANAL_SECRET_KEY="s" * 50, DATABASE_URL="postgresql://x@localhost/kanal"
    )
    assert result.returncode != 0
    assert "KANAL_VAULT_KEYS" in result.stderr


def test_production_starts_with_real_secrets():
    result = _import_production(
        KANAL_SECRET_KEY="s" * 50,
        KANAL_VAULT_KEYS=Fernet.generate_key().decode(),
        DATABASE_URL="postgresql://x@localhost/kanal",
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode_with_a_busy_timeout():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] == 20000
