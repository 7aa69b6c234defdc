"""Key the audit chain (HMAC-SHA256 under KANAL_AUDIT_KEYS) and re-key the
entries written before, after checking that their unkeyed chain is intact.

The hashing is spelled out here, not imported, so this migration keeps doing
what it did when the model changes later.
"""

import hashlib
import hmac
import json
import os

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import migrations, models

GENESIS_HASH = "0" * 64


def _canonical(payload):
    return json.dumps(
        payload,
        sort_keys=True,
        separators=(",", ":"),
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
    )


def _payload(entry, prev_hash):
    return {
        "seq": entry.seq,
        "created_at": entry.created_at.isoformat(),
        "organisation": entry.organisation_id,
        "actor": entry.actor_id,
        "actor_label": entry.actor_label,
        "event": entry.event,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "changes": entry.changes,
        "prev_hash": prev_hash,
    }


def rekey(apps, schema_editor):
    Entry = apps.get_model("core", "AuditEntry")
    Chain = apps.get_model("core", "AuditChain")
    key = next(k.strip() for k in settings.KANAL_AUDIT_KEYS.split(",") if k.strip())
    key_id = hashlib.sha256(b"kanal-audit-key-id\0" + key.encode()).hexdigest()[:16]
    accept_broken = os.environ.get("KANAL_AUDIT_REKEY_ACCEPT_BROKEN") == "1"
    old_prev, new_prev, expected = GENESIS_HASH, GENESIS_HASH, 1
    for entry in Entry.objects.order_by("seq").iterator():
        legacy = hashlib.sha256(
            _canonical(_payload(entry, entry.prev_hash)).encode()
        ).hexdigest()
        intact = (
            entry.seq == expected and entry.prev_hash == old_prev and legacy == entry.hash
        )
        if not intact and not accept_broken:
            raise RuntimeError(
                f"Revisionssporet er brudt ved post #{entry.seq}, før det nøgles. "
                "Kør `kanal verify-audit` med den forrige version af Kanal for at "
                "se bruddet. Vil du nøgle sporet alligevel (bruddet kan så ikke "
                "længere ses), så sæt KANAL_AUDIT_REKEY_ACCEPT_BROKEN=1."
            )
        payload = _payload(entry, new_prev)
        payload["key_id"] = key_id
        new_hash = hmac.new(
            key.encode(), _canonical(payload).encode(), hashlib.sha256
        ).hexdigest()
        Entry.objects.filter(pk=entry.pk).update(
            prev_hash=new_prev, hash=new_hash, key_id=key_id
        )
        old_prev, new_prev, expected = entry.hash, new_hash, entry.seq + 1
    Chain.objects.filter(pk=1).update(last_hash=new_prev)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="key_id",
            field=models.CharField(default="", editable=False, max_length=16),
        ),
        migrations.RunPython(rekey, migrations.RunPython.noop),
    ]
