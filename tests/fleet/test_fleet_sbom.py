"""``envlock sbom``: CycloneDX validated by cyclonedx-python-lib's strict JSON validator, SPDX
shape, licenses read from the packages, and the same packages/versions as pixi-sbom (PyPI)
finds in the same conda-lock file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from create_support import envlock
from fleet_support import as_json
from wheel_index import WheelIndex, pip_env

from envlock.fleet.sbom import wheel_license

pytest_plugins = ["create_support", "fleet_support", "wheel_index"]


def lock_packages(project: Path) -> list[dict]:
    return yaml.safe_load((project / "locks" / "t.conda-lock.yml").read_text())["package"]


def sbom(project: Path, tmp_path: Path, index: WheelIndex, *args: str) -> tuple[dict, dict]:
    out = tmp_path / "sbom.json"
    r = envlock(project, "sbom", "--profile", "t", "-o", str(out), "--json", *args, cache=tmp_path / "c",
                extra_env=pip_env(index, tmp_path / "uv"))
    summary = as_json(r)
    assert r.returncode == 0 and summary["ok"], r.stderr
    return json.loads(out.read_text()), summary


def test_cyclonedx_is_valid_and_complete(pip_project: Path, wheel_index: WheelIndex, tmp_path: Path) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    doc, summary = sbom(pip_project, tmp_path, wheel_index)
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(doc))
    assert error is None, error
    by_name = {c["name"]: c for c in doc["components"]}
    for p in lock_packages(pip_project):
        c = by_name[p["name"]]
        assert c["version"] == p["version"]
        assert {"alg": "SHA-256", "content": p["hash"]["sha256"]} in c["hashes"]
        assert c["externalReferences"] == [{"type": "distribution", "url": p["url"]}]
        assert c["purl"].startswith("pkg:pypi/tinypkg@1.0" if p["manager"] == "pip" else f"pkg:conda/{p['name']}@")
    # conda licenses from the packages' info/index.json; the test wheel declares none: listed, not invented
    assert by_name["tensorflow"]["licenses"] == [{"expression": "BSD-3-Clause"}]
    assert "licenses" not in by_name["tinypkg"] and summary["unknown_licenses"] == ["tinypkg 1.0 (pip)"]


def test_spdx_document(pip_project: Path, wheel_index: WheelIndex, tmp_path: Path) -> None:
    doc, _ = sbom(pip_project, tmp_path, wheel_index, "--format", "spdx")
    assert doc["spdxVersion"] == "SPDX-2.3" and doc["dataLicense"] == "CC0-1.0"
    pkgs = {p["name"]: p for p in doc["packages"]}
    assert set(pkgs) == {p["name"] for p in lock_packages(pip_project)}
    assert pkgs["tinypkg"]["licenseDeclared"] == "NOASSERTION" and pkgs["numpy"]["licenseDeclared"] == "BSD-3-Clause"
    assert all(p["externalRefs"][0]["referenceType"] == "purl" and p["checksums"] for p in doc["packages"])
    assert len(doc["relationships"]) == len(doc["packages"])


def test_wheel_license_fields(tmp_path: Path) -> None:
    def wheel(meta: str) -> Path:
        path = tmp_path / f"w{len(list(tmp_path.iterdir()))}.whl"
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("x-1.0.dist-info/METADATA", "Metadata-Version: 2.4\nName: x\nVersion: 1.0\n" + meta)
        return path

    assert wheel_license(wheel("License-Expression: Apache-2.0\nLicense: ignored\n")) == "Apache-2.0"
    assert wheel_license(wheel("License: MIT\n")) == "MIT"
    assert wheel_license(wheel("Classifier: License :: OSI Approved :: BSD License\n")) == "BSD License"
    assert wheel_license(wheel("")) is None


PIXI_SBOM = shutil.which("pixi-sbom", path=str(Path(sys.executable).parent)) or shutil.which("pixi-sbom")


@pytest.mark.skipif(PIXI_SBOM is None, reason="pixi-sbom (PyPI, in the test extra) is not installed")
def test_same_packages_and_versions_as_pixi_sbom(pip_project: Path, wheel_index: WheelIndex, tmp_path: Path) -> None:
    ours, _ = sbom(pip_project, tmp_path, wheel_index, "--platform", "linux-64")
    r = subprocess.run([str(PIXI_SBOM), "--lockfile", str(pip_project / "locks" / "t.conda-lock.yml"), "--format",
                        "cyclonedx", "--output", "-", "-p", "linux-64"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    theirs = json.loads(r.stdout)

    def key(c: dict) -> tuple[str, str, str]:
        return c["purl"].split("/", 1)[0], c["name"], c["version"]

    assert sorted(map(key, ours["components"])) == sorted(map(key, theirs["components"]))
    # purls agree except the channel qualifier, which envlock adds (pixi-sbom leaves it out)
    strip = lambda p: "&".join(q for q in p.split("&") if not q.startswith("channel="))  # noqa: E731
    assert {strip(c["purl"]) for c in ours["components"]} == {c["purl"] for c in theirs["components"]}
