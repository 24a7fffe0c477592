"""``envlock kernel``: a Jupyter kernel spec for an environment, written without jupyter_client.

ipykernel itself is not installed here (it would pull about fifteen more wheels from PyPI):
where a test needs it present, an ``ipykernel_launcher.py`` file stands in for it — the
command only checks that the module its argv runs is there.  The spec's interpreter is then
started with exactly the spec's argv[0] and env, running ``-c`` instead of the launcher."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from create_support import envlock

from envlock.prefix.kernel import LAUNCHER

pytest_plugins = ["create_support"]  # fixtures: project, cache, env, locked_template, extra_channel


def site_dir(prefix: Path) -> Path:
    [site] = list((prefix / "lib").glob("python*/site-packages"))
    return site


def test_without_ipykernel_one_line_error_naming_the_package(env, tmp_path: Path) -> None:
    project, prefix, cache = env
    data = tmp_path / "jupyter-data"
    r = envlock(project, "kernel", "--profile", "t", cache=cache, extra_env={"JUPYTER_DATA_DIR": str(data)})
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) <= 3
    text = " ".join(r.stderr.split())
    assert "ipykernel is not installed" in text and "`pip:`" in text and "profiles/t.yml" in text
    assert not data.exists()


def test_spec_in_the_jupyter_data_dir_starts_the_env_python_with_its_variables(env, tmp_path: Path) -> None:
    project, prefix, cache = env
    (site_dir(prefix) / f"{LAUNCHER}.py").write_text("# stand-in for ipykernel's launcher\n")
    data = tmp_path / "jupyter-data"
    r = envlock(project, "kernel", "--profile", "t", "--name", "t-env", "--user", "--json", cache=cache,
                extra_env={"JUPYTER_DATA_DIR": str(data)})
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    path = data / "kernels" / "t-env" / "kernel.json"
    assert doc["ok"] is True and doc["kernel_json"] == str(path)
    spec = json.loads(path.read_text())
    assert spec["argv"] == [str(prefix.resolve() / "bin" / "python"), "-m", LAUNCHER, "-f", "{connection_file}"]
    assert spec["display_name"] and spec["language"] == "python"
    assert spec["env"]["FOO"] == "bar baz" and spec["env"]["CONDA_PREFIX"] == str(prefix.resolve())
    # Jupyter starts argv with the spec's env over its own; a cleared environment here
    out = subprocess.run(["env", "-i", "PATH=/usr/bin:/bin", *(f"{k}={v}" for k, v in spec["env"].items()),
                          spec["argv"][0], "-c", "import os, sys; print(os.environ['FOO']); print(sys.prefix)"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["bar baz", str(prefix.resolve())]


def test_bad_kernel_name_is_bad_input(env, tmp_path: Path) -> None:
    project, prefix, cache = env
    (site_dir(prefix) / f"{LAUNCHER}.py").write_text("# stand-in\n")
    r = envlock(project, "kernel", "--profile", "t", "--name", "a b/c", cache=cache,
                extra_env={"JUPYTER_DATA_DIR": str(tmp_path / "jd")})
    assert r.returncode == 2 and "--name" in r.stderr and "Traceback" not in r.stderr
