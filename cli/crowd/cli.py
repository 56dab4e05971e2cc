"""The ``crowd`` command line: one entry point, subcommands contributed by each package.

Each provider module exposes ``register(subparsers)`` and adds its own subcommands; a
provider must import heavy dependencies (torch, av, pynput) inside its handlers so that the
light recorder install can still run every other command.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# One line per provider; each package owns its provider module.
PROVIDERS: list[str] = [
    "crowd.server.commands",           # sidecar, demo, snapshot
    "crowd.serializer.commands",       # export, import, inspect
    "crowd.server.extension",          # install-extension (editor bridge)
    "crowd.snapshots.commands",  # snapshot list|restore|export
    "crowd.idm.commands",              # idm prepare|train|eval|label|merge|synth|tiny
    "crowd.transfer.commands",  # upload status|pause|resume|run, ingest
    "crowd.capture.commands",          # cast record|setup|overlay|panic|status
    "crowd.terminal.commands",  # term (PTY recorder)
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crowd", description=__doc__.splitlines()[0])
    from crowd.version import __version__

    parser.add_argument("--version", action="version", version=f"crowd {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in PROVIDERS:
        try:
            provider = importlib.import_module(name)
        except ImportError as exc:
            # A broken or partial install of one part must not take every other command
            # down with it; say which part is missing and why.
            print(f"crowd: commands of {name} unavailable: {exc}", file=sys.stderr)
            continue
        provider.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        rc = handler(args)
    except KeyboardInterrupt:
        return 130
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
