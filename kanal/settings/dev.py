"""Development and demo: `make run`."""

from .base import *  # noqa: F403

DEBUG = True
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
