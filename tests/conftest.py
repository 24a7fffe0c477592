"""Shared fixtures: a real local conda channel (real archives, indexed by py-rattler) shaped
like conda-forge's TensorFlow packages, and throwaway projects whose profiles lock against it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from channel_factory import (  # noqa: E402
    PackageSpec,
    build_channel,
    host_python_version,
    stub_python_spec,
    venv_python_spec,
)

PY = host_python_version()

# The envlock CLI as tests run it (a fresh process, like a user).
ENVLOCK = [sys.executable, "-m", "envlock.cli.__main__"]
# Every proxy points at a closed port: a command that should need no network (local channels
# only) fails if it tries to fetch anything (conda-lock's mapping from GitHub, micromamba, PyPI).
OFFLINE = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "ALL_PROXY": "http://127.0.0.1:9",
           "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9", "NO_PROXY": "", "no_proxy": ""}
PYMM = "".join(PY.split(".")[:2])  # "311"


def tf_channel_specs() -> list[PackageSpec]:
    """Several TensorFlow versions, cpu and cuda builds, across linux-64, osx-arm64, noarch."""
    specs: list[PackageSpec] = [
        venv_python_spec("linux-64"),
        stub_python_spec(PY, "osx-arm64"),
        PackageSpec("pip", "24.2", "pyh_0", noarch="python", depends=["python >=3.8"],
                    files={"site-packages/pip_stub/__init__.py": b""}),
        PackageSpec("cuda-version", "12.8", "h0_3", noarch="generic", constrains=["__cuda >=12"],
                    files={"share/cuda-version/12.8": b"12.8\n"}),
        PackageSpec("cuda-version", "11.8", "h0_3", noarch="generic", constrains=["__cuda >=11"],
                    files={"share/cuda-version/11.8": b"11.8\n"}),
    ]
    for kv in ("3.5.0", "3.10.0"):
        specs.append(PackageSpec("keras", kv, "pyh_0", noarch="python", depends=["python >=3.9", "numpy"],
                                 files={f"site-packages/keras_stub_{kv.replace('.', '_')}/__init__.py": f"__version__ = '{kv}'\n".encode()}))
    specs.append(PackageSpec("tf-keras", "2.19.0", "pyh_0", noarch="python", depends=["python >=3.9"],
                             files={"site-packages/tf_keras_stub/__init__.py": b""}))
    for subdir in ("linux-64", "osx-arm64"):
        specs.append(PackageSpec("numpy", "2.1.0", f"py{PYMM}_0", subdir=subdir, depends=[f"python {PY.rsplit('.', 1)[0]}.*"],
                                 files={"lib/numpy_stub.txt": f"numpy for {subdir}\n".encode()}))
        for tfv, kreq in (("2.18.0", "keras >=3.0"), ("2.19.0", "keras >=3.5")):
            common = [f"python {PY.rsplit('.', 1)[0]}.*", kreq, "numpy >=1.26"]
            specs.append(PackageSpec("tensorflow", tfv, f"cpu_py{PYMM}h1_0", subdir=subdir, depends=common,
                                     track_features="tensorflow-cpu", fmt="conda",
                                     files={f"lib/tf-{tfv}-cpu.txt": b"cpu build\n"}))
            if subdir == "linux-64":
                specs.append(PackageSpec("tensorflow", tfv, f"cuda128py{PYMM}h1_200", subdir=subdir, build_number=200,
                                         depends=[*common, "__cuda", "cuda-version >=12.8,<13"],
                                         files={f"lib/tf-{tfv}-cuda.txt": b"cuda build\n"}))
    return specs


@pytest.fixture(scope="session")
def tf_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_channel(tmp_path_factory.mktemp("channel"), tf_channel_specs())


TEMPLATE = {"name": "envlock", "channels": ["conda-forge"], "dependencies": [f"python {PY.rsplit('.', 1)[0]}.*", "pip"]}


def profile_doc(name: str, channel: Path | None, **overrides: object) -> dict:
    doc: dict = {
        "name": name, "description": f"test profile {name}", "platforms": ["linux-64"],
        "python": f"{PY.rsplit('.', 1)[0]}.*",
        "tensorflow": {"version": "2.19.*", "source": "conda", "variant": "cpu"},
        "keras": "3.*", "virtual_packages": {"linux-64": {"__glibc": "2.28"}},
    }
    if channel is not None:
        doc["channels"] = [channel.as_uri()]
    doc.update(overrides)
    return doc


def write_project(root: Path, profiles: dict[str, dict], template: dict | None = None) -> Path:
    (root / "profiles").mkdir(parents=True, exist_ok=True)
    (root / "environment.template.yml").write_text(yaml.safe_dump(template or TEMPLATE, sort_keys=False))
    for name, doc in profiles.items():
        (root / "profiles" / f"{name}.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return root


@pytest.fixture
def make_project(tmp_path: Path, tf_channel: Path):
    """make_project({"name": {profile overrides}}) -> project root locking against tf_channel."""

    def make(profiles: dict[str, dict], template: dict | None = None) -> Path:
        docs = {name: profile_doc(name, tf_channel, **over) for name, over in profiles.items()}
        return write_project(tmp_path / "project", docs, template)

    return make
