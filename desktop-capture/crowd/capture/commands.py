"""CLI: ``crowd cast [record|setup|overlay|panic|status]`` (the desktop recorder).

Heavy libraries (av, mss, pynput, pystray) are imported inside the handlers, so ``crowd
--help`` works on the light install.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    cast = sub.add_parser("cast", help="desktop recorder (crowd-cast compatible screen + keylog)")
    cast.set_defaults(handler=_status)
    csub = cast.add_subparsers(dest="cast_command", metavar="ACTION")

    rec = csub.add_parser("record", help="record the allowed apps until Quit (tray) or Ctrl-C")
    rec.add_argument("--apps", help="comma-separated app ids to record (default: from setup); * = entire screen")
    rec.add_argument("--output", help="recordings folder (default: from setup)")
    rec.add_argument("--display", help="X display (default: $DISPLAY)")
    rec.add_argument("--fps", type=float, help="frames per second (default 30)")
    rec.add_argument("--crf", type=int, help="x264 quality, lower is better (default 23)")
    rec.add_argument("--preset", help="x264 preset (default veryfast)")
    rec.add_argument("--segment", type=float, default=300.0, help="segment length in seconds")
    rec.add_argument("--idle", type=float, default=120.0, help="pause after this many seconds without input")
    rec.add_argument("--hold", type=float, default=0.0,
                     help="extra seconds a finished segment stays here before it goes to the upload queue "
                          "(default 0: the queue's own hold, 600 s, is the only one)")
    rec.add_argument("--duration", type=float, help="stop after this many seconds")
    rec.add_argument("--no-tray", action="store_true", help="no tray icon")
    rec.add_argument("--local", action="store_true", help="do not hand segments to the upload queue")
    rec.set_defaults(handler=_record)

    st = csub.add_parser("setup", help="choose which applications are recorded")
    st.add_argument("--apps", help="comma-separated app ids (non-interactive)")
    st.add_argument("--all", action="store_true", help="record the entire screen")
    st.add_argument("--list", action="store_true", help="only list apps with open windows")
    st.add_argument("--output", help="recordings folder")
    st.add_argument("--fps", type=float)
    st.add_argument("--display", help="X display (default: $DISPLAY)")
    st.set_defaults(handler=_setup)

    ov = csub.add_parser("overlay", help="render a segment with keys, clicks, scrolls and motion drawn over it")
    ov.add_argument("video", help="recording_<uuid>_segNNNN.mp4")
    ov.add_argument("--keylog", help="input_<uuid>_segNNNN.msgpack (default: next to the video)")
    ov.add_argument("-o", "--output", help="output .mp4 (default: <video>_overlay.mp4)")
    ov.set_defaults(handler=_overlay)

    pn = csub.add_parser("panic", help="delete the last 10 minutes of desktop recording")
    pn.add_argument("--output", help="recordings folder (default: from setup)")
    pn.add_argument("--minutes", type=float, default=10.0)
    pn.set_defaults(handler=_panic)

    ss = csub.add_parser("status", help="recorder state, settings and recorded sessions")
    ss.add_argument("--output", help="recordings folder (default: from setup)")
    ss.add_argument("--json", action="store_true")
    ss.set_defaults(handler=_status)


def _settings():
    from crowd.capture.settings import load_settings

    return load_settings()


def _record(args: argparse.Namespace) -> int:
    import logging

    from crowd.capture.app import CastController, LocalOnlySink
    from crowd.capture.encoder import VideoSettings
    from crowd.capture.recorder import RecorderConfig
    from crowd.format.desktop.state import running_pid

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = _settings()
    apps = [a.strip() for a in args.apps.split(",")] if args.apps else settings.apps
    if not apps:
        print("crowd cast: no apps chosen; run `crowd cast setup` or pass --apps", file=sys.stderr)
        return 2
    other = running_pid()
    if other is not None and other != os.getpid():
        print(f"crowd cast: already recording (pid {other})", file=sys.stderr)
        return 1
    fps = args.fps or settings.fps
    config = RecorderConfig(
        output_dir=Path(args.output) if args.output else settings.output_path,
        apps=apps, display=args.display, fps=fps, segment_seconds=args.segment,
        idle_seconds=args.idle, hold_seconds=args.hold,
        video=VideoSettings(fps=fps, codec=settings.codec, preset=args.preset or settings.preset,
                            crf=args.crf if args.crf is not None else settings.crf))
    controller = CastController(config, settings, tray=not args.no_tray,
                                sink=LocalOnlySink() if args.local else None)
    print(f"crowd cast: recording {', '.join(apps)} into {config.output_dir}", flush=True)
    rc = controller.run(duration=args.duration)
    rec = controller.recorder
    if rec is not None:
        print(f"crowd cast: {len(rec.segments)} segment(s) written", flush=True)
    return rc


def _setup(args: argparse.Namespace) -> int:
    from crowd.capture.settings import save_settings
    from crowd.capture.setup_apps import choose_apps, running_apps

    settings = _settings()
    if args.list:
        for app in running_apps(args.display):
            print(app.app_id)
        return 0
    if args.all:
        apps = ["*"]
    elif args.apps:
        apps = [a.strip() for a in args.apps.split(",") if a.strip()]
    else:
        if not sys.stdin.isatty():
            print("crowd cast setup: pass --apps or --all when not interactive", file=sys.stderr)
            return 2
        apps = choose_apps(running_apps(args.display))
    if not apps:
        print("crowd cast setup: nothing chosen; settings unchanged", file=sys.stderr)
        return 2
    settings.apps = apps
    if args.output:
        settings.output_dir = str(Path(args.output).resolve())
    if args.fps:
        settings.fps = args.fps
    path = save_settings(settings)
    print(f"crowd cast: will record {'the entire screen' if apps == ['*'] else ', '.join(apps)}")
    print(f"settings: {path}")
    return 0


def _overlay(args: argparse.Namespace) -> int:
    from crowd.capture.overlay import render_overlay

    video = Path(args.video)
    if not video.exists():
        print(f"crowd cast overlay: no such file: {video}", file=sys.stderr)
        return 2
    try:
        stats = render_overlay(video, Path(args.keylog) if args.keylog else None,
                               Path(args.output) if args.output else None)
    except (ValueError, FileNotFoundError) as exc:
        print(f"crowd cast overlay: {exc}", file=sys.stderr)
        return 2
    print(f"{stats.output}: {stats.frames} frames, {stats.events_drawn} events drawn")
    return 0


def _panic(args: argparse.Namespace) -> int:
    """Signal a running recorder (it deletes its live + held segments), else purge the folder."""
    from crowd.capture.hold import purge_recent
    from crowd.format.desktop.state import running_pid

    pid = running_pid()
    if pid is not None:
        os.kill(pid, signal.SIGUSR1)
        print(f"crowd cast: asked the recorder (pid {pid}) to delete the last 10 minutes")
        return 0
    folder = Path(args.output) if args.output else _settings().output_path
    deleted = purge_recent(folder, args.minutes * 60)
    shredded: list[str] = []
    try:
        from crowd.home import crowd_home
        from crowd.transfer.queue import UploadQueue
    except ImportError:  # no upload queue installed: nothing else to remove
        pass
    else:
        # always, even when no file was left here: the queue's held bundles are copies
        queue_dir = crowd_home() / "upload"
        if (queue_dir / "queue.sqlite3").exists():
            shredded = UploadQueue(queue_dir).panic(time.time() - args.minutes * 60, kind="desktop")
    print(f"crowd cast: deleted {len(deleted)} file(s) from {folder}, {len(shredded)} held upload bundle(s)")
    return 0


def _status(args: argparse.Namespace) -> int:
    from crowd.format.desktop.layout import list_sessions
    from crowd.capture.settings import settings_path, status_path
    from crowd.format.desktop.state import running_pid

    try:
        settings = _settings()
    except ValueError as exc:
        print(f"crowd cast: {exc}", file=sys.stderr)
        return 2
    folder = Path(getattr(args, "output", None) or settings.output_path)
    pid = running_pid()
    live = None
    if pid is not None and status_path().exists():
        try:
            live = json.loads(status_path().read_text())
        except (OSError, json.JSONDecodeError):
            live = None
    sessions = list_sessions(folder) if folder.is_dir() else []
    info = {
        "running": pid is not None, "pid": pid, "status": live,
        "apps": settings.apps, "settings": str(settings_path()), "output_dir": str(folder),
        "sessions": [{"id": s.session_id, "segments": len(s.segments)} for s in sessions],
    }
    if getattr(args, "json", False):
        print(json.dumps(info, indent=2))
        return 0
    print(f"recorder: {'running (pid %d)' % pid if pid else 'not running'}")
    if live:
        print(f"  state {live.get('state')}, tray {live.get('tray')}, context {live.get('context')}")
    print(f"apps: {', '.join(settings.apps) if settings.apps else '(none: run `crowd cast setup`)'}")
    print(f"recordings: {folder} ({len(sessions)} session(s), "
          f"{sum(len(s.segments) for s in sessions)} segment(s))")
    return 0
