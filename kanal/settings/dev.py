"""Development and demo: `make run`."""

import os

from .base import *  # noqa: F403

DEBUG = True
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

# The sandbox signs its Meta webhooks with this secret (sandbox/core.py).
KANAL_META_APP_SECRET = os.environ.get("KANAL_META_APP_SECRET", "sandbox-app-secret")
KANAL_META_VERIFY_TOKEN = os.environ.get("KANAL_META_VERIFY_TOKEN", "sandbox-verify")
