"""A conda-compatible solver executable for conda-lock, answered by py-rattler."""
