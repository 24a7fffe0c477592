"""Secrets never reach a lockfile.  A channel served over HTTP from 127.0.0.1 with basic auth
stands in for a private remote channel (none is reachable here); the locking and the
downloads are real (conda-lock + py-rattler, then envlock create)."""

from __future__ import annotations

import base64
import functools
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import ENVLOCK, OFFLINE, profile_doc, write_project

from envlock.lockfile.urls import authorized_request, mask_credentials

USER, PASSWORD = "alice", "s3cr3t"


@pytest.fixture(scope="module")
def private_channel(tf_channel: Path) -> Iterator[str]:
    """``tf_channel`` over HTTP, answering 401 to any request without alice's password."""
    expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    class Private(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="channel"')
                self.end_headers()
                return
            super().do_GET()

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Private, directory=str(tf_channel)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_port}"
    server.shutdown()


def run(project: Path, *args: str, env: dict[str, str] | None = None, cache: Path | None = None) -> subprocess.CompletedProcess:
    full = {**os.environ, **OFFLINE, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1", **(env or {})}
    if cache is not None:
        full["ENVLOCK_CACHE_DIR"] = str(cache)
    return subprocess.run([*ENVLOCK, args[0], "--project", str(project), *args[1:]], capture_output=True, text=True, env=full)


def _lock_texts(project: Path) -> dict[Path, str]:
    return {p: p.read_text() for p in (project / "locks").rglob("*") if p.is_file()}


def test_placeholders_written_and_filled_at_download(private_channel: str, tmp_path: Path) -> None:
    channel = "http://${CHANNEL_USER}:${CHANNEL_PASSWORD}@" + private_channel
    project = write_project(tmp_path / "p", {"a": {**profile_doc("a", None), "channels": [channel]}})
    secrets = {"CHANNEL_USER": USER, "CHANNEL_PASSWORD": PASSWORD}
    r = run(project, "lock", env=secrets)
    assert r.returncode == 0, r.stderr
    texts = _lock_texts(project)
    assert texts and not any(PASSWORD in t for t in texts.values())
    unified = texts[project / "locks" / "a.conda-lock.yml"]
    explicit = texts[project / "locks" / "a" / "linux-64.lock"]
    for text in (unified, explicit):
        assert f"http://${{CHANNEL_USER}}:${{CHANNEL_PASSWORD}}@{private_channel}/linux-64/python-" in text
    # create fills the placeholders from the environment when it downloads
    cache = tmp_path / "cache"
    r = run(project, "create", "--profile", "a", "--no-verify", "--json", env={"CHANNEL_USER": USER}, cache=cache)
    assert r.returncode == 2 and "CHANNEL_PASSWORD" in r.stderr and PASSWORD not in r.stderr + r.stdout
    r = run(project, "create", "--profile", "a", "--no-verify", "--json", env=secrets, cache=cache)
    assert r.returncode == 0, r.stderr
    assert (project / ".envs" / "a" / "conda-meta").is_dir()


def test_literal_credentials_stripped_with_warning_and_masked(private_channel: str, tmp_path: Path) -> None:
    channel = f"http://{USER}:{PASSWORD}@{private_channel}"
    project = write_project(tmp_path / "p", {"a": {**profile_doc("a", None), "channels": [channel]}})
    r = run(project, "lock")
    assert r.returncode == 0, r.stderr
    assert "warning" in r.stderr and "${" in r.stderr and PASSWORD not in r.stderr + r.stdout
    texts = _lock_texts(project)
    assert not any(PASSWORD in t or f"{USER}:" in t for t in texts.values())
    assert f"http://{private_channel}/linux-64/python-" in texts[project / "locks" / "a" / "linux-64.lock"]
    # a failing lock's message (and --json) masks the credentials too
    bad = write_project(tmp_path / "q", {"b": {**profile_doc("b", None), "channels": [f"http://{USER}:{PASSWORD}@127.0.0.1:9/none"],
                                               "conda": ["numpy >=99"]}})
    r = run(bad, "lock", "--json")
    assert r.returncode == 2
    assert PASSWORD not in r.stdout + r.stderr and "***@127.0.0.1:9" in json.loads(r.stdout)["error"]


def test_mask_credentials_and_authorized_request(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "fetching https://bob:hunter2@host.example/ch/linux-64/x.conda and https://host.example/t/tk-123/ch/"
    masked = mask_credentials(text)
    assert "hunter2" not in masked and "tk-123" not in masked and "bob" not in masked
    assert "https://***@host.example/ch/linux-64/x.conda" in masked
    assert mask_credentials("http://${U}:${P}@h/c") == "http://${U}:${P}@h/c"  # placeholders are no secret
    monkeypatch.setenv("U", "bob")
    monkeypatch.setenv("P", "p@ss:word")
    url, headers = authorized_request("http://${U}:${P}@h/c/x.conda")
    assert url == "http://h/c/x.conda"
    assert base64.b64decode(headers["Authorization"].split()[1]).decode() == "bob:p@ss:word"
