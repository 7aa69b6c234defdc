from django.core.checks import Error, register


@register()
def vault_keys_are_valid(app_configs, **kwargs):
    from .vault import VaultError, fernet

    try:
        fernet()
    except VaultError as e:
        return [Error(str(e), id="kanal.E001")]
    return []
