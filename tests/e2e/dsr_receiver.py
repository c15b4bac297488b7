"""A processor's data-subject-request webhook endpoint on 127.0.0.1 (the receiving side of
``adapters/webhooks.py``): it verifies Dreamina's signature the way a processor would."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from dreamina.adapters.webhooks import SIGNATURE_HEADER, verify
from dreamina.ports.clock import Clock

SECRET = "s" * 40


class Receiver:
    """A processor's DSR webhook endpoint on 127.0.0.1: verifies the signature against the app's clock, keeps what
    arrived, folds repeats by Idempotency-Key, and answers ``status`` (settable)."""

    def __init__(self, clock: Clock) -> None:
        self.clock, self.status = clock, 200
        self.received: list[tuple[dict[str, str], bytes, bool]] = []
        self.keys: set[str] = set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                ok = verify(SECRET, self.headers.get(SIGNATURE_HEADER, ""), body, int(receiver.clock.now().timestamp()))
                receiver.received.append((dict(self.headers), body, ok))
                if ok:
                    receiver.keys.add(self.headers["Idempotency-Key"])
                self.send_response(receiver.status if ok else 400)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/dsr"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
