"""The layout is the architecture (docs/architecture.md): each package imports only packages
below it, nothing outside envlock/cli/ imports the CLI, no module (but the probe) passes 400
lines.  Read from the source with ``ast``; function-level imports count too."""

from __future__ import annotations

import ast
from pathlib import Path

import envlock

ROOT = Path(envlock.__file__).parent
LAYERS = ["cli", "upgrade", "fleet", "create", "verify", "prefix", "lock", "audit", "profiles", "compat",
          "lockfile", "core"]  # top to bottom, as in docs/architecture.md


def _imports(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.append(node.module)
        elif isinstance(node, ast.Import):
            out += [a.name for a in node.names]
    return [m for m in out if m.startswith("envlock.")]


def test_every_module_lives_in_a_layer_package() -> None:
    top = sorted(p.name for p in ROOT.glob("*.py"))
    assert top == ["__init__.py"]
    assert sorted(p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()) == sorted(LAYERS)


def test_packages_import_only_lower_layers() -> None:
    upward = []
    for path in ROOT.rglob("*.py"):
        src = path.relative_to(ROOT).parts[0]
        for module in _imports(path):
            dst = module.split(".")[1]
            if dst != src and dst in LAYERS and LAYERS.index(dst) <= LAYERS.index(src):
                upward.append(f"{path.relative_to(ROOT)} -> {module}")
    assert upward == []


def test_no_module_is_too_long_to_read() -> None:
    long = {str(p.relative_to(ROOT)): n for p in ROOT.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 400 and p.name != "probe.py"}
    assert long == {}
