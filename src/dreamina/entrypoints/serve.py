"""``dreamina serve``: the API in this process, or in N processes sharing one port.

One process (the default, and the only choice in the embedded profile) runs uvicorn here, on the app built from the
settings. N processes (``--workers N`` or ``DREAMINA_WEB_WORKERS``; PostgreSQL, Redis and SAQ required, see
``settings.check_web_workers``) run under uvicorn's supervisor: this process checks the database, migrates it if
asked, binds the port, then starts N children (spawned, each importing :func:`process_app`), restarts any that dies,
and stops them all on SIGTERM or SIGINT; killed itself, its children end with it (:func:`_end_with_supervisor`). The
children share nothing but the socket: everything shared lives in PostgreSQL, Redis and the object store. What each
keeps in its own memory is a bounded cache that another process's change reaches within its stated time (bearer
tokens: ``DREAMINA_SESSION_CACHE_SECONDS``, a known gap when the change is an erasure, see the README's "Several
processes"; the policy-notice check: a minute) and its own connection pools.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from typing import TYPE_CHECKING, Any

from dreamina.entrypoints.startup_failed import StartupFailed
from dreamina.settings import Settings, load_settings

if TYPE_CHECKING:
    from litestar import Litestar

PROCESS_APP = "dreamina.entrypoints.serve:process_app"
SERVER_OPTIONS: dict[str, Any] = {
    "log_config": None,  # our JSON logging (adapters/logs.py), configured in each process
    "access_log": False,  # uvicorn's access log carries client addresses; our middleware logs without them
    "server_header": False,
    "proxy_headers": False,  # client addresses come from DREAMINA_TRUSTED_PROXIES only (client_address.py)
}

# ``DREAMINA_KEEP_ALIVE_SECONDS`` (default 75, uvicorn's own is 5): HTTP/1.1 lets either side close an idle
# connection, and when the server does it first, a request its client sends at that moment is lost (the socket closes
# with the request unread; the client reads a reset and no answer). httpx stops reusing a connection after 5 s, AWS's
# load balancers after 60 s and nginx's upstream pools after 60 s: a server that keeps it longer than they do lets the
# client close it first (tests/e2e/test_serve_keep_alive.py).

HEALTHCHECK_SECONDS = 30
"""How long the supervisor waits for a child's answer to its ping before it kills the child as hung. uvicorn's 5 s
default killed children that were only busy on a loaded machine (seen twice in 10 s with 10 processes on 2 cores),
dropping their requests in flight; a process that cannot answer in 30 s is hung."""


def run(settings: Settings, workers: int) -> None:
    """Serve until stopped; the caller has checked the settings, the database and ``workers``."""
    import uvicorn

    options = {
        "host": settings.host,
        "port": settings.port,
        "timeout_keep_alive": settings.keep_alive_seconds,
        **SERVER_OPTIONS,
    }
    if workers == 1:
        from dreamina.entrypoints.http.app import create_app

        uvicorn.run(create_app(settings), **options)
        return
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    # uvicorn.run(..., workers=N) does the same, but returns normally when a child could not start; here that is
    # exit code 3, as for one process.
    config = uvicorn.Config(
        PROCESS_APP,
        factory=True,
        workers=workers,
        timeout_worker_healthcheck=HEALTHCHECK_SECONDS,
        **options,
    )
    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    supervisor.run()
    if any(child.exitcode == STARTUP_FAILURE for child in supervisor.processes):
        raise StartupFailed("an API process failed to start, so every one was stopped", "its log lines above say why")


def process_app() -> Litestar:
    """The app of one of N API processes (uvicorn's factory, called in each child): its own logging, failpoints
    (tests) and container, from the environment the parent process was started with."""
    from dreamina.adapters.logs import configure_logging, get_logger
    from dreamina.entrypoints.http.app import create_app

    _end_with_supervisor()
    settings = load_settings()
    configure_logging(settings.log_level)
    if settings.failpoints:
        from dreamina import failpoints

        failpoints.arm(settings.failpoints)
    get_logger("dreamina.cli").info("api_process_starting", profile=settings.profile)
    return create_app(settings)


PR_SET_PDEATHSIG = 1  # prctl(2): the signal this process gets when the thread that made it ends


def _end_with_supervisor() -> None:
    """Ask Linux for SIGTERM when the supervisor dies, so an API process never outlives it: killed with SIGKILL (the
    OOM killer, ``kill -9``), the supervisor cannot stop its children, and they would go on serving the port without
    anyone to restart them, and refuse the next ``serve`` the port ("Address already in use"). SIGTERM stops uvicorn
    as an operator's does: the requests in flight are answered first. uvicorn starts its children from the
    supervisor's main thread, whose end is the supervisor's (tests/e2e/test_many_processes.py)."""
    parent = multiprocessing.parent_process()
    if parent is None or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent.pid:  # the supervisor died before the request took effect
        raise SystemExit("the supervisor ended before this API process started")
