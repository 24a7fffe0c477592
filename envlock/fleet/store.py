"""Where a mirror lives: a directory (``file://DIR``) or an S3 prefix (``s3://bucket/prefix``).

S3 goes through boto3 with the standard AWS configuration: credentials from the environment,
``~/.aws`` or an instance role, the endpoint from ``AWS_ENDPOINT_URL`` (MinIO, Ceph, a local
S3 server), the region from ``AWS_REGION``/``AWS_DEFAULT_REGION`` (``us-east-1`` if none).
"""

from __future__ import annotations

import os
import shutil
import urllib.parse
from pathlib import Path
from typing import Protocol

from envlock.core.errors import EnvlockError, InputError
from envlock.core.files import write_atomic
from envlock.core.s3 import s3_client


class Store(Protocol):
    url: str

    def sizes(self, prefix: str) -> dict[str, int]:
        """Every key under ``prefix`` with its size."""

    def put_file(self, key: str, path: Path) -> None: ...

    def put_bytes(self, key: str, data: bytes) -> None: ...

    def get_bytes(self, key: str) -> bytes | None:
        """The object, or None where there is none."""


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = root.as_uri()

    def sizes(self, prefix: str) -> dict[str, int]:
        base = self.root / prefix
        if not base.is_dir():
            return {}
        out: dict[str, int] = {}
        for dirpath, _dirs, files in os.walk(base):
            for f in files:
                full = Path(dirpath) / f
                out[full.relative_to(self.root).as_posix()] = full.stat().st_size
        return out

    def put_file(self, key: str, path: Path) -> None:
        dest = self.root / key
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.tmp{os.getpid()}")
        shutil.copyfile(path, tmp)  # never a hard link: an edit of the mirror's copy would edit the source
        os.replace(tmp, dest)

    def put_bytes(self, key: str, data: bytes) -> None:
        dest = self.root / key
        dest.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(dest, data)

    def get_bytes(self, key: str) -> bytes | None:
        try:
            return (self.root / key).read_bytes()
        except FileNotFoundError:
            return None


class S3Store:
    def __init__(self, bucket: str, prefix: str) -> None:
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}".rstrip("/")
        self.client = s3_client()

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _fail(self, what: str, exc: Exception) -> EnvlockError:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "") if hasattr(exc, "response") else ""
        return EnvlockError(f"{self.url}: {what} failed ({code or exc}). Check the bucket, the credentials and "
                            "AWS_ENDPOINT_URL.", exit_code=1)

    def sizes(self, prefix: str) -> dict[str, int]:
        from botocore.exceptions import BotoCoreError, ClientError

        out: dict[str, int] = {}
        strip = len(self._key(""))
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self._key(prefix)):
                for obj in page.get("Contents", []):
                    out[obj["Key"][strip:]] = obj["Size"]
        except (BotoCoreError, ClientError) as exc:
            raise self._fail("listing", exc) from None
        return out

    def put_file(self, key: str, path: Path) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.upload_file(str(path), self.bucket, self._key(key))
        except (BotoCoreError, ClientError, OSError) as exc:
            raise self._fail(f"uploading {key}", exc) from None

    def put_bytes(self, key: str, data: bytes) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(f"writing {key}", exc) from None

    def get_bytes(self, key: str) -> bytes | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            raise self._fail(f"reading {key}", exc) from None
        except BotoCoreError as exc:
            raise self._fail(f"reading {key}", exc) from None


def open_store(url: str) -> FileStore | S3Store:
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        return FileStore(Path(urllib.parse.unquote(parsed.path)))
    if parsed.scheme == "s3" and parsed.netloc:
        return S3Store(parsed.netloc, urllib.parse.unquote(parsed.path))
    raise InputError(f"--to {url}: a mirror is written to file://DIR or s3://BUCKET/PREFIX; fix the URL.")
