"""Background work of the record (django-tasks; ids only, one action)."""

from __future__ import annotations

from django_tasks import task


@task()
def build_export(export_id: int) -> None:
    """Build one access request's package (PDF and archive)."""
    from .export import run_export

    run_export(export_id)
