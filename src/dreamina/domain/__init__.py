"""Pure domain code: depends only on :mod:`dreamina.ports` and the shared privacy kernel."""
