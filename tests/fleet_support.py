"""PYTEST_DONT_REWRITE. Fixtures for the fleet tests: a project locked against its own copy of
the test channel (so a test can take the channel away and prove packages came from a mirror),
and a real S3 API served locally by moto's standalone server (no client mock)."""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path

import pytest
from conftest import profile_doc, write_project
from create_support import TOOL, envlock

S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
          "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}


@pytest.fixture(scope="module")
def fleet_project(tmp_path_factory: pytest.TempPathFactory, tf_channel: Path, extra_channel: Path) -> Path:
    """Profile ``t`` locked against copies of the two test channels under ``<root>/channels``."""
    base = tmp_path_factory.mktemp("fleet")
    channels = base / "channels"
    shutil.copytree(tf_channel, channels / "tf")
    shutil.copytree(extra_channel, channels / "extra")
    doc = profile_doc("t", None, conda=[TOOL, "pdata"])
    doc["channels"] = [(channels / "tf").as_uri(), (channels / "extra").as_uri()]
    root = write_project(base / "project", {"t": doc})
    r = envlock(root, "lock", "--profile", "t", cache=base / "unused-cache")
    assert r.returncode == 0, r.stderr
    return root


def channels_of(project: Path) -> Path:
    return project.parent / "channels"


class ChannelsGone:
    """The original channels moved away for the duration: nothing can come from the lock's URLs."""

    def __init__(self, project: Path) -> None:
        self.path = channels_of(project)
        self.away = self.path.with_name("channels.away")

    def __enter__(self) -> ChannelsGone:
        os.replace(self.path, self.away)
        return self

    def __exit__(self, *exc: object) -> None:
        os.replace(self.away, self.path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server():
    """moto's standalone S3 server on 127.0.0.1: (endpoint URL, env for processes using it)."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    env = {**S3_ENV, "AWS_ENDPOINT_URL": endpoint}
    yield endpoint, env
    server.stop()


def make_bucket(env: dict, name: str) -> None:
    import boto3

    boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                 aws_access_key_id="testing", aws_secret_access_key="testing").create_bucket(Bucket=name)


def s3_object(env: dict, bucket: str, key: str) -> bytes:
    import boto3

    client = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    return client.get_object(Bucket=bucket, Key=key)["Body"].read()


def as_json(r) -> dict:  # noqa: ANN001 - a CompletedProcess
    assert r.stdout.strip(), r.stderr
    return json.loads(r.stdout)
