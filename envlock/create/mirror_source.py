"""Where ``create`` fetches a locked package from when a mirror is in use.

The only fleet code on the create path: ``source_url`` maps a locked URL to the mirror's URL
for it (``ENVLOCK_MIRROR``, which ``create --mirror`` sets), and ``open_s3`` reads an
``s3://`` mirror through boto3, imported only then.  Every byte is still checked against the
lock's hash by the package cache; a package the mirror lacks is an error naming it, never a
fallback to the locked URL.
"""

from __future__ import annotations

import os
import urllib.parse
from typing import IO

from envlock.core.errors import CheckFailed, EnvlockError, InputError
from envlock.core.names import canonical_name
from envlock.lockfile import LockedPackage

MIRROR_ENV = "ENVLOCK_MIRROR"
SCHEMES = ("file", "s3", "http", "https")


def active_mirror() -> str | None:
    """The mirror URL create uses (``ENVLOCK_MIRROR``), checked; None without one."""
    url = os.environ.get(MIRROR_ENV, "").strip()
    if not url:
        return None
    return check_mirror_url(url, f"{MIRROR_ENV}={url}")


def check_mirror_url(url: str, where: str) -> str:
    scheme = urllib.parse.urlparse(url).scheme
    if scheme not in SCHEMES or (scheme == "s3" and not urllib.parse.urlparse(url).netloc):
        raise InputError(f"{where}: a mirror is file://DIR, s3://BUCKET/PREFIX or http(s)://HOST/PATH "
                         "(the URL `envlock mirror --to` wrote to); fix the URL.")
    return url.rstrip("/")


def conda_subdir(pkg: LockedPackage) -> str:
    """The channel subdir of a conda archive, from its locked URL (``.../linux-64/x.conda``)."""
    parts = pkg.url.split("#", 1)[0].rstrip("/").rsplit("/", 2)
    return parts[-2] if len(parts) == 3 and parts[-2] else pkg.platform


def mirror_key(pkg: LockedPackage) -> str:
    """The package's path inside a mirror."""
    if pkg.manager == "pip":
        return f"pypi/simple/{canonical_name(pkg.name)}/{pkg.filename}"
    return f"conda/{conda_subdir(pkg)}/{pkg.filename}"


def source_url(pkg: LockedPackage) -> str:
    """Where to fetch ``pkg`` from: the mirror's copy when one is active, else its locked URL."""
    mirror = os.environ.get(MIRROR_ENV)
    if not mirror:
        return pkg.url
    base = check_mirror_url(mirror.strip(), f"{MIRROR_ENV}={mirror}")
    url = f"{base}/{urllib.parse.quote(mirror_key(pkg))}"
    if base.startswith("file:") and not os.path.isfile(urllib.parse.unquote(urllib.parse.urlparse(url).path)):
        raise missing(pkg, url, "no such file")
    return url


def missing(pkg: LockedPackage, url: str, why: str) -> CheckFailed:
    return CheckFailed(f"{url}: {pkg.label()} is not in the mirror ({why}); nothing was installed and nothing "
                       "was fetched from the locked URL instead. Run `envlock mirror --profile <profile> --to "
                       f"{os.environ.get(MIRROR_ENV, '<mirror>')}` to add it.")


def open_s3(url: str, pkg: LockedPackage | None = None) -> IO[bytes]:
    """A streaming read of ``s3://bucket/key`` (credentials and endpoint: the standard AWS
    configuration, ``AWS_ENDPOINT_URL`` included)."""
    from envlock.core.s3 import s3_client

    parsed = urllib.parse.urlparse(url)
    key = urllib.parse.unquote(parsed.path.lstrip("/"))
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return s3_client().get_object(Bucket=parsed.netloc, Key=key)["Body"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "404", "NotFound") and pkg is not None:
            raise missing(pkg, url, f"S3 answered {code}") from None
        raise EnvlockError(f"{url}: S3 read failed ({code or exc}). Check the bucket, the credentials and "
                           "AWS_ENDPOINT_URL.", exit_code=1) from None
    except BotoCoreError as exc:
        raise EnvlockError(f"{url}: S3 read failed ({exc}). Check AWS_ENDPOINT_URL and the network.",
                           exit_code=1) from None
