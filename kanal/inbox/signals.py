"""What the inbox tells other apps (the records app listens).

Each is sent after the change is committed, with ``sender`` the model class
and the instance as a keyword.
"""

from django.dispatch import Signal

#: A new item arrived: ``item``.
item_received = Signal()
#: The network showed an item edited, deleted, hidden or unhidden: ``item``,
#: ``change`` ("edited", "deleted", "hidden", "unhidden").
item_changed = Signal()
#: An answer from the desk was sent to the network: ``conversation``,
#: ``item`` (the one answered), ``remote_id``, ``answer``.
reply_sent = Signal()
#: The desk hid, unhid or deleted an item: ``item``, ``action``, ``reason``,
#: ``actor``.
item_moderated = Signal()
