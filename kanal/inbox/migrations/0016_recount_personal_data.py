"""Clear "Personoplysninger" on the conversations none of whose items holds
personal data any more (redacted, or edited away before the flag followed
the text)."""

from django.db import migrations
from django.db.models import Exists, OuterRef


def recount(apps, schema_editor):
    Conversation = apps.get_model("inbox", "Conversation")
    InboxItem = apps.get_model("inbox", "InboxItem")
    holding = InboxItem.objects.filter(conversation=OuterRef("pk")).exclude(
        personal_data=[])
    Conversation.objects.filter(has_personal_data=True).exclude(
        Exists(holding)).update(has_personal_data=False)


class Migration(migrations.Migration):

    dependencies = [("inbox", "0015_items_carry_their_conversations_assignment")]

    operations = [migrations.RunPython(recount, migrations.RunPython.noop)]
