# Publishing's fixtures, to drive the engine as its own tests do.
from kanal.publishing.tests.conftest import (  # noqa: F401
    channel,
    fake_network,
    queue,
)
