"""A TCP relay on 127.0.0.1 that caps the bytes per second a client sends upstream (all connections together).

Real processes talk to moto's S3 server through it, so a multipart upload takes seconds instead of milliseconds and a
test can kill its writer while a part is stored but the upload is not complete. Replies flow back at full speed.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

BLOCK = 64 * 1024


class _Budget:
    """A shared allowance of ``rate`` bytes per second; ``None`` lifts the cap."""

    def __init__(self, rate: int | None) -> None:
        self.rate = rate
        self._lock = threading.Lock()
        self._next = time.monotonic()

    def spend(self, size: int) -> None:
        with self._lock:
            rate = self.rate
            if rate is None:
                return
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + size / rate
        time.sleep(max(0.0, start - now))


class SlowLink:
    """Listens on ``port``; every connection is relayed to ``upstream`` with the upstream direction capped."""

    def __init__(self, upstream: tuple[str, int], rate: int | None) -> None:
        self.budget = _Budget(rate)
        self._upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True, name="slow-link-accept").start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self._upstream)
            self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, capped: bool) -> None:
        try:
            while data := source.recv(BLOCK):
                if capped:
                    self.budget.spend(len(data))
                target.sendall(data)
        except OSError:
            pass
        finally:
            for side in (source, target):
                with contextlib.suppress(OSError):
                    side.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()


@contextlib.contextmanager
def slow_link(upstream: tuple[str, int], rate: int | None) -> Iterator[SlowLink]:
    link = SlowLink(upstream, rate)
    try:
        yield link
    finally:
        link.close()
