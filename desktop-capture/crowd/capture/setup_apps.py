"""``crowd cast setup``: choose which applications are recorded.

Lists the apps that have windows open right now (X11: ``_NET_CLIENT_LIST`` with WM_CLASS)
and lets the user pick by number, or takes ``--apps`` / ``--all`` for scripts. The result is
stored as app ids (what ContextChanged records), never window titles.
"""
from __future__ import annotations

import sys
from collections.abc import Callable

from crowd.capture.focus import SELF_APP_IDS, FocusInfo


def running_apps(display: str | None = None) -> list[FocusInfo]:
    """One entry per app id with an open window, crowd itself excluded, sorted by id."""
    if sys.platform.startswith("linux"):
        from crowd.capture.focus.x11 import list_windows

        windows = list_windows(display)
    else:
        windows = []
    seen: dict[str, FocusInfo] = {}
    for w in windows:
        if w.names() & SELF_APP_IDS:
            continue
        seen.setdefault(w.app_id.lower(), w)
    return sorted(seen.values(), key=lambda f: f.app_id.lower())


def choose_apps(apps: list[FocusInfo], ask: Callable[[str], str] = input,
                say: Callable[[str], None] = print) -> list[str]:
    """Interactive pick: numbers separated by commas/spaces, ``*`` for the entire screen."""
    if not apps:
        say("No application windows found. Type app ids (WM_CLASS) separated by commas, or * for the whole screen.")
        raw = ask("apps> ").strip()
        return [a.strip() for a in raw.replace(" ", ",").split(",") if a.strip()]
    say("Applications with open windows:")
    for i, app in enumerate(apps, 1):
        say(f"  {i:2d}. {app.app_id}")
    say("Pick the ones to record (e.g. 1,3), * for the entire screen, or type app ids.")
    while True:
        raw = ask("record> ").strip()
        if raw == "*":
            return ["*"]
        chosen: list[str] = []
        bad = []
        for tok in raw.replace(" ", ",").split(","):
            tok = tok.strip()
            if not tok:
                continue
            if tok.isdigit():
                if 1 <= int(tok) <= len(apps):
                    chosen.append(apps[int(tok) - 1].app_id)
                else:
                    bad.append(tok)
            else:
                chosen.append(tok)
        if bad:
            say(f"no such number: {', '.join(bad)}")
            continue
        if chosen:
            return list(dict.fromkeys(chosen))
        say("pick at least one app (or * for the entire screen)")
