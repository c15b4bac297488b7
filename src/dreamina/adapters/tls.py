"""One verifying TLS context per process for every outbound HTTP client.

``httpx.AsyncClient()`` builds its own ``ssl.SSLContext`` and loads the whole CA bundle each time (measured: about
a third of building the container, which every API process, worker and test does). An ``SSLContext`` is safe to
share between clients and threads, and the bundle does not change while the process runs.
"""

from __future__ import annotations

import ssl
from functools import cache

import httpx


@cache
def verified_context() -> ssl.SSLContext:
    """httpx's own default (certifi's bundle, hostname checks, ``SSL_CERT_FILE`` honoured), built once."""
    return httpx.create_ssl_context()
