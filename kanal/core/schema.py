"""The database's migrations against the code's: what the code has that the
database lacks (run ``kanal migrate``), and what the database has that the
code does not know (the code is older than the schema)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.loader import MigrationLoader


@dataclass(frozen=True)
class SchemaState:
    pending: tuple[str, ...]  # in the code, not applied
    unknown: tuple[str, ...]  # applied, not in the code

    @property
    def current(self) -> bool:
        return not self.pending and not self.unknown


def schema_state(using: str = DEFAULT_DB_ALIAS) -> SchemaState:
    loader = MigrationLoader(connections[using], ignore_no_migrations=True)
    known = set(loader.graph.nodes)
    applied = set(loader.applied_migrations)
    # Only apps this code has: a table of another installation's app is not
    # Kanal's business, but a newer migration of one of its own apps is.
    own_apps = {app for app, _name in known}
    unknown = {m for m in applied - known if m[0] in own_apps}
    return SchemaState(
        pending=tuple(sorted(f"{a}.{n}" for a, n in known - applied)),
        unknown=tuple(sorted(f"{a}.{n}" for a, n in unknown)),
    )
