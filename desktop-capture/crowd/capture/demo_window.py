"""A tiny X11 app with a chosen WM_CLASS that repaints in a new colour on every key or click.

Used by the acceptance tests and by synthetic data generation: two of these with different
WM_CLASS play the "allowed" and "disallowed" applications, and the colour change on a key
press is the scripted visual effect whose frame must match the keylog timestamp. It is a real
X client (python-xlib), so focus, WM_CLASS and _NET_WM_PID come from the window manager as
they would for any application.

Run: ``python -m crowd.capture.demo_window --wm-class Allowed --geometry 300x200+0+0``; it
prints ``ready <window id>`` once mapped and then one line per input it receives:
``key|button <detail> <palette index> <monotonic time the new colour was painted>``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

PALETTES = {
    "bright": [(200, 40, 40), (40, 170, 60), (40, 80, 210), (230, 200, 40), (160, 60, 190),
               (40, 190, 200), (240, 130, 30), (235, 235, 235)],
    # greys, distinguishable from every bright colour: the "must never appear" window
    "grey": [(96, 96, 96), (128, 128, 128), (160, 160, 160), (192, 192, 192)],
}
PALETTE = PALETTES["bright"]


def colour_at(index: int, palette: str = "bright") -> tuple[int, int, int]:
    """The RGB colour the window shows after ``index`` key presses/clicks."""
    colours = PALETTES[palette]
    return colours[index % len(colours)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wm-class", default="CrowdDemo", help="WM_CLASS class (instance is lower-case)")
    ap.add_argument("--title", default=None)
    ap.add_argument("--geometry", default="320x240+0+0", help="WxH+X+Y")
    ap.add_argument("--display", default=os.environ.get("DISPLAY"))
    ap.add_argument("--start", type=int, default=0, help="initial palette index")
    ap.add_argument("--palette", choices=sorted(PALETTES), default="bright")
    ap.add_argument("--animate", type=float, default=0.0,
                    help="redraw random blocks this many times a second (benchmark content)")
    args = ap.parse_args(argv)

    from Xlib import X, Xatom, display as xdisplay

    size, _, pos = args.geometry.partition("+")
    w, h = (int(v) for v in size.split("x"))
    x, y = (int(v) for v in (pos.split("+") if pos else ("0", "0")))
    d = xdisplay.Display(args.display)
    screen = d.screen()
    cmap = screen.default_colormap

    def pixel(i: int) -> int:
        r, g, b = colour_at(i, args.palette)
        return cmap.alloc_color(r * 257, g * 257, b * 257).pixel

    index = args.start
    win = screen.root.create_window(
        x, y, w, h, 0, screen.root_depth, X.InputOutput, X.CopyFromParent,
        background_pixel=pixel(index),
        event_mask=X.ExposureMask | X.KeyPressMask | X.ButtonPressMask | X.StructureNotifyMask)
    win.set_wm_class(args.wm_class.lower(), args.wm_class)
    win.set_wm_name(args.title or args.wm_class)
    win.change_property(d.intern_atom("_NET_WM_PID"), Xatom.CARDINAL, 32, [os.getpid()])
    win.set_wm_normal_hints(flags=3, x=x, y=y)  # USPosition|USSize: keep the geometry asked for
    win.map()
    d.flush()
    announced = False
    gc = win.create_gc(foreground=pixel(index + 1))
    rng = __import__("random").Random(7)
    colours = [pixel(i) for i in range(len(PALETTES[args.palette]))]
    next_draw = time.monotonic()
    while True:
        if args.animate > 0:
            now = time.monotonic()
            if now >= next_draw and announced:
                next_draw = now + 1.0 / args.animate
                for _ in range(12):  # a few moving blocks: content the encoder has to work on
                    gc.change(foreground=rng.choice(colours))
                    win.fill_rectangle(gc, rng.randrange(w), rng.randrange(h), rng.randrange(20, 200),
                                       rng.randrange(10, 60))
                d.flush()
            if not d.pending_events():
                import select

                select.select([d.fileno()], [], [], max(0.0, next_draw - time.monotonic()))
                if not d.pending_events():
                    continue
        ev = d.next_event()
        if ev.type == X.MapNotify and not announced:
            announced = True
            print(f"ready {win.id}", flush=True)
        elif ev.type in (X.KeyPress, X.ButtonPress):
            index += 1
            win.change_attributes(background_pixel=pixel(index))
            win.clear_area(0, 0, 0, 0)
            d.sync()  # the server has painted the new colour once this returns
            what = "key" if ev.type == X.KeyPress else "button"
            print(f"{what} {ev.detail} {index} {time.monotonic():.6f}", flush=True)
        elif ev.type == X.DestroyNotify:
            return 0


if __name__ == "__main__":
    sys.exit(main())
