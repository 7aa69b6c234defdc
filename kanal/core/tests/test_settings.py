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


REAL_SECRET_KEY = "q7Vh2-Lw9zXc4Rt_8bNm3KpJ6sYd1GfAe5UoTiWx0QlZrCvBn3"
REAL_AUDIT_KEY = "Zr8kP3vX_q2LmW9tYc7NbJ4hG1sDf6AeUo5RiTx0QlKzCvBnMpEw"


def _real_env(**overrides):
    env = {
        "KANAL_SECRET_KEY": REAL_SECRET_KEY,
        "KANAL_VAULT_KEYS": Fernet.generate_key().decode(),
        "KANAL_AUDIT_KEYS": REAL_AUDIT_KEY,
        "KANAL_AUDIT_CHECKPOINT_DIR": "/srv/kanal-checkpoints",
        "DATABASE_URL": "postgresql://x@localhost/kanal",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def test_production_refuses_the_development_secret_key():
    result = _import_production(**_real_env(KANAL_SECRET_KEY=None))
    assert result.returncode != 0
    assert "KANAL_SECRET_KEY mangler" in result.stderr


@pytest.mark.parametrize(
    "secret",
    [
        "s" * 50,  # one letter
        "ab" * 40,  # two letters
        "kanal-development-only-not-secret" + "x" * 20,  # the dev key, padded
        "django-insecure-" + REAL_SECRET_KEY,
        REAL_SECRET_KEY[:40],  # too short for Django's own check (W009)
    ],
)
def test_production_refuses_a_weak_secret_key(secret):
    result = _import_production(**_real_env(KANAL_SECRET_KEY=secret))
    assert result.returncode != 0
    assert "for svag" in result.stderr


@pytest.mark.parametrize(
    "keys",
    [
        None,
        "a2FuYWwtZGV2ZWxvcG1lbnQtdmF1bHQta2V5LTMyYiE=",
        " a2FuYWwtZGV2ZWxvcG1lbnQtdmF1bHQta2V5LTMyYiE=",
        "{real}, a2FuYWwtZGV2ZWxvcG1lbnQtdmF1bHQta2V5LTMyYiE=",
        "{real},\ta2FuYWwtZGV2ZWxvcG1lbnQtdmF1bHQta2V5LTMyYiE=\n",
        "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=",  # 32 times "a"
        "ikke-en-nøgle",
    ],
)
def test_production_refuses_the_development_or_a_weak_vault_key(keys):
    if keys is not None:
        keys = keys.replace("{real}", Fernet.generate_key().decode())
        keys = keys.replace("\\t", "\t").replace("\\n", "\n")
    result = _import_production(**_real_env(KANAL_VAULT_KEYS=keys))
    assert result.returncode != 0
    assert "KANAL_VAULT_KEYS" in result.stderr


@pytest.mark.parametrize(
    "keys",
    [None, "kanal-development-audit-key-not-secret-0123456789", "k" * 64, "kort"],
)
def test_production_refuses_a_missing_or_weak_audit_key(keys):
    result = _import_production(**_real_env(KANAL_AUDIT_KEYS=keys))
    assert result.returncode != 0
    assert "KANAL_AUDIT_KEYS" in result.stderr


def test_production_refuses_to_run_without_a_checkpoint_directory():
    result = _import_production(**_real_env(KANAL_AUDIT_CHECKPOINT_DIR=" "))
    assert result.returncode != 0
    assert "KANAL_AUDIT_CHECKPOINT_DIR" in result.stderr


def test_production_starts_with_real_secrets():
    result = _import_production(**_real_env())
    assert result.returncode == 0, result.stderr


def test_check_deploy_is_clean_with_production_settings():
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KANAL_", "DATABASE_URL", "DJANGO_"))
    }
    env = {
        **clean,
        **_real_env(KANAL_ALLOWED_HOSTS="kanal.example.dk"),
        "DJANGO_SETTINGS_MODULE": "kanal.settings.production",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode_with_a_busy_timeout():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] == 20000
