"""Ports: the capabilities the domain needs, as ``typing.Protocol`` interfaces and the records they carry.

Ports depend on nothing but the standard library and the shared privacy kernel. Each has an in-memory fake in
:mod:`dreamina.adapters.memory` and at least one real adapter; one contract suite per port runs against both.
"""
