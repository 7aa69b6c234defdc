from django.conf import settings
from django.core.checks import Error, register


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


@register()
def accessibility_statement_is_readable(app_configs, **kwargs):
    from kanal.core.statement import StatementError, load_statement

    try:
        for language in ("da", "en"):
            load_statement(settings.KANAL_ACCESSIBILITY_STATEMENT, language)
    except StatementError as e:
        return [
            Error(
                str(e),
                hint="Ret filen i KANAL_ACCESSIBILITY_STATEMENT.",
                id="kanal.E003",
            )
        ]
    return []
