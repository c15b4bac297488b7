"""One HTTP client for the tests' calls to servers they started on 127.0.0.1.

``httpx.get`` makes a client per call, and every client loads the CA bundle into a new SSL context (about 20 ms of
CPU, on a loop that polls ``/health`` while a process starts): this one is made once. It ignores proxy settings from
the environment (tests talk to 127.0.0.1 only) and keeps no connection alive between calls, since the servers behind a
port are killed and started again.
"""

from __future__ import annotations

import httpx

http = httpx.Client(trust_env=False, limits=httpx.Limits(max_keepalive_connections=0))
