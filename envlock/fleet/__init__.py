"""Fleet distribution: a package mirror (directory or S3) that ``create --mirror`` installs
from, offline bundles (``pack``/``unpack``) and SBOMs of a lock.

Mirror layout (the same in a directory, an S3 prefix and a bundle)::

    conda/<subdir>/<archive>                  a conda channel, indexed by py-rattler
    conda/<subdir>/repodata.json
    pypi/simple/index.html                    a PEP 503 simple index
    pypi/simple/<name>/index.html             links to the wheels beside it, with #sha256=
    pypi/simple/<name>/<wheel>
    envlock-mirror.json                       what the mirror holds: key -> sha256, size
"""
