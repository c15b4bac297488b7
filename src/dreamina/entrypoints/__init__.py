"""What starts things: the HTTP API, the ``dreamina`` command and the workers.

Entrypoints drive the domain through the use cases the composition root (``dreamina.bootstrap``) wires; they never
build an adapter themselves, and nothing below them (root, adapters, domain, ports) imports them.
"""
