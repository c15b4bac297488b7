"""``dreamina`` commands in processes of their own, as an operator starts them, forked from a server that imported the
service once.

Every process test starts real ``dreamina`` processes (``serve``, ``worker``, ``privacy-worker``, one-shot commands),
many of them again and again (killed at each failpoint, then restarted). Each fresh ``python -m
dreamina.entrypoints.cli`` spent 2-3.5 s of CPU importing Litestar, SQLAlchemy, advanced-alchemy, alembic and the rest
before its first line of work: in the suite's profile, a sixth of all CPU. So each test process keeps one fork server
(``python -m tests.processes``, started on first use): it imports the service's modules and then forks on request.
The child sets its own environment, working directory, arguments and output file and runs the same ``main`` the
command runs; it is a real process with its own pid, killed with a real SIGKILL, and its exit status is what the
server's ``waitpid`` saw. ``DREAMINA_TEST_FORK_SERVER=0`` starts every command with ``subprocess`` instead.

What a fork server cannot do is start a module's import-time code under the child's environment: nothing in
``dreamina`` reads the environment at import (``load_settings`` reads it when a command starts), and
``tests/unit/test_architecture.py`` keeps it so.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import IO, Any

COMMAND = [sys.executable, "-m", "dreamina.entrypoints.cli"]
PRELOADED = (
    "dreamina.entrypoints.cli",
    "dreamina.entrypoints.startup",
    "dreamina.entrypoints.serve",
    "dreamina.entrypoints.http.app",
    "dreamina.entrypoints.workers.data_rights",
    "dreamina.adapters.queue.saq_worker",
    "dreamina.adapters.queue.saq_queue",
    "dreamina.adapters.sql.database",
    "dreamina.bootstrap",
    "alembic.script",
    "uvicorn",
)
_HEADER = struct.Struct("!I")
POLL_SECONDS = 0.02


def _send(sock: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    data = json.dumps(message).encode()
    if fds:
        socket.send_fds(sock, [_HEADER.pack(len(data)) + data], fds)
    else:
        sock.sendall(_HEADER.pack(len(data)) + data)


def _receive(sock: socket.socket) -> tuple[dict[str, Any], list[int]]:
    head, fds, _, _ = socket.recv_fds(sock, _HEADER.size, 4)
    if not head:
        raise EOFError("the other end closed")
    while len(head) < _HEADER.size:
        head += sock.recv(_HEADER.size - len(head))
    (size,) = _HEADER.unpack(head)
    body = b""
    while len(body) < size:
        chunk = sock.recv(size - len(body))
        if not chunk:
            raise EOFError("the other end closed")
        body += chunk
    return json.loads(body), list(fds)


# -- the server: imports once, forks on request --------------------------------------------------------------------


def _run_child(args: list[str], env: dict[str, str], cwd: str, output: int) -> None:
    """In the forked child: ``dreamina <args>`` with ``env``, ``output`` as stdout and stderr; never returns."""
    code: int = 1
    try:
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(output)
        os.environ.clear()
        os.environ.update(env)
        os.chdir(cwd)
        sys.argv = [COMMAND[-1], *args]
        from dreamina.entrypoints.cli import main

        try:
            code = main(args)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            if not isinstance(stop.code, int | None):
                print(stop.code, file=sys.stderr)
        except BaseException:
            traceback.print_exc()
            code = 1
        atexit._run_exitfuncs()  # what the interpreter's exit would run, then exit without unwinding the server
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: S110 - a closed stream at exit: nothing left to say
                pass
        os._exit(code)


def serve(fd: int) -> None:
    """The fork server's loop on the socket ``fd``: ``start`` forks a command, ``status`` reaps one if it ended."""
    import importlib

    for name in PRELOADED:
        importlib.import_module(name)
    sock = socket.socket(fileno=fd)
    _send(sock, {"ready": os.getpid()})
    while True:
        try:
            request, fds = _receive(sock)
        except EOFError:
            return
        if request["op"] == "start":
            pid = os.fork()
            if pid == 0:
                sock.close()
                _run_child(request["args"], request["env"], request["cwd"], fds[0])
            os.close(fds[0])
            _send(sock, {"pid": pid})
        elif request["op"] == "status":
            try:
                done, status = os.waitpid(request["pid"], os.WNOHANG)
            except ChildProcessError:
                _send(sock, {"error": "not a child of this server"})
                continue
            _send(sock, {"returncode": os.waitstatus_to_exitcode(status) if done else None})


# -- the client: one server per test process -------------------------------------------------------------------------


class _ForkServer:
    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        self._sock = ours
        self._lock = threading.Lock()
        root = Path(__file__).resolve().parent.parent
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.processes", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        theirs.close()
        ready, _ = _receive(self._sock)
        assert "ready" in ready, ready
        atexit.register(self.close)

    def request(self, message: dict[str, Any], fds: list[int] | None = None) -> dict[str, Any]:
        with self._lock:
            _send(self._sock, message, fds)
            answer, _ = _receive(self._sock)
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer

    def close(self) -> None:
        self._sock.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()


_server: _ForkServer | None = None
_server_lock = threading.Lock()


def _fork_server() -> _ForkServer:
    global _server
    with _server_lock:
        if _server is None or _server._process.poll() is not None:
            _server = _ForkServer()
        return _server


class DreaminaProcess:
    """A started ``dreamina`` command, used as a :class:`subprocess.Popen` is: ``pid``, ``poll``, ``wait``,
    ``send_signal``, ``terminate``, ``kill``, ``returncode`` (negative: the signal that ended it)."""

    def __init__(self, args: list[str], pid: int, server: _ForkServer) -> None:
        self.args = [*COMMAND, *args]
        self.pid = pid
        self.returncode: int | None = None
        self._server = server

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._server.request({"op": "status", "pid": self.pid})["returncode"]
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            time.sleep(POLL_SECONDS)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:  # never signal a pid that was reaped (and may be reused)
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


Process = DreaminaProcess | subprocess.Popen[Any]


def start(args: list[str], env: dict[str, str], output: IO[Any], cwd: Path | None = None) -> Process:
    """``dreamina <args>`` with exactly ``env`` as its environment, stdout and stderr into ``output`` (a file: a pipe
    nobody reads would stall it)."""
    if os.environ.get("DREAMINA_TEST_FORK_SERVER", "1") == "0":
        return subprocess.Popen([*COMMAND, *args], env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT)
    server = _fork_server()
    output.flush()
    answer = server.request(
        {"op": "start", "args": list(args), "env": dict(env), "cwd": str(cwd or Path.cwd())}, [output.fileno()]
    )
    return DreaminaProcess(list(args), answer["pid"], server)


def run(args: list[str], env: dict[str, str], output: IO[Any], timeout: float = 90) -> int:
    """``dreamina <args>`` to its end (killed after ``timeout`` seconds); its exit code."""
    process = start(args, env, output)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


if __name__ == "__main__":
    serve(int(sys.argv[1]))
