"""Readiness: may this installation take work? Each check answers ok or not,
with a short reason, and never raises."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import DatabaseError, connection
from django.utils.translation import gettext as _

from kanal.channels import vault
from kanal.channels.models import Channel
from kanal.core.schema import schema_state
from kanal.publishing import heartbeat
from kanal.publishing.engine import db_now

#: How many channels' credentials /readyz decrypts (the newest first).
VAULT_SAMPLE = 20


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str


def check_database() -> Check:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return Check(True, _("Databasen svarer (%(vendor)s).") % {
        "vendor": connection.vendor})


def check_migrations() -> Check:
    state = schema_state()
    if state.unknown:
        return Check(False, _(
            "Databasen har migreringer, som denne version ikke kender (%(names)s): "
            "koden er ældre end databasen."
        ) % {"names": ", ".join(state.unknown)})
    if state.pending:
        return Check(False, _(
            "%(count)d migrering(er) mangler. Kør `kanal migrate`."
        ) % {"count": len(state.pending)})
    return Check(True, _("Alle migreringer er kørt."))


def check_worker() -> Check:
    now = db_now()
    newest = heartbeat.live_workers(now).order_by("-beat_at").first()
    if newest is None:
        return Check(False, _(
            "Ingen arbejder har meldt sig inden for %(seconds)d sekunder. "
            "Start `kanal worker` (eller se, hvorfor den står stille)."
        ) % {"seconds": heartbeat.max_age().total_seconds()})
    age = max(0.0, (now - newest.beat_at).total_seconds())
    return Check(True, _("Arbejderen %(owner)s meldte sig for %(age).0f s siden.")
                 % {"owner": newest.owner, "age": age})


def check_vault() -> Check:
    try:
        vault.fernet()
        tokens = list(
            Channel.objects.exclude(encrypted_credentials="")
            .order_by("-pk")
            .values_list("encrypted_credentials", flat=True)[:VAULT_SAMPLE]
        )
        for token in tokens:
            vault.decrypt(token)
    except vault.VaultError as e:
        return Check(False, str(e))
    return Check(True, _("Nøglerne er gyldige og dekrypterer %(count)d kanal(er).")
                 % {"count": len(tokens)})


CHECKS: dict[str, Callable[[], Check]] = {
    "database": check_database,
    "migrations": check_migrations,
    "worker": check_worker,
    "vault": check_vault,
}


def readiness() -> dict[str, Check]:
    """Every check; after the database fails the others are not tried."""
    results: dict[str, Check] = {}
    for name, check in CHECKS.items():
        if results and not results["database"].ok:
            results[name] = Check(False, _("Ikke kontrolleret: databasen svarer ikke."))
            continue
        try:
            results[name] = check()
        except DatabaseError as e:
            results[name] = Check(False, _("Databasefejl: %(error)s") % {
                "error": type(e).__name__})
    return results
