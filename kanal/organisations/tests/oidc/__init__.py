"""A real OpenID provider for the single sign-on tests: panva's
``oidc-provider`` (pinned in package.json, installed by ``make install``) run
by Node on a loopback port, with the users below."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]
SCRIPT = HERE / "provider.mjs"
CLIENT_ID = "kanal-test"
CLIENT_SECRET = "kanal-test-secret-not-for-production"

USERS = {
    "ada": {
        "password": "Ada-kode-1",
        "name": "Ada Admin",
        "email": "ada@kommune.example",
        "groups": ["kanal-redaktion"],
        "amr": ["pwd", "mfa"],
    },
    "bo": {
        "password": "Bo-kode-1",
        "name": "Bo Bidrag",
        "email": "bo@kommune.example",
        "groups": ["kanal-buf"],
        "amr": ["pwd"],
    },
    "ukendt": {
        "password": "Ukendt-kode-1",
        "name": "Una Ukendt",
        # The same address as a Kanal member: e-mail alone never matches.
        "email": "ada@kommune.example",
        "groups": ["kanal-redaktion"],
    },
}


def _free_port() -> int:
    """A loopback port the system picks among the free ones (a fixed range
    made parallel workers, and other suites on the machine, pick the same
    port at the same moment)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_provider(redirect_uris, post_logout_redirect_uris=()):
    """Start the provider; yield its issuer URL; stop it."""
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "oidc-provider").exists():
        pytest.skip(
            "Node eller oidc-provider mangler: SSO-testene springes over "
            "(apt-get install -y nodejs npm, derefter make install)."
        )
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=True
    ).stdout
    if int(version.lstrip("v").split(".")[0]) < 20:
        pytest.skip(
            f"oidc-provider kræver Node 20 eller nyere (fandt {version.strip()}): "
            "SSO-testene springes over."
        )
    clients = [
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": list(redirect_uris),
            "post_logout_redirect_uris": list(post_logout_redirect_uris),
        }
    ]
    # The port can still be taken between the probe and Node's listen: then
    # Node exits before saying "ready", and another port is tried.
    for _attempt in range(3):
        port = _free_port()
        env = {
            **os.environ,
            "OIDC_PORT": str(port),
            "OIDC_CLIENTS": json.dumps(clients),
            "OIDC_USERS": json.dumps(USERS),
            "NODE_PATH": str(ROOT / "node_modules"),
        }
        process = subprocess.Popen(
            [node, str(SCRIPT)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = process.stdout.readline()
        if line.startswith("ready "):
            break
        process.wait(timeout=10)
    try:
        if not line.startswith("ready "):
            raise RuntimeError(f"OpenID provider did not start: {line!r}")
        yield line.split()[1]
    finally:
        process.terminate()
        process.wait(timeout=10)
