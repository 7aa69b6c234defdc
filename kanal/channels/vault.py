"""The credentials vault lives in ``kanal.core.vault`` (single sign-on keeps
its client secrets there too); channels keep importing it from here."""

from kanal.core.vault import (  # noqa: F401
    VaultError,
    _fernet_for,
    decrypt,
    encrypt,
    fernet,
    generate_key,
    rotate,
)
