"""`streamapp automations convert OLD.yml [-o NEW.yml]`: the original system's `provider/params`
rules as our automations.yml (`streamapp.automations.convert`). The new rules go to stdout (or
NEW.yml), what changed meaning to stderr; an old file that cannot be converted is one line naming
the rule and the key, exit code 2."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from streamapp.automations.convert import convert
from streamapp.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("automations", help="automation rules: convert the original system's rules")
    verbs = p.add_subparsers(dest="verb", required=True)
    c = verbs.add_parser("convert", help="the original's provider/params rules as automations.yml")
    c.add_argument("old", type=Path, help="the original's rules file")
    c.add_argument("-o", "--output", type=Path, help="write the new rules here instead of stdout")
    c.set_defaults(func=run_convert)


def run_convert(args: argparse.Namespace) -> int:
    try:
        converted = convert(args.old.read_text(encoding="utf-8"), args.old.name)
    except (ConfigError, OSError, UnicodeDecodeError) as exc:
        print(f"streamapp automations convert: {exc}", file=sys.stderr)
        return 2
    for note in converted.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.output:
        args.output.write_text(converted.text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(converted.text)
    return 0
