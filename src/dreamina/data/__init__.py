"""Data the package ships: the policy text, the jurisdiction table."""
