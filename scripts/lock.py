"""Lock the dependencies (`make lock`): pyproject.toml resolved by uv into two hashed requirement files.

requirements.lock is what the image installs (the runtime dependencies); requirements-dev.lock is what
`make install` installs (the same versions, constrained by the first, plus the dev tools). Both are
universal (any platform, Python 3.11-3.12) and pip installs them with --require-hashes, so a package
whose file changed on the index is refused. Each starts with the digest of pyproject.toml's dependency
tables: tests/unit/test_packaging.py tells a lock older than pyproject.toml by it. Versions already
locked are kept where they still fit (uv prefers the output file's pins), so a relock changes little.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNTIME = REPO / "requirements.lock"
DEV = REPO / "requirements-dev.lock"
DIGEST_PREFIX = "# pyproject-deps-sha256: "


def deps_digest(pyproject: Path = REPO / "pyproject.toml") -> str:
    """sha256 of the dependency tables (requires-python, dependencies, extras), whatever the formatting."""
    project = tomllib.loads(pyproject.read_text())["project"]
    tables = {k: project.get(k) for k in ("requires-python", "dependencies", "optional-dependencies")}
    return hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()


def compile_lock(out: Path, *extra: str) -> None:
    uv = Path(sys.executable).with_name("uv")
    subprocess.run(
        [str(uv), "pip", "compile", "pyproject.toml", "--universal", "--python-version", "3.11",
         "--generate-hashes", "--quiet", "--custom-compile-command", "make lock", "-o", str(out), *extra],
        cwd=REPO, check=True,
    )
    out.write_text(f"{DIGEST_PREFIX}{deps_digest()}\n{out.read_text()}")


def main() -> None:
    compile_lock(RUNTIME)
    compile_lock(DEV, "--extra", "dev", "--constraint", str(RUNTIME.relative_to(REPO)))
    print(f"locked {RUNTIME.name} and {DEV.name} ({deps_digest()[:12]})")


if __name__ == "__main__":
    main()
