"""`make run`: the web app, the sandbox and the worker, stopped together.

The sandbox and the web app start first; once both answer, the demo is
loaded again, which publishes its history (last week's posts) through
Kanal's engine to the sandbox; then the worker starts. The sandbox starts
with ``SANDBOX_DEMO_POSTS=0`` so the demo accounts hold only what Kanal
published.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
from django.core.management.base import BaseCommand

from kanal.demo import DEMO_PASSWORD, demo_logins


def _interrupt(signum, frame):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Run the demo: web app, sandbox and worker. Ctrl-C stops everything."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--sandbox-port", type=int, default=8765)

    def handle(self, *args, port, sandbox_port, **options):
        manage = [sys.executable, "-m", "django"]
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get(
                "DJANGO_SETTINGS_MODULE", "kanal.settings.dev"
            ),
            "KANAL_SANDBOX_URL": f"http://127.0.0.1:{sandbox_port}",
            # Links in e-mails, and media URLs that Instagram/Threads fetch.
            "KANAL_BASE_URL": f"http://127.0.0.1:{port}",
            "PYTHONUNBUFFERED": "1",
        }
        commands = {
            "sandbox": [
                *manage,
                "sandbox",
                "--port",
                str(sandbox_port),
                # Simulated citizens comment and follow about once a minute.
                "--citizens-every",
                "60",
            ],
            "web": [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        }
        worker = [*manage, "worker", "--concurrency", "8"]
        processes: dict[str, subprocess.Popen] = {}
        # `kill`/`timeout` send SIGTERM: stop the children as for Ctrl-C.
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            for name, command in commands.items():
                child_env = env
                if name == "sandbox":
                    child_env = {
                        **env, "SANDBOX_DEMO_POSTS": "0",
                        # Citizens' comments on Facebook, Instagram and Threads
                        # reach the inbox as signed webhooks.
                        "SANDBOX_WEBHOOK_URL":
                            f"http://127.0.0.1:{port}/webhooks/{{network}}/",
                    }
                processes[name] = subprocess.Popen(command, env=child_env)  # noqa: S603
            self._wait_until_answering(
                [
                    f"http://127.0.0.1:{sandbox_port}/_sandbox/",
                    f"http://127.0.0.1:{port}/konto/log-ind/",
                ]
            )
            # The history needs both: Instagram fetches the images from Kanal.
            subprocess.run([*manage, "load_demo"], env=env, check=False)  # noqa: S603
            processes["worker"] = subprocess.Popen(worker, env=env)  # noqa: S603
            self._announce(port, sandbox_port, sorted(processes))
            while True:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(
                            f"{name} stoppede (kode {process.returncode}); "
                            "stopper resten."
                        )
                        return
                time.sleep(0.5)
        except KeyboardInterrupt:
            self.stdout.write("\nStopper Kanal …")
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            for process in processes.values():
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()

    def _wait_until_answering(self, urls: list[str], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        for url in urls:
            while True:
                try:
                    if httpx.get(url, timeout=2).status_code < 500:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    self.stderr.write(f"{url} svarer ikke; fortsætter alligevel.")
                    break
                time.sleep(0.3)

    def _announce(self, port: int, sandbox_port: int, running: list[str]) -> None:
        lines = [
            "",
            "Kanal kører (" + ", ".join(running) + ").",
            f"  Kanal:    http://127.0.0.1:{port}/",
            f"  Øvebanen: http://127.0.0.1:{sandbox_port}/",
            f"Demo-logins (adgangskode for alle: {DEMO_PASSWORD}):",
            *[f"  {username:<16} {role}" for username, role in demo_logins()],
            "Stop med Ctrl-C.",
            "",
        ]
        self.stdout.write("\n".join(lines))
