"""Adapters: the real (and in-memory) implementations of the ports, and the HTTP interface."""
