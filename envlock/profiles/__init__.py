"""Profiles: the typed model, loading with field errors, rendering over the template, rules."""
