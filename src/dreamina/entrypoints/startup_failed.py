"""What a process that cannot start raises (``entrypoints/startup.py``): in a module of its own, so the command line
can catch it without importing the database layer before it knows which command runs."""

from __future__ import annotations


class StartupFailed(Exception):
    """The process cannot start; ``hint`` says what the operator can do."""

    def __init__(self, error: str, hint: str) -> None:
        super().__init__(error)
        self.hint = hint
