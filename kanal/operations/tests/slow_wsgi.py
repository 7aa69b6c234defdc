"""A WSGI application for kanal-web's reload tests (test_web_server.py): it
takes ``KANAL_TEST_START_SECONDS`` to load, as Kanal does on a busy machine,
and cannot load while the file ``KANAL_TEST_BROKEN`` names exists, as an
upgrade with a fault (nor finish loading while ``KANAL_TEST_HANG``'s does).
Each answer names the process that gave it."""

import os
import time
from pathlib import Path

_broken = os.environ.get("KANAL_TEST_BROKEN")
if _broken and Path(_broken).exists():
    raise RuntimeError("this version cannot start")
time.sleep(float(os.environ.get("KANAL_TEST_START_SECONDS", "0")))
# While the file KANAL_TEST_HANG names exists, a process never finishes
# loading (a successor that hangs without listening).
_hang = os.environ.get("KANAL_TEST_HANG")
while _hang and Path(_hang).exists():
    time.sleep(0.1)


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("X-Process", str(os.getpid()))])
    return [b"ok"]
