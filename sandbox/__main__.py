"""``python -m sandbox``: run the sandbox, or talk to a running one.

    python -m sandbox --host 127.0.0.1 --port 8765 --db var/sandbox.sqlite3
    python -m sandbox fault --network x --kind rate_limit --count 1
    python -m sandbox fault --clear [--network x]
    python -m sandbox reset
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import sys

import httpx

DEFAULT_URL = "http://127.0.0.1:8765"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--db", default="var/sandbox.sqlite3")
    parser.add_argument("--webhook-url", default=None,
                        help="where to POST signed webhooks; may contain {network}")
    parser.add_argument("--app-secret", default=None)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--citizens-every", type=float, default=0.0,
                        help="seconds between simulated citizen ticks (0 = off)")
    parser.add_argument("--seed", type=int, default=None)


def serve(
    *,
    host: str,
    port: int,
    db: str,
    webhook_url: str | None = None,
    app_secret: str | None = None,
    latency_ms: int = 0,
    citizens_every: float = 0.0,
    seed: int | None = None,
    log_level: str = "info",
) -> None:
    """Run the sandbox with uvicorn until interrupted (loopback only)."""
    import uvicorn

    from .app import create_app
    from .core import SandboxConfig

    if not is_loopback(host):
        raise SystemExit(
            f"The sandbox has no authentication and binds to loopback only; "
            f"refusing host {host!r}."
        )
    config = SandboxConfig(
        base_url=f"http://{host}:{port}", db_path=db, latency_ms=latency_ms,
        citizens_every=citizens_every, seed=seed,
    )
    if webhook_url is not None:
        config.webhook_url = webhook_url
    if app_secret is not None:
        config.app_secret = app_secret
    # The app sets Date itself, on each network's (possibly skewed) clock.
    uvicorn.run(create_app(config), host=host, port=port, log_level=log_level,
                date_header=False)


def fault_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox fault")
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--network")
    parser.add_argument("--kind")
    parser.add_argument("--account")
    parser.add_argument("--operation")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--forever", action="store_true", help="no count limit")
    parser.add_argument("--probability", type=float)
    parser.add_argument("--delay-ms", type=int)
    parser.add_argument("--clear", action="store_true")
    args = parser.parse_args(argv)
    base = args.url.rstrip("/")
    if args.clear:
        params = {"network": args.network} if args.network else {}
        response = httpx.delete(f"{base}/_sandbox/faults", params=params)
    else:
        if not args.network or not args.kind:
            parser.error("--network and --kind are required")
        payload = {
            "network": args.network, "kind": args.kind, "account": args.account,
            "operation": args.operation,
            "count": None if args.forever else args.count,
            "probability": args.probability, "delay_ms": args.delay_ms,
        }
        response = httpx.post(f"{base}/_sandbox/faults", json=payload)
    sys.stdout.write(json.dumps(response.json(), indent=2) + "\n")
    return 0 if response.is_success else 1


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "fault":
        return fault_command(argv[1:])
    if argv and argv[0] == "reset":
        url = argv[1] if len(argv) > 1 else DEFAULT_URL
        response = httpx.post(f"{url.rstrip('/')}/_sandbox/reset")
        return 0 if response.is_success else 1
    parser = argparse.ArgumentParser(prog="python -m sandbox")
    add_server_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    serve(
        host=args.host, port=args.port, db=args.db, webhook_url=args.webhook_url,
        app_secret=args.app_secret, latency_ms=args.latency_ms,
        citizens_every=args.citizens_every, seed=args.seed,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
