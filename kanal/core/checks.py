from django.conf import settings
from django.core.checks import Error, register


@register()
def vault_keys_are_valid(app_configs, **kwargs):
    from kanal.channels.vault import VaultError, fernet

    try:
        fernet()
    except VaultError as e:
        return [Error(str(e), id="kanal.E001")]
    return []


@register()
def audit_keys_are_set(app_configs, **kwargs):
    if not [k for k in str(settings.KANAL_AUDIT_KEYS).split(",") if k.strip()]:
        return [
            Error(
                "KANAL_AUDIT_KEYS er tom. Angiv mindst én nøgle (lav én med "
                "`kanal generate-audit-key`).",
                id="kanal.E002",
            )
        ]
    return []
