"""Background work of the record (django-tasks; ids only, one action)."""

from __future__ import annotations

from django_tasks import task


@task()
def build_export(export_id: int) -> None:
    """Build one access request's package (PDF and archive)."""
    from .export import run_export

    run_export(export_id)


@task()
def record_post(post_id: int) -> int:
    """Record what a post's publications sent, copying their media; queued
    after publishing commits, so the copy never runs in the publishing
    worker."""
    from .capture import capture_post

    return capture_post(post_id)
