"""Fail closed: a probe step the profile needs that errors, is skipped or is absent makes
``envlock verify`` exit 1 with a failed check named after the step — for CPU, CUDA and Metal
profiles.  The CLI, the probe runner and every check are real; the environment's interpreter is
a shell script printing a probe document (the real CPU recording, or a constructed CUDA/Metal
one).  Mocked only because it cannot exist here: the host's NVIDIA driver and, for Metal, the
platform name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.register_assert_rewrite("tests.verify_support")

from envlock.cli.group import main  # noqa: E402
from envlock.verify import hardware  # noqa: E402
from tests.verify_support import fake_prefix, probe_fixture, write_profile  # noqa: E402

pytest_plugins = ["tests.verify_support"]

STEPS = ("python", "tensorflow", "keras", "build_info", "devices", "benchmarks", "libraries")
PROFILES = {
    # name: (fixture, profile overrides, driver CUDA, platform)
    "cpu": ("cpu-linux-x86_64.json", {}, None, "linux-64"),
    "cuda": ("constructed-cuda-linux-x86_64.json", {"tensorflow": {"variant": "cuda"}, "verify": {"device": "gpu"}}, "12.8", "linux-64"),
    "metal": ("constructed-metal-macos-arm64.json", {"platforms": ["osx-arm64"], "tensorflow": {"version": "2.19.*", "variant": "metal"},
                                                     "verify": {"device": "metal"}}, None, "osx-arm64"),
}


def verify_with(monkeypatch, project, tmp_path: Path, kind: str, edit=None, *extra: str) -> tuple[int, dict]:  # noqa: ANN001
    fixture, overrides, driver, platform = PROFILES[kind]
    tmp_path.mkdir(parents=True, exist_ok=True)
    prefix = tmp_path / "env"
    doc = probe_fixture(fixture, prefix)
    if edit is not None:
        edit(doc["measurements"])
    (tmp_path / "doc.json").write_text(json.dumps(doc))
    fake_prefix(prefix, f'cat "{tmp_path / "doc.json"}"')
    write_profile(project.root, kind, **overrides)
    monkeypatch.setattr(hardware, "host_cuda_version", lambda: driver)
    monkeypatch.setattr(hardware, "current_platform", lambda: platform)
    r = CliRunner().invoke(main, ["verify", "--project", str(project.root), "--profile", kind, "--prefix", str(prefix),
                                  "--json", "--no-record", *extra])
    return r.exit_code, json.loads(r.stdout)


@pytest.mark.parametrize("kind", PROFILES)
def test_untouched_document_passes(monkeypatch, project, tmp_path, kind):
    code, doc = verify_with(monkeypatch, project, tmp_path, kind)
    assert code == 0 and doc["ok"] is True, [c for c in doc["checks"] if not c["ok"]]
    assert not [c for c in doc["checks"] if c["name"].startswith("probe.")]


def _error(step: str):  # noqa: ANN202
    def edit(m: dict) -> None:
        m[step] = {"status": "error", "seconds": 0.1,
                   "error": {"type": "RuntimeError", "message": f"{step} exploded", "traceback": "..."}}
    return edit


def _absent(step: str):  # noqa: ANN202
    def edit(m: dict) -> None:
        m.pop(step, None)
    return edit


@pytest.mark.parametrize("kind", PROFILES)
@pytest.mark.parametrize("step", STEPS)
def test_erroring_step_fails(monkeypatch, project, tmp_path, kind, step):
    code, doc = verify_with(monkeypatch, project, tmp_path, kind, _error(step))
    assert code == 1 and doc["ok"] is False
    check = {c["name"]: c for c in doc["checks"]}[f"probe.{step}"]
    assert not check["ok"] and check["actual"] == f"RuntimeError: {step} exploded"


@pytest.mark.parametrize("kind", PROFILES)
@pytest.mark.parametrize("step", STEPS)
def test_absent_step_fails(monkeypatch, project, tmp_path, kind, step):
    if kind == "metal" and step == "libraries":
        pytest.skip("libraries reads /proc/self/maps: a macOS probe never has it (covered by the erroring case)")
    code, doc = verify_with(monkeypatch, project, tmp_path, kind, _absent(step))
    assert code == 1 and doc["ok"] is False
    check = {c["name"]: c for c in doc["checks"]}[f"probe.{step}"]
    assert not check["ok"] and check["actual"] == "missing from the probe's document"


@pytest.mark.parametrize("kind", PROFILES)
def test_skipped_devices_step_fails(monkeypatch, project, tmp_path, kind):
    def edit(m: dict) -> None:
        m["devices"] = {"status": "skipped", "reason": "tensorflow did not import"}
    code, doc = verify_with(monkeypatch, project, tmp_path, kind, edit)
    check = {c["name"]: c for c in doc["checks"]}["probe.devices"]
    assert code == 1 and check["actual"] == "skipped: tensorflow did not import"


def test_benchmark_turned_off_is_not_a_failure_but_an_empty_one_is(monkeypatch, project, tmp_path):
    def off(m: dict) -> None:
        m["benchmarks"] = {"status": "skipped", "reason": "benchmarks disabled (--no-bench)"}
    code, doc = verify_with(monkeypatch, project, tmp_path, "cpu", off, "--no-bench")
    assert code == 0 and doc["ok"] is True

    def empty(m: dict) -> None:
        m["benchmarks"]["value"]["results"] = []
    code, doc = verify_with(monkeypatch, project, tmp_path / "b", "cpu", empty)
    check = {c["name"]: c for c in doc["checks"]}["probe.benchmarks"]
    assert code == 1 and check["actual"] == "the benchmark step reported no results"
