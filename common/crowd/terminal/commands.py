"""CLI provider: ``crowd term [-- CMD ...]`` records a program (default: your shell) in a PTY."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "term", help="run a shell or program in a recorded terminal (like asciinema rec)",
        description="Run CMD (default: your shell) in a recorded PTY. Streams to a running "
                    "crowd sidecar when one is listening on its loopback WebSocket, else records "
                    "into its own recording folder. Input typed at password prompts is withheld.")
    p.add_argument("--name", default="crowd term", help="terminal name in the recording")
    p.add_argument("--recordings", type=Path, default=None,
                   help="where standalone recordings go (default: $CROWD_HOME/recordings)")
    p.add_argument("--workspace", type=Path, default=None,
                   help="folder command cwds are made relative to (default: the current folder)")
    p.add_argument("--no-sidecar", action="store_true", help="always record standalone")
    p.add_argument("--sidecar-token-file", type=Path, default=None, help=argparse.SUPPRESS)
    p.add_argument("--announce", type=Path, default=None, help=argparse.SUPPRESS)
    p.add_argument("cmd", nargs=argparse.REMAINDER, help="-- CMD [ARGS...]")
    p.set_defaults(handler=_term)


def _term(args: argparse.Namespace) -> int:
    from crowd.home import recordings_dir  # noqa: PLC0415
    from crowd.terminal.recorder import record_terminal  # noqa: PLC0415

    cmd = list(args.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if os.environ.get("CROWD_TERM") == "1" and not cmd:
        print("crowd term: already inside a recorded terminal", file=sys.stderr)
    capture_args = ["--recordings", str(args.recordings or recordings_dir()),
                    "--workspace", str(args.workspace or Path.cwd())]
    if args.no_sidecar:
        capture_args += ["--sidecar", "off"]
    elif args.sidecar_token_file:
        capture_args += ["--sidecar", str(args.sidecar_token_file)]
    if args.announce:
        capture_args += ["--announce", str(args.announce)]
    return record_terminal(cmd, capture_args=capture_args, name=args.name)
