"""An idle keep-alive connection outlives the idle timeouts of the clients and proxies that reuse it.

HTTP/1.1 lets either side close an idle connection. When the server does it first, a request the client sends on
that connection at the same moment is lost: the server closes a socket with the request unread in it, the client reads
a reset (``httpx.ReadError``) and no answer. ``bench/load.py`` met exactly that (one ``GET /v1/generations`` in about
3,300 requests, in both profiles) while uvicorn closed connections idle for 5 s, the same 5 s after which httpx, the
load generator's client, stops reusing them. A server that keeps idle connections longer than its clients do never
closes one under a request: the client lets it go first (AWS's load balancers ask the same of their targets: "the
idle timeout of your application [larger] than the idle timeout configured for the load balancer", 60 s by default).
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

from .test_serve_process import _start_serve

REQUEST = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def _answer(sock: socket.socket) -> bytes:
    """One whole response to ``GET /health`` (headers and a Content-Length body), or what came before the end."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        if not chunk:
            return received
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lengths = [line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")]
    length = int(lengths[0].split(b":")[1])
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def _closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(0.5)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_a_connection_idle_longer_than_a_clients_own_expiry_still_answers(tmp_path: Path) -> None:
    """The default keeps a connection idle for 6 s (past httpx's 5 s) open, and answers on it."""
    process, base, _data, log_file = _start_serve(tmp_path)
    try:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(REQUEST)
            assert _answer(sock).startswith(b"HTTP/1.1 200")
            time.sleep(6)
            assert not _closed_by_server(sock), "the server closed a connection idle for 6 s"
            sock.settimeout(10)
            sock.sendall(REQUEST)
            assert _answer(sock).startswith(b"HTTP/1.1 200")
    finally:
        process.terminate()
        process.wait(timeout=20)
        log_file.close()


def test_idle_connections_are_still_closed_after_the_configured_time(tmp_path: Path) -> None:
    """``DREAMINA_KEEP_ALIVE_SECONDS`` bounds how long an idle connection is kept: none is held forever."""
    process, base, _data, log_file = _start_serve(tmp_path, DREAMINA_KEEP_ALIVE_SECONDS="1")
    try:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(REQUEST)
            assert _answer(sock).startswith(b"HTTP/1.1 200")
            deadline = time.monotonic() + 5
            while not _closed_by_server(sock):
                assert time.monotonic() < deadline, "an idle connection was kept past its keep-alive time"
    finally:
        process.terminate()
        process.wait(timeout=20)
        log_file.close()
