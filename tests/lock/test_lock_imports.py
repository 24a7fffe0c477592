"""``envlock lock``'s modules load neither conda-lock (imported only when a solve starts, so
the solve server can load repodata meanwhile) nor every audit rule (only a re-lock that
compares old and new needs ``envlock.audit``)."""

from __future__ import annotations

import subprocess
import sys


def test_lock_orchestration_imports_no_audit_and_no_conda_lock() -> None:
    code = ("import sys, envlock.lock.orchestrate; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'conda_lock' or m.startswith('envlock.audit')))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
