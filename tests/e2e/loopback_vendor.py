"""A vendor emulation (``tests/contract/vendor_emulators.py``) served over real HTTP on 127.0.0.1, so that worker
processes can call it: ``DREAMINA_REPLICATE_BASE_URL=<base_url>``. Its files (``https://cdn.example/...`` in the
emulation) are served here under ``/cdn/``."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from ..contract.vendor_emulators import VendorEmulator

CDN = b"https://cdn.example/"


class LoopbackVendor:
    def __init__(self, emulator: VendorEmulator, api_host: str) -> None:
        self.emulator = emulator
        self._api_host = api_host
        self._lock = threading.Lock()
        vendor = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, content = vendor.answer(self.command, self.path, dict(self.headers), body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_DELETE = _answer

            def log_message(self, format: str, *args: object) -> None:
                return None  # nothing on the test's stderr

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="loopback-vendor", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> LoopbackVendor:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        """The emulation's answer to one request, its file links pointing here."""
        if path.startswith("/cdn/"):
            url = "https://cdn.example/" + path.removeprefix("/cdn/")
        else:
            url = f"https://{self._api_host}{path}"
        with self._lock:  # the emulation is not thread-safe
            response = self.emulator.handle(httpx.Request(method, url, headers=headers, content=body))
        content = response.content.replace(CDN, f"http://127.0.0.1:{self.port}/cdn/".encode())
        kept = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-encoding")}
        return response.status_code, kept, content

    def seen(self, method: str, path_part: str) -> list[httpx.Request]:
        """The requests the emulation answered with ``method`` whose URL contains ``path_part``."""
        with self._lock:
            return [r for r in self.emulator.requests if r.method == method and path_part in str(r.url)]
