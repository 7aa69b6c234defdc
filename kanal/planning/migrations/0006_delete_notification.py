"""Planning's notifications move to the notifications app (one per member,
as before); their sentences were stored written out and are kept as text."""

from django.db import migrations
from django.urls import NoReverseMatch, reverse


def carry_over(apps, schema_editor):
    Old = apps.get_model("planning", "Notification")
    New = apps.get_model("notifications", "Notification")
    rows = []
    for old in Old.objects.order_by("pk").iterator():
        url = ""
        if old.post_id:
            try:
                url = reverse("planning:post_detail", args=[old.post_id])
            except NoReverseMatch:
                url = ""
        rows.append(
            New(
                recipient_id=old.recipient_id,
                kind=old.event,
                params={"text": old.message},
                subject=f"planning.post:{old.post_id}" if old.post_id else "",
                url=url,
                created_at=old.created_at,
                read_at=old.read_at,
            )
        )
    New.objects.bulk_create(rows, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("planning", "0005_post_submitted_at"),
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(carry_over, migrations.RunPython.noop),
        migrations.DeleteModel(name="Notification"),
    ]
