"""CLI provider: ``crowd sidecar`` (the editor's recorder process) and ``crowd demo``."""
from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sidecar", help="run the editor sidecar (JSON-RPC over stdio, or --ws)",
                       description="Run the recording sidecar an editor extension talks to (docs/protocol.md).")
    p.add_argument("--stdio", action="store_true", help="speak over stdin/stdout (the default)")
    p.add_argument("--ws", action="store_true", help="serve a loopback WebSocket that requires a token")
    p.add_argument("--no-ws", action="store_true",
                   help="over stdio, do not also listen on the loopback WebSocket that `crowd term` streams to")
    p.add_argument("--port", type=int, default=0, help="WebSocket port (0: any free port; see the token file)")
    p.add_argument("--token-file", type=Path, default=None,
                   help="where the WebSocket's {port, token} go (default: $CROWD_HOME/sidecar-ws.json, mode 0600)")
    p.add_argument("--recordings-dir", type=Path, default=None,
                   help="where recordings go (default: $CROWD_HOME/recordings)")
    p.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ERROR (logs go to stderr)")
    p.set_defaults(handler=_sidecar)

    d = sub.add_parser("demo", help="record a scripted editor session through a real sidecar and summarise it",
                       description="Start a real sidecar, drive it like an editor would, print what was recorded.")
    d.add_argument("--out", type=Path, default=None, help="recordings folder (default: $CROWD_HOME/recordings)")
    d.add_argument("--panic", action="store_true", help="also press the panic button at the end (deletes 1 minute)")
    d.add_argument("--keep-workspace", action="store_true", help="keep the temporary workspace folder")
    d.add_argument("--show-log", action="store_true", help="print the sidecar's log")
    d.set_defaults(handler=_demo)


def _sidecar(args: argparse.Namespace) -> int:
    from crowd.server.app import build_server, serve_stdio, serve_ws, setup_logging  # noqa: PLC0415

    setup_logging(args.log_level)
    server = build_server(recordings_dir=args.recordings_dir)
    if args.ws:
        from crowd.server.ws import default_token_file  # noqa: PLC0415

        serve_ws(server, args.port, args.token_file or default_token_file())
    else:
        serve_stdio(server, args.token_file, listen=not args.no_ws)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from crowd.server.demo import main  # noqa: PLC0415

    return main(out=args.out, panic=args.panic, keep_workspace=args.keep_workspace, show_log=args.show_log)
