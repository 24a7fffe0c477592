"""An S3 client from the standard AWS configuration (``AWS_ENDPOINT_URL`` and friends), so
S3-compatible stores (MinIO, Ceph) work; boto3 is imported only when an ``s3://`` URL is used."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from envlock.core.errors import InputError


@cache
def s3_client() -> Any:  # noqa: ANN401 - a botocore client
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise InputError("an s3:// mirror needs boto3: pip install 'envlock[s3]'.") from None
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None
    session = boto3.session.Session()
    # boto3 reads AWS_ENDPOINT_URL itself; the pool matches create's parallel downloads
    return session.client("s3", region_name=region or session.region_name or "us-east-1",
                          config=Config(max_pool_connections=16, retries={"max_attempts": 5, "mode": "standard"}))
