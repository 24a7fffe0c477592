"""Linking conda packages into a staging prefix: the fast hard-linker, link plans, rattler."""
