"""Publishing's notifications were one row per administration, never read
and never mailed. Each becomes one notification per member who acts on it
(the administration's planners, publishers and approvers and the
organisation's administrators; the whole organisation's for a row without an
administration), with its read state; the sentence is kept as written."""

from django.db import migrations

from kanal.organisations.roles import PERMISSIONS

ACTS = {"posts.plan", "posts.publish", "posts.approve", "organisation.manage"}
ACTING_ROLES = sorted(role for role, perms in PERMISSIONS.items() if perms & ACTS)
ADMIN_ROLES = sorted(
    role for role, perms in PERMISSIONS.items() if "organisation.manage" in perms
)


def carry_over(apps, schema_editor):
    Old = apps.get_model("publishing", "Notification")
    New = apps.get_model("notifications", "Notification")
    Membership = apps.get_model("organisations", "Membership")
    rows = []
    for old in Old.objects.order_by("pk").iterator():
        members = Membership.objects.filter(
            organisation_id=old.organisation_id, is_active=True
        )
        if old.administration_id is not None:
            members = members.filter(
                administration_id=old.administration_id, role__in=ACTING_ROLES
            ) | members.filter(role__in=ADMIN_ROLES)
        else:
            members = members.filter(role__in=ACTING_ROLES)
        for member_id in sorted(set(members.values_list("pk", flat=True))):
            rows.append(
                New(
                    recipient_id=member_id,
                    kind=old.kind,
                    params={"text": old.message},
                    subject=(
                        f"publishing.publication:{old.publication_id}"
                        if old.publication_id
                        else ""
                    ),
                    url=old.url,
                    created_at=old.created_at,
                    read_at=old.read_at,
                )
            )
    New.objects.bulk_create(rows, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("publishing", "0005_lookup_adoption"),
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(carry_over, migrations.RunPython.noop),
        migrations.DeleteModel(name="Notification"),
    ]
