"""What gets installed is locked and what runs is unprivileged: the hashed locks match pyproject.toml
(every pin, and no change to the dependency tables since `make lock`), `make install` and the image
install from them, and the image's processes run as a user other than root."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from scripts.lock import DEV, DIGEST_PREFIX, RUNTIME, deps_digest
from tests.conftest import REPO

PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
_ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def locked(path) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) of a uv/pip-compile requirements file."""
    out: dict[str, tuple[str, int]] = {}
    name = ""
    for line in path.read_text().splitlines():
        if m := _ENTRY.match(line):
            name = canonicalize_name(m[1])
            out[name] = (m[2], 0)
        elif line.strip().startswith("--hash=sha256:") and name:
            out[name] = (out[name][0], out[name][1] + 1)
    return out


def pins(requirements: list[str]) -> dict[str, str]:
    out = {}
    for text in requirements:
        req = Requirement(text)
        spec = list(req.specifier)
        assert len(spec) == 1 and spec[0].operator == "==", f"pyproject.toml: {text!r} is not pinned with =="
        out[canonicalize_name(req.name)] = spec[0].version
    return out


def test_locks_are_current_with_pyproject() -> None:
    for lock in (RUNTIME, DEV):
        first = lock.read_text().splitlines()[0]
        assert first == f"{DIGEST_PREFIX}{deps_digest()}", f"{lock.name} is older than pyproject.toml: run `make lock`"


def test_locks_cover_every_pin_at_its_version_with_hashes() -> None:
    runtime, dev = locked(RUNTIME), locked(DEV)
    wanted_runtime = pins(PROJECT["dependencies"])
    wanted_dev = wanted_runtime | pins(PROJECT["optional-dependencies"]["dev"])
    for lock, wanted, name in ((runtime, wanted_runtime, RUNTIME.name), (dev, wanted_dev, DEV.name)):
        assert {p: lock.get(p, ("missing",))[0] for p in wanted} == wanted, name
        assert all(n > 0 for _, n in lock.values()), f"{name}: an entry without a hash"
    assert "streamapp" not in runtime  # the project itself is installed from the tree, not the lock
    # The image runs what the tests ran: every runtime package at the same version in both locks.
    assert {p: dev.get(p, ("missing",))[0] for p in runtime} == {p: v for p, (v, _) in runtime.items()}


def test_starlette_is_out_of_the_known_cve_ranges() -> None:
    # CVE-2025-54121 (fixed in 0.47.2), CVE-2025-62727 (0.49.1), CVE-2026-48710 (Host header, 1.0.1).
    version = tuple(int(x) for x in locked(RUNTIME)["starlette"][0].split(".")[:3])
    assert version >= (1, 0, 1)


def test_make_install_and_the_image_install_from_the_locks() -> None:
    make = (REPO / "Makefile").read_text()
    recipe = make[make.index("$(STAMP): "):].split("\n\n")[0]
    assert "requirements-dev.lock" in recipe.splitlines()[0]  # a relock reinstalls
    assert re.search(r"pip install -q --require-hashes -r requirements-dev\.lock", recipe)
    assert re.search(r"pip install -q --no-deps -e \.", recipe)
    assert "'.[dev]'" not in recipe
    docker = (REPO / "Dockerfile").read_text()
    assert "pip install --no-cache-dir --require-hashes -r requirements.lock" in docker
    assert re.search(r"pip install --no-cache-dir --no-deps \.", docker)


def test_the_image_runs_as_an_unprivileged_user_who_owns_the_data_volume() -> None:
    instructions = [
        line.split(maxsplit=1) for line in (REPO / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    users = [arg.strip() for word, arg in instructions if word.upper() == "USER"]
    assert users, "the image runs as root: no USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    runs = " ".join(arg for word, arg in instructions if word.upper() == "RUN")
    assert re.search(rf"useradd [^&]*\b{user}\b", runs) and re.search(rf"chown -R {user}\S* /data", runs)
    # Docker keeps what a step changed in a VOLUME's path only if it happened before the VOLUME line.
    chown = max(i for i, (word, arg) in enumerate(instructions) if word.upper() == "RUN" and "chown" in arg)
    assert [word.upper() for word, _ in instructions].index("VOLUME") > chown
