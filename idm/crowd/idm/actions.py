"""crowd-cast keylog entries -> the IDM's sparse per-frame actions.

An event at video time t belongs to frame floor(t * fps): the last frame shown before the
event, which is the frame on which the recipe reports an action (its effect appears later).

Choices made explicit here (and tested):
- KeyPress: modifiers are folded into the next non-modifier key and never emitted alone;
  order Cmd, Ctrl, Alt, Shift. Holding Cmd+Shift then pressing P gives one "Cmd+Shift+P".
- Held keys (``held`` argument): "events" (default) emits one action per press event the OS
  delivered, with auto-repeat presses deduplicated to at most one per frame per key, because
  auto-repeat has a visible effect on every frame it types into; "once" emits only the first
  press of a hold; "frames" is the reference's behaviour of repeating the key on every frame
  it is held down (up to, not including, its release frame), whether or not the OS repeated it.
- MouseMove: dx, dy summed per frame, scaled to -1000..1000 by the source width/height.
- MouseScroll: vertical wheel steps summed per frame, times ``scroll_px`` pixels per step, on
  the same scale as moves; horizontal scrolling is not represented (the format has one value).
- A ContextChanged to UNCAPTURED releases every held key: the recorder drops input outside
  tracked apps, so a release may never arrive.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from crowd.format.desktop import keylog as kl

from crowd.idm.prompt import Action

MODIFIER_ORDER = ("Cmd", "Ctrl", "Alt", "Shift")
_MODIFIERS = {
    "MetaLeft": "Cmd", "MetaRight": "Cmd", "Meta": "Cmd", "Cmd": "Cmd", "Command": "Cmd", "Super": "Cmd",
    "ControlLeft": "Ctrl", "ControlRight": "Ctrl", "Control": "Ctrl", "Ctrl": "Ctrl",
    "Alt": "Alt", "AltLeft": "Alt", "AltRight": "Alt", "AltGr": "Alt", "Option": "Alt",
    "ShiftLeft": "Shift", "ShiftRight": "Shift", "Shift": "Shift",
}
HELD_MODES = ("events", "once", "frames")
# Pixels one wheel step scrolls, per platform (Linux/Windows report steps, macOS pixels).
SCROLL_PX = {"linux": 50.0, "windows": 50.0, "macos": 1.0}


def modifier_of(name: str) -> str | None:
    return _MODIFIERS.get(name)


def key_label(name: str) -> str:
    """crowd-cast key name -> label: KeyA -> A, Digit5 -> 5, others unchanged (Return, F1)."""
    if name.startswith("Key") and len(name) == 4:
        return name[3:]
    if name.startswith("Digit") and len(name) == 6:
        return name[5:]
    return name


def combo(mods: set[str], key: str) -> str:
    return "+".join([m for m in MODIFIER_ORDER if m in mods] + [key_label(key)])


@dataclass
class Geometry:
    """Source size used for normalisation and the platform (for scroll units)."""

    width: int
    height: int
    platform: str = "linux"


def geometry_of(entries: list[kl.Entry], fallback: tuple[int, int]) -> Geometry:
    """First Metadata's source size (then display size), else the video size."""
    for e in entries:
        ev = e.event
        if isinstance(ev, kl.Metadata):
            w, h = (ev.source_width, ev.source_height) if ev.source_width and ev.source_height else (
                ev.display_width, ev.display_height)
            if w and h:
                return Geometry(int(w), int(h), ev.platform or "linux")
    return Geometry(*fallback)


def _norm(v: float, size: int) -> int:
    return max(-1000, min(1000, round(v * 1000.0 / size)))


def extract_actions(entries: list[kl.Entry], fps: float, geometry: Geometry, n_frames: int | None = None,
                    held: str = "events", scroll_px: float | None = None) -> dict[int, list[Action]]:
    """Per-frame actions (frame index in the segment) from one segment's keylog."""
    if held not in HELD_MODES:
        raise ValueError(f"held must be one of {HELD_MODES}, got {held!r}")
    step_px = SCROLL_PX.get(geometry.platform, 1.0) if scroll_px is None else scroll_px
    keys: dict[int, list[Action]] = defaultdict(list)
    clicks: dict[int, list[Action]] = defaultdict(list)
    move: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    scroll: dict[int, float] = defaultdict(float)
    mods: set[str] = set()
    down: dict[str, tuple[int, str]] = {}  # key name -> (press frame, combo)
    last_emit: dict[str, int] = {}
    holds: list[tuple[int, int, str]] = []  # (first frame, last frame, combo) for held="frames"

    def release(name: str, frame: int) -> None:
        if name in down:
            start, label = down.pop(name)
            holds.append((start, frame, label))

    for e in sorted(entries, key=lambda e: e.t_us):
        ev, f = e.event, e.frame(fps)
        if n_frames is not None and f >= n_frames:
            continue
        if isinstance(ev, kl.KeyPress):
            if modifier_of(ev.name):
                mods.add(ev.name)  # physical key: ShiftLeft and ShiftRight are held independently
                continue
            label = combo({modifier_of(n) for n in mods}, ev.name)
            repeat = ev.name in down
            if not repeat:
                down[ev.name] = (f, label)
            if held == "events" and (not repeat or last_emit.get(ev.name) != f):
                keys[f].append(Action(f, "KeyPress", label))
                last_emit[ev.name] = f
            elif held in ("once", "frames") and not repeat:
                keys[f].append(Action(f, "KeyPress", label))
        elif isinstance(ev, kl.KeyRelease):
            if modifier_of(ev.name):
                mods.discard(ev.name)
            else:
                release(ev.name, f)
        elif isinstance(ev, kl.ContextChanged) and ev.app_id == kl.UNCAPTURED:
            mods.clear()
            for name in list(down):
                release(name, f)
        elif isinstance(ev, kl.MousePress):
            clicks[f].append(Action(f, "MouseClick", str(ev.button)))
        elif isinstance(ev, kl.MouseMove):
            move[f][0] += ev.dx
            move[f][1] += ev.dy
        elif isinstance(ev, kl.MouseScroll):
            scroll[f] += ev.dy * step_px

    if held == "frames":
        # `stop` is the release frame: the key is up by then, so it is not repeated there
        # (a key still down at the end of the segment repeats through its last frame).
        end = n_frames if n_frames is not None else max([*keys, *move, *scroll, *clicks, 0]) + 1
        for name, (start, label) in down.items():
            holds.append((start, end, label))
        for start, stop, label in holds:
            for f in range(start + 1, stop):
                keys[f].append(Action(f, "KeyPress", label))

    out: dict[int, list[Action]] = defaultdict(list)
    for f, acts in keys.items():
        out[f].extend(acts)
    for f, acts in clicks.items():
        out[f].extend(acts)
    for f, (dx, dy) in move.items():
        nx, ny = _norm(dx, geometry.width), _norm(dy, geometry.height)
        if nx or ny:
            out[f].append(Action(f, "MouseMove", f"{nx},{ny}"))
    for f, amount in scroll.items():
        v = _norm(amount, geometry.height)
        if v:
            out[f].append(Action(f, "MouseScroll", str(v)))
    return dict(out)
