"""CLI provider for recordings: ``crowd export``, ``import``, ``inspect``, ``replay``, ``dataset``.

Handlers import their modules lazily so ``crowd --help`` stays fast and light.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a recording to another format (crowd-code 2.0 layout)")
    p.add_argument("recording", type=Path, help="recording folder (or any input crowd can read)")
    p.add_argument("-o", "--out", type=Path, default=None,
                   help="output folder (default: .); for --jsonl a file (default: standard output)")
    p.add_argument("--crowd-code2", action="store_true", help="crowd-code 2.0 session folder + source_part tarballs")
    p.add_argument("--no-tarballs", action="store_true", help="only chunk/snapshot JSON, no source_part_NNN.tar.gz")
    p.add_argument("--asciicast", action="store_true",
                   help="a terminal's screens as asciicast v2 (-o: .cast file or folder)")
    p.add_argument("--terminal", default=None, help="which terminal to export with --asciicast")
    p.add_argument("--jsonl", action="store_true",
                   help="every event, one JSON object per line, lossless (for jq and checks)")
    p.set_defaults(handler=_export)

    p = sub.add_parser("import", help="import crowd-code 2.0 sessions or 1.0 CSV as a crowd recording")
    p.add_argument("inputs", type=Path, nargs="+", help="cc2 folders/tarballs/chunks (one session) or a cc1 .csv")
    p.add_argument("-o", "--out", type=Path, required=True, help="folder to create the recording in")
    p.add_argument("--start-wall", type=int, default=None,
                   help="epoch ms of a 1.0 CSV's start (default: the time in its crowd-code-<id>-<time> folder)")
    p.set_defaults(handler=_import)

    p = sub.add_parser("inspect", help="summary of a recording and the problems found in it")
    p.add_argument("recording", type=Path)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=_inspect)

    p = sub.add_parser("replay", help="replay a recording in the terminal, as HTML, or follow a live one")
    p.add_argument("recording", type=Path, help="recording folder, session id, 'latest', crowd-code 2.0 "
                                                "session/tarball or 1.0 CSV")
    p.add_argument("--html", action="store_true", help="write one self-contained HTML player")
    p.add_argument("-o", "--out", type=str,
                   help="output file for --html (default: <name>.html); a folder (existing, or ending in /) gets <name>.html")
    p.add_argument("--serve", action="store_true", help="follow a live recording over a WebSocket")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--speed", type=float, default=1.0, help="playback speed (terminal UI)")
    p.add_argument("--no-idle-skip", action="store_true", help="play idle gaps in real time")
    p.add_argument("--frames", type=int, default=0,
                   help="print N plain frames to stdout and exit (no interactive UI)")
    p.set_defaults(handler=_replay)

    p = sub.add_parser("dataset", help="convert recordings into training datasets (JSONL + Parquet; "
                                       "Parquet shards on Ray with --ray or s3:// inputs)")
    p.add_argument("inputs", nargs="+", help="recordings (any input crowd can read), or s3://bucket/prefix "
                                             "of uploaded sessions (processed on Ray)")
    p.add_argument("-o", "--out", type=Path, required=True)
    p.add_argument("--kind", choices=["trajectories", "pairs", "next-action", "sed", "all"], default="all")
    p.add_argument("--val-fraction", type=float, default=0.1, help="share of sessions in validation")
    p.add_argument("--max-tokens", type=int, default=8192, help="next-action chunk size in tokens")
    p.add_argument("--no-parquet", action="store_true")
    add_scale_arguments(p)
    p.set_defaults(handler=_dataset)


def add_scale_arguments(p: argparse.ArgumentParser) -> None:
    """``--ray``/``--num-cpus``/``--s3-endpoint``: one task per session or segment on Ray Data
    (crowd.cluster), writing Parquet shards and a dataset card."""
    p.add_argument("--ray", metavar="ADDRESS", default=None,
                   help="run one task per session/segment on Ray Data: a cluster's address (host:port), "
                        "'local' to start Ray on this machine (the default for s3:// inputs), or 'off' for "
                        "the same tasks in this process")
    p.add_argument("--num-cpus", type=int, default=None, help="CPUs of a local Ray (default: all)")
    p.add_argument("--s3-endpoint", default=None,
                   help="S3 endpoint of s3:// inputs (default: $CROWD_S3_ENDPOINT or $AWS_ENDPOINT_URL; "
                        "keys from $AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY)")


def scale_engine(ray: str | None) -> tuple[str, str | None]:
    """(engine, address) for ``--ray``: 'off' -> in this process, 'local'/None -> a local Ray."""
    if ray == "off":
        return "local", None
    return "ray", None if ray in (None, "local") else ray


def resolve(path: Path) -> Path:
    """A path as given, else a session id in the recordings folder, or ``latest`` (newest one)."""
    if path.exists():
        return path
    from crowd.home import recordings_dir

    root = recordings_dir()
    if str(path) == "latest" and root.is_dir():
        found = [p for p in root.iterdir() if p.is_dir() and any(p.glob("seg-*.crowd"))]
        if found:
            return max(found, key=lambda p: max(s.stat().st_mtime for s in p.glob("seg-*.crowd")))
    if (root / path).is_dir():
        return root / path
    return path


def _load(path: Path):
    from crowd.serializer.interop.load import UnknownInput, load_events

    path = resolve(path)
    try:
        return load_events(path)
    except (UnknownInput, ValueError) as exc:
        print(f"crowd: {exc}", file=sys.stderr)
        return None


def _export(args: argparse.Namespace) -> int:
    if args.jsonl:
        return _export_jsonl(args)
    args.out = args.out if args.out is not None else Path(".")
    if args.asciicast:
        from crowd.terminal.asciicast import export_command
        return export_command(args, _load, resolve)
    if not args.crowd_code2:
        print("crowd export: choose a target format (--crowd-code2, --asciicast or --jsonl)",
              file=sys.stderr)
        return 2
    loaded = _load(args.recording)
    if loaded is None:
        return 1
    from crowd.serializer.interop.cc2_export import export_cc2
    from crowd.serializer.interop.snapshots import store_loader

    rec = resolve(args.recording)
    loader = store_loader(rec) if loaded.format == "crowd" and rec.is_dir() else None
    res = export_cc2(loaded.events, args.out, tarballs=not args.no_tarballs, snapshot_loader=loader)
    print(f"wrote {res.folder}: {len(res.chunks)} chunks, {len(res.snapshots)} snapshots, "
          f"{len(res.parts)} source parts, {res.events} events")
    if res.dropped:
        print("not representable in crowd-code 2.0 (dropped): "
              + ", ".join(f"{k} x{v}" for k, v in sorted(res.dropped.items())))
    for p in loaded.problems:
        print(f"problem in input: {p}", file=sys.stderr)
    return 0


def _export_jsonl(args: argparse.Namespace) -> int:
    """``crowd export --jsonl``: to a file with ``-o``, else to standard output (a pipe into
    ``head`` that closes early ends quietly)."""
    loaded = _load(args.recording)
    if loaded is None:
        return 1
    from crowd.serializer.interop.jsonl import write_jsonl

    for p in loaded.problems:
        print(f"problem in input: {p}", file=sys.stderr)
    if args.out is None:
        try:
            write_jsonl(loaded.events, sys.stdout)
            sys.stdout.flush()
        except BrokenPipeError:
            # the reader stopped early (``| head``): not an error; keep Python's exit flush quiet
            import os
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    out = args.out / f"{resolve(args.recording).name}.jsonl" if args.out.is_dir() else args.out
    try:
        with open(out, "w", encoding="ascii", newline="\n") as fh:
            count = write_jsonl(loaded.events, fh)
    except OSError as exc:
        print(f"crowd export: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"wrote {out}: {count} events", file=sys.stderr)
    return 0


def _import(args: argparse.Namespace) -> int:
    from crowd.format import RecordingWriter
    from crowd.serializer.interop.cc1_import import Cc1ImportError, import_cc1, is_cc1
    from crowd.serializer.interop.cc2_import import Cc2ImportError, import_cc2

    try:
        if len(args.inputs) == 1 and is_cc1(args.inputs[0]):
            events, problems = import_cc1(args.inputs[0], start_wall=args.start_wall)
        else:
            events, problems = import_cc2(*args.inputs)
    except (Cc1ImportError, Cc2ImportError, OSError) as exc:
        print(f"crowd import: {exc}", file=sys.stderr)
        return 1
    from crowd.serializer.interop.redact import redact_events

    events, redactions, secret_files = redact_events(events)
    if redactions or secret_files:
        print(f"redacted {redactions} secrets; left out {len(secret_files)} secret files", file=sys.stderr)
    from crowd.serializer.interop.cc2_layout import path_component

    session_id = events[0].get("session_id") or "imported"
    target = args.out / path_component(session_id)  # the id comes from the input: never a path
    if target.exists() and any(target.iterdir()):
        print(f"crowd import: {target} already exists and is not empty; nothing written", file=sys.stderr)
        return 1
    writer = RecordingWriter(target)
    writer.extend(events)
    writer.close()
    for p in problems:
        print(f"problem: {p}", file=sys.stderr)
    print(f"wrote {target}: {len(events)} events")
    return 0


def summarize(loaded) -> dict:
    """What ``crowd inspect`` prints, as data."""
    events = loaded.events
    kinds = Counter(f"{e.get('type')}/{e.get('kind')}" for e in events)
    sources = Counter(e.get("source") for e in events if e.get("type") == "action")
    files = sorted({e["file"] for e in events if isinstance(e.get("file"), str)})
    agents = sorted({e["agent"] for e in events if e.get("agent")})
    t = [e.get("t", 0) for e in events]
    problems = list(loaded.problems)
    seqs = [e.get("seq") for e in events if isinstance(e.get("seq"), int)]
    gaps = sum(1 for a, b in zip(seqs, seqs[1:]) if b != a + 1)
    if gaps:
        problems.append(f"{gaps} gaps in seq (events missing or removed by panic)")
    if any(b < a for a, b in zip(t, t[1:])):
        problems.append("timestamps go backwards")
    if events and not (events[-1].get("type") == "session" and events[-1].get("kind") == "stop"):
        problems.append("no session stop at the end (the recorder was killed or is still running)")
    return {"path": str(loaded.path), "format": loaded.format, "session_id": loaded.session_id,
            "events": len(events), "duration_s": round((max(t) - min(t)) / 1e6, 3) if t else 0.0,
            "kinds": dict(sorted(kinds.items())), "sources": {str(k): v for k, v in sorted(sources.items(), key=str)},
            "agents": agents, "files": files, "torn_tail": loaded.torn_tail, "problems": problems}


def _reader_gone() -> int:
    """Standard output's reader went away (``| head``): not an error. Point stdout at
    /dev/null so Python's flush at exit does not print a BrokenPipe traceback."""
    import os

    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _inspect(args: argparse.Namespace) -> int:
    try:
        code = _inspect_print(args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        return _reader_gone()


def _inspect_print(args: argparse.Namespace) -> int:
    loaded = _load(args.recording)
    if loaded is None:
        return 1
    info = summarize(loaded)
    if args.json:
        print(json.dumps(info, indent=2, ensure_ascii=False))
        return 0
    print(f"{info['path']}  ({info['format']})")
    print(f"session {info['session_id']}: {info['events']} events over {info['duration_s']:.1f} s")
    print("sources: " + ", ".join(f"{k} {v}" for k, v in info["sources"].items()))
    if info["agents"]:
        print("agents: " + ", ".join(info["agents"]))
    print(f"files ({len(info['files'])}): " + ", ".join(info["files"][:20]) + (" ..." if len(info["files"]) > 20 else ""))
    for k, v in info["kinds"].items():
        print(f"  {k:32s} {v}")
    if info["torn_tail"]:
        print("torn tail: the last frame was cut (writer killed); every complete frame was read")
    for p in info["problems"]:
        print(f"problem: {p}")
    return 0


def _replay(args: argparse.Namespace) -> int:
    if args.serve:
        from crowd.serializer.interop.load import load_events
        from crowd.serializer.replay.serve import serve

        return serve(resolve(args.recording), lambda path: load_events(path).events, args.host, args.port)
    loaded = _load(args.recording)
    if loaded is None:
        return 1
    if args.html:
        from crowd.serializer.replay.html import write_html

        name = f"{resolve(args.recording).name or 'replay'}.html"
        out = Path(args.out) if args.out else Path(name)
        if args.out and (args.out.endswith(("/", "\\")) or out.is_dir()):
            out = out / name  # "-o dir/" writes into the folder, never a file named dir
        try:
            write_html(loaded.events, out, title=loaded.session_id or args.recording.name)
        except OSError as exc:
            print(f"crowd replay: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        print(f"wrote {out}")
        return 0
    from crowd.serializer.replay.tui import run_tui

    try:
        code = run_tui(loaded.events, speed=args.speed, idle_skip=not args.no_idle_skip, frames=args.frames)
        sys.stdout.flush()
        return code
    except BrokenPipeError:  # --frames into "| head"
        return _reader_gone()


def _dataset(args: argparse.Namespace) -> int:
    from crowd.serializer.dataset.build import build_datasets

    kinds = ["trajectories", "pairs", "next-action", "sed"] if args.kind == "all" else [args.kind]
    if args.ray is not None or any(i.startswith("s3://") for i in args.inputs):
        return _dataset_sharded(args, kinds)
    try:
        meta = build_datasets([Path(i) for i in args.inputs], args.out, kinds=kinds, val_fraction=args.val_fraction,
                              max_tokens=args.max_tokens, parquet=not args.no_parquet)
    except (ValueError, OSError) as exc:  # unreadable input, duplicate session: say so, write nothing more
        print(f"crowd dataset: {exc}", file=sys.stderr)
        return 1
    for name, info in meta["datasets"].items():
        print(f"{name}: train {info['rows']['train']} rows, validation {info['rows']['validation']} rows")
    for p in meta.get("problems", []):
        print(f"problem: {p}", file=sys.stderr)
    print(f"wrote {args.out} (metadata.json)")
    return 0


def _dataset_sharded(args: argparse.Namespace, kinds: list[str]) -> int:
    from crowd.cluster.engine import RayMissing
    from crowd.serializer.dataset.sharded import run_dataset

    engine, address = scale_engine(args.ray)
    try:
        result = run_dataset(args.inputs, args.out, address, args.num_cpus, kinds=kinds,
                             val_fraction=args.val_fraction, max_tokens=args.max_tokens, engine=engine,
                             endpoint=args.s3_endpoint)
    except (ValueError, OSError, RayMissing) as exc:
        print(f"crowd dataset: {exc}", file=sys.stderr)
        return 1
    for name, rows in result.rows.items():
        print(f"{name}: train {rows.get('train', 0)} rows, validation {rows.get('validation', 0)} rows")
    for p in result.problems:
        print(f"problem: {p}", file=sys.stderr)
    print(f"wrote {args.out}: {len(result.sessions)} sessions in {result.seconds:.1f} s "
          "(Parquet shards, README.md dataset card, metadata.json)")
    return 0
