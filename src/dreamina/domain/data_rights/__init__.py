"""Data rights: access, export, rectification, erasure, objection and restriction (built in the data-rights issue)."""
