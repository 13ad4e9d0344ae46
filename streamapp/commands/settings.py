"""`streamapp settings [--markdown]`: every setting with its default and meaning (the README's
settings table is this output; a test keeps them equal)."""

from __future__ import annotations

import argparse
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import SecretStr

from streamapp.sealing import new_key
from streamapp.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("settings", help="list every setting (environment variable), default and meaning")
    p.add_argument("--markdown", action="store_true", help="as a Markdown table")
    p.add_argument("--new-secrets-key", action="store_true", help="print a fresh key for SECRETS_KEY")
    p.set_defaults(func=run)


def rows() -> list[tuple[str, str, str]]:
    out = []
    for name, field in Settings.model_fields.items():
        if field.default_factory is not None:
            default = "(computed)" if name == "bridge_consumer" else repr(field.default_factory())  # type: ignore[call-arg]
        elif isinstance(field.default, SecretStr):
            default = _masked(field.default.get_secret_value())
        elif isinstance(field.default, Path):
            default = f'"{field.default}"'
        elif isinstance(field.default, tuple):  # a comma list in the environment
            default = f'"{",".join(field.default)}"'
        else:
            default = repr(field.default) if not isinstance(field.default, str) else f'"{field.default}"'
        out.append((name.upper(), default, field.description or ""))
    return out


def _masked(value: str) -> str:
    """A secret's default as shown to people: empty, or a URL with its password hidden."""
    if not value:
        return '""'
    url = urlsplit(value)
    if url.password:
        return f'"{url._replace(netloc=url.netloc.replace(":" + url.password + "@", ":***@")).geturl()}"'
    return "(secret)"


def markdown() -> str:
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    lines += [f"| `{n}` | `{d}` | {m.replace('|', '/')} |" for n, d, m in rows()]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.new_secrets_key:
        print(new_key())
    elif args.markdown:
        print(markdown())
    else:
        for name, default, meaning in rows():
            print(f"{name}={default}\n    {meaning}")
    return 0
