"""Serving the endpoint over HTTP: in a background thread, or in the foreground from the command line.

    PYTHONPATH=tests python -m local_aws [--host 127.0.0.1] [--port 0] [--url-file PATH]
        [--latency-ms MS] [--jitter-ms MS] [--lag-seconds S] [--throttle-share SHARE]

writes the endpoint's URL to PATH once it listens, and stops cleanly on SIGTERM or SIGINT. The last four make it behave
like AWS from afar from the start; a reset through the admin API (POST /_local_aws/reset) turns them off, as it does
when they are set through the admin API.
moto keeps its state per process: run one endpoint per process.
"""
from __future__ import annotations

import argparse
import os
import signal
import tempfile
import threading

from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.serving import make_server

from .app import LocalAWSApp


class _QuietRequestHandler(MotoRequestHandler):
    """moto's request handler, without an access log line per request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Do not log requests."""


class ServerThread:
    """The endpoint, listening from construction on, served by a daemon thread between start() and stop()."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = LocalAWSApp()
        self._server = make_server(host, port, self.app, threaded=True, request_handler=_QuietRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-aws", daemon=True)

    @property
    def url(self) -> str:
        """The endpoint's URL, with the bound port."""
        return f"http://{self._server.server_address[0]}:{self._server.server_port}"

    def start(self) -> None:
        """Start serving requests."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()


def _write_atomically(path: str, text: str) -> None:
    """Write a file that readers see either absent or complete."""
    directory = os.path.dirname(os.path.abspath(path))
    with tempfile.NamedTemporaryFile("w", dir=directory, delete=False, encoding="utf-8") as tmp:
        tmp.write(text)
    os.replace(tmp.name, path)


def main(argv: list[str] | None = None) -> int:
    """Run the endpoint in the foreground until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m local_aws", description="A strict local AWS endpoint (moto server mode).")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one (default: %(default)s)")
    parser.add_argument("--url-file", help="write the endpoint's URL to this file once it listens")
    real = parser.add_argument_group("behave like AWS from afar (real IAM answers in 50 to 300 ms, and is eventually consistent)")
    real.add_argument("--latency-ms", type=float, default=0, help="answer each call after this many milliseconds (default: %(default)s)")
    real.add_argument("--jitter-ms", type=float, default=0, help="and up to this many more, at random (default: %(default)s)")
    real.add_argument("--lag-seconds", type=float, default=0,
                      help="keep a new virtual MFA device invisible to IAM's other calls this long (default: %(default)s)")
    real.add_argument("--throttle-share", type=float, default=0,
                      help="answer this share of IAM calls (0 to 1) with Throttling (default: %(default)s)")
    parser.add_argument("--enforce-iam", action="store_true",
                        help="refuse every call the caller's IAM policies do not allow (the endpoint's own key is the root user)")
    args = parser.parse_args(argv)
    if not 0 <= args.throttle_share <= 1:
        parser.error("--throttle-share must be 0 to 1")
    if not (0 <= args.latency_ms <= 60000 and 0 <= args.jitter_ms <= 60000 and 0 <= args.lag_seconds <= 60000):
        parser.error("--latency-ms, --jitter-ms and --lag-seconds must be 0 to 60000")

    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_args: stopping.set())
    server = ServerThread(args.host, args.port)
    server.start()
    if args.latency_ms or args.jitter_ms or args.lag_seconds or args.throttle_share or args.enforce_iam:
        from .client import LocalAWS  # pylint: disable=import-outside-toplevel  # the client imports this module

        endpoint = LocalAWS.connect(server.url)
        endpoint.slow_down(latency_ms=args.latency_ms, jitter_ms=args.jitter_ms, lag_seconds=args.lag_seconds)
        if args.throttle_share:
            endpoint.throttle(args.throttle_share)
        if args.enforce_iam:
            endpoint.enforce_iam()
    if args.url_file:
        _write_atomically(args.url_file, server.url + "\n")
    stopping.wait()
    server.stop()
    return 0
