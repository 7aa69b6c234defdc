"""The credentials vault: secrets encrypted at rest with rotatable keys
(channel credentials, single sign-on client secrets).

``KANAL_VAULT_KEYS`` holds one or more Fernet keys, comma-separated, newest
first. New secrets are encrypted with the first key; any listed key decrypts.
To rotate: put a new key first, run ``kanal rotate-keys`` (re-encrypts every
secret with the new key), then drop the old key.
"""

from __future__ import annotations

import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.translation import gettext as _


class VaultError(Exception):
    """The vault cannot encrypt or decrypt (bad key, tampered data)."""


@lru_cache(maxsize=4)
def _fernet_for(keys: str) -> MultiFernet:
    parts = [k.strip() for k in keys.split(",") if k.strip()]
    if not parts:
        raise VaultError(_("KANAL_VAULT_KEYS er tom. Angiv mindst én Fernet-nøgle."))
    try:
        return MultiFernet([Fernet(k.encode()) for k in parts])
    except (ValueError, TypeError) as e:
        raise VaultError(
            _(
                "KANAL_VAULT_KEYS indeholder en ugyldig nøgle. Hver nøgle skal være "
                "32 tilfældige bytes i URL-sikker base64 (lav én med "
                "`kanal generate-vault-key`)."
            )
        ) from e


def fernet() -> MultiFernet:
    return _fernet_for(settings.KANAL_VAULT_KEYS)


def encrypt(secrets: dict[str, str]) -> str:
    if not secrets:
        return ""
    return fernet().encrypt(json.dumps(secrets, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict[str, str]:
    if not token:
        return {}
    try:
        return json.loads(fernet().decrypt(token.encode()))
    except InvalidToken as e:
        raise VaultError(
            _(
                "Kanalens adgangsoplysninger kan ikke dekrypteres med de "
                "nuværende nøgler (KANAL_VAULT_KEYS). Tilføj den gamle nøgle "
                "igen, eller forbind kanalen på ny."
            )
        ) from e


def rotate(token: str) -> str:
    """Re-encrypt ``token`` with the newest key."""
    if not token:
        return ""
    try:
        return fernet().rotate(token.encode()).decode()
    except InvalidToken as e:
        raise VaultError(
            _("En hemmelighed kunne ikke dekrypteres under rotation.")
        ) from e


def generate_key() -> str:
    return Fernet.generate_key().decode()
