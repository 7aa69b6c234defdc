"""Notifications: one per member, rendered in the reader's language, shown in
the app and mailed by each member's preference. Apps above call
``kanal.notifications.actions.notify``; this app knows only organisations and
core."""
