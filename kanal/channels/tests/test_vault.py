from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.checks import run_checks
from django.core.management import CommandError, call_command

from kanal.channels import vault
from kanal.channels.tests.factories import ChannelFactory


@pytest.fixture
def fresh_keys(settings):
    def use(*keys):
        settings.KANAL_VAULT_KEYS = ",".join(keys)
        vault._fernet_for.cache_clear()

    yield use
    vault._fernet_for.cache_clear()


def test_round_trip_and_tampering_is_detected(fresh_keys):
    fresh_keys(Fernet.generate_key().decode())
    token = vault.encrypt({"access_token": "abc"})
    assert "abc" not in token
    assert vault.decrypt(token) == {"access_token": "abc"}
    with pytest.raises(vault.VaultError, match="kan ikke dekrypteres"):
        vault.decrypt(token[:-4] + "AAAA")


def test_rotate_keys_reencrypts_with_the_newest_key(db, fresh_keys, capsys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    fresh_keys(old)
    channel = ChannelFactory()
    fresh_keys(new, old)
    call_command("rotate_keys")
    assert "1 kanalers" in capsys.readouterr().out
    fresh_keys(new)
    channel.refresh_from_db()
    assert channel.credentials() == {"access_token": "test-token"}


def test_rotate_keys_without_the_old_key_changes_nothing(db, fresh_keys):
    old = Fernet.generate_key().decode()
    fresh_keys(old)
    channel = ChannelFactory()
    before = channel.encrypted_credentials
    fresh_keys(Fernet.generate_key().decode())
    with pytest.raises(CommandError, match="Intet er ændret"):
        call_command("rotate_keys")
    channel.refresh_from_db()
    assert channel.encrypted_credentials == before


def test_an_invalid_vault_key_fails_the_system_check_in_danish(fresh_keys):
    fresh_keys("not-a-fernet-key")
    errors = [e for e in run_checks() if e.id == "kanal.E001"]
    assert errors and "ugyldig nøgle" in errors[0].msg
