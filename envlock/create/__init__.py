"""``envlock create``: materialize a lock into a conda prefix, atomically and fast.

Modules: ``pipeline`` (the orchestration: no-op check, fetch -> link -> pip -> stamp -> swap),
``cache`` (download + hash check into the shared package cache), ``link/`` (the fast hard-linker,
link plans, py-rattler), ``pip_install`` and ``pip_snapshot`` (uv, hashes, no resolution; a warm
create re-links uv's last install), ``repair`` (what ``--reinstall`` distrusts),
``mirror_source`` (where each package is fetched from), ``progress`` (rich on a TTY, lines in CI).
The prefix itself (atomic swap, stamp, drift) is ``envlock.prefix``'s.  Heavy imports (py-rattler)
happen only inside ``link`` when rattler actually links something.
"""
