"""Django's JSON serialisation with times to the microsecond.

``DjangoJSONEncoder`` cuts datetimes to milliseconds, which would change
what the audit chain's hashes cover (``AuditEntry.created_at``). Read back by
Django's own ``json`` deserialiser (``loaddata``).
"""

from __future__ import annotations

import datetime

from django.core.serializers import json as django_json
from django.core.serializers.json import DjangoJSONEncoder

Deserializer = django_json.Deserializer


class PreciseEncoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


class Serializer(django_json.Serializer):
    def _init_options(self):
        self.options.setdefault("cls", PreciseEncoder)
        super()._init_options()
