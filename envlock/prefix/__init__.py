"""What lives in an environment: atomic swap, stamp, activation, drift."""
