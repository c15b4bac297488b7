"""Long-running workers started by the ``dreamina`` command (the SAQ worker lives with its queue adapter)."""
