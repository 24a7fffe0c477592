"""``envlock lock``: profile -> conda part (conda-lock + rattler) -> pip part (uv) -> lockfiles."""
