"""``python -m crowd.server [sidecar args]``: the sidecar without the rest of the CLI.

The demo, tests and benchmarks spawn the sidecar this way so that it starts even when
another CLI provider cannot be imported, and pays for no other provider's imports.
"""
from __future__ import annotations

import argparse
import sys

from crowd.server.commands import register


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crowd.server")
    sub = parser.add_subparsers(dest="command")
    register(sub)
    args = parser.parse_args(["sidecar", *(sys.argv[1:] if argv is None else argv)])
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
