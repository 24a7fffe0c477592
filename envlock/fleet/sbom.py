"""``envlock sbom``: a software bill of materials of a lock (CycloneDX 1.6 or SPDX 2.3 JSON).

Every locked package of the platform(s) with its purl (``pkg:conda/...``, ``pkg:pypi/...``),
version, hashes, source URL and license.  Licenses come from the packages themselves: a conda
package's ``info/about.json`` or ``info/index.json`` (its extraction in the package cache, else
the archive, fetched and hash-checked like create does); a wheel's ``License-Expression``, else
its ``License`` field, else its ``License ::`` classifiers.  A package whose license cannot
be read is listed without one (SPDX: ``NOASSERTION``) and counted in ``unknown_licenses``.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from envlock import __version__
from envlock.core.errors import CheckFailed, EnvlockError
from envlock.core.names import canonical_name
from envlock.create.mirror_source import conda_subdir
from envlock.lockfile import LockedPackage

FORMATS = ("cyclonedx", "spdx")
_SPDX_TOKEN = re.compile(r"^[A-Za-z0-9.+-]+$")


@dataclass(kw_only=True)
class SbomResult:
    profile: str
    platforms: list[str]
    format: str
    output: str
    components: int
    unknown_licenses: list[str] = field(default_factory=list)


def purl(pkg: LockedPackage) -> str:
    if pkg.manager == "pip":
        return f"pkg:pypi/{canonical_name(pkg.name)}@{urllib.parse.quote(pkg.version)}"
    kind = "conda" if pkg.filename.endswith(".conda") else "tar.bz2"
    quals = {"build": pkg.build, "channel": pkg.channel_name, "subdir": conda_subdir(pkg), "type": kind}
    query = "&".join(f"{k}={urllib.parse.quote(v, safe='')}" for k, v in quals.items() if v)
    return f"pkg:conda/{urllib.parse.quote(pkg.name.lower())}@{urllib.parse.quote(pkg.version)}?{query}"


def _conda_license(pkg: LockedPackage, root: Path) -> str | None:
    from envlock.create import cache

    extracted = cache.pkgs_dir(root) / f"{pkg.name}-{pkg.version}-{pkg.build}" / "info"
    for name in ("about.json", "index.json"):
        try:
            value = json.loads((extracted / name).read_text()).get("license")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(value, str) and value.strip():
            return value.strip()
    import rattler.package

    path, _ = cache.ensure_archive(root, pkg)
    value = rattler.package.IndexJson.from_package_archive(path).license
    return value.strip() if value and value.strip() else None


def wheel_license(path: Path) -> str | None:
    """License-Expression, else License (a short one), else the License classifiers."""
    from email.parser import HeaderParser

    with zipfile.ZipFile(path) as z:
        meta_name = next((n for n in z.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")), None)
        if meta_name is None:
            return None
        meta = HeaderParser().parsestr(z.read(meta_name).decode("utf-8", "replace"))
    if (expr := (meta.get("License-Expression") or "").strip()):
        return expr
    text = (meta.get("License") or "").strip()
    if text and "\n" not in text and len(text) <= 100 and text.upper() != "UNKNOWN":
        return text
    classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    return " AND ".join(classifiers) or None


def license_of(pkg: LockedPackage, root: Path) -> str | None:
    from envlock.create import cache

    try:
        if pkg.manager == "pip":
            path, _ = cache.ensure_archive(root, pkg)
            return wheel_license(path)
        return _conda_license(pkg, root)
    except CheckFailed:
        raise  # an archive that is not what the lock pins: no SBOM entry may vouch for it
    except (EnvlockError, OSError, ValueError, zipfile.BadZipFile, RuntimeError):
        return None  # unreachable or unreadable: listed without a license, counted as unknown


def _hashes(pkg: LockedPackage) -> list[tuple[str, str]]:
    return [(a, h.lower()) for a, h in (("SHA-256", pkg.sha256), ("MD5", pkg.md5)) if h]


def _cdx_license(text: str) -> dict:
    tokens = text.replace("(", " ").replace(")", " ").split()
    if all(t in ("AND", "OR", "WITH") or _SPDX_TOKEN.match(t) for t in tokens):
        return {"expression": text}
    return {"license": {"name": text}}


def cyclonedx(name: str, platforms: Sequence[str], pkgs: Sequence[LockedPackage], licenses: dict[int, str | None]) -> dict:
    components = []
    for p in pkgs:
        comp: dict = {"type": "library", "bom-ref": f"{purl(p)}#{p.platform}", "name": p.name, "version": p.version,
                      "purl": purl(p), "hashes": [{"alg": a, "content": h} for a, h in _hashes(p)],
                      "externalReferences": [{"type": "distribution", "url": p.url}],
                      "properties": [{"name": "envlock:manager", "value": p.manager},
                                     {"name": "envlock:platform", "value": p.platform}]}
        if (lic := licenses[id(p)]) is not None:
            comp["licenses"] = [_cdx_license(lic)]
        components.append(comp)
    return {
        "bomFormat": "CycloneDX", "specVersion": "1.6", "serialNumber": f"urn:uuid:{uuid.uuid4()}", "version": 1,
        "metadata": {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                     "tools": {"components": [{"type": "application", "name": "envlock", "version": __version__}]},
                     "component": {"type": "application", "bom-ref": f"envlock-profile:{name}", "name": name,
                                   "properties": [{"name": "envlock:platforms", "value": ",".join(platforms)}]}},
        "components": components,
        "dependencies": [{"ref": f"envlock-profile:{name}", "dependsOn": [c["bom-ref"] for c in components]}],
    }


def spdx(name: str, platforms: Sequence[str], pkgs: Sequence[LockedPackage], licenses: dict[int, str | None]) -> dict:
    packages, rels = [], []
    for i, p in enumerate(pkgs):
        ref = f"SPDXRef-Package-{i}"
        lic = licenses[id(p)]
        packages.append({
            "SPDXID": ref, "name": p.name, "versionInfo": p.version, "downloadLocation": p.url or "NOASSERTION",
            "filesAnalyzed": False, "licenseConcluded": "NOASSERTION", "licenseDeclared": lic or "NOASSERTION",
            "checksums": [{"algorithm": a.replace("-", ""), "checksumValue": h} for a, h in _hashes(p)],
            "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": purl(p)}],
            "comment": f"{p.manager} package for {p.platform}",
        })
        rels.append({"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": ref})
    return {
        "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"envlock-{name}-{'-'.join(platforms)}",
        "documentNamespace": f"https://envlock.invalid/spdx/{name}/{uuid.uuid4()}",
        "creationInfo": {"created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                         "creators": [f"Tool: envlock-{__version__}"]},
        "packages": packages, "relationships": rels,
    }


def build_sbom(project, name: str, *, platform: str | None = None, fmt: str = "cyclonedx",  # noqa: ANN001 - a Project
               jobs: int = 8) -> tuple[dict, SbomResult]:
    from concurrent.futures import ThreadPoolExecutor

    from envlock.core.errors import InputError
    from envlock.create import cache
    from envlock.fleet.mirror import locked_packages

    if fmt not in FORMATS:
        raise InputError(f"--format {fmt}: choose one of {', '.join(FORMATS)}.")
    pkgs = sorted(locked_packages(project, [name], platform), key=lambda p: (p.platform, p.manager, p.name))
    root = cache.cache_root()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        licenses = dict(zip([id(p) for p in pkgs], pool.map(lambda p: license_of(p, root), pkgs), strict=True))
    platforms = sorted({p.platform for p in pkgs})
    doc = (cyclonedx if fmt == "cyclonedx" else spdx)(name, platforms, pkgs, licenses)
    unknown = sorted({p.label() for p in pkgs if licenses[id(p)] is None})
    return doc, SbomResult(profile=name, platforms=platforms, format=fmt, output="-", components=len(pkgs),
                           unknown_licenses=unknown)
