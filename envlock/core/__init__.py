"""Foundations every layer uses: project paths, errors, records, hashing, YAML, files."""
