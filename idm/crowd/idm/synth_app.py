"""The small X11 app that synthetic X sessions drive: typed text, a flashing button, a striped
list that scrolls. Every handled input prints one line on stdout ("key a", "click", "scroll
-1") so the driver waits for the app to have *seen* an input instead of sleeping.

Run as ``python -m crowd.idm.synth_app`` with DISPLAY set; prints "ready" once mapped.
"""
from __future__ import annotations

import sys


def main() -> int:
    import tkinter as tk

    root = tk.Tk(className="CrowdSynth")
    w, h = root.winfo_screenwidth(), root.winfo_screenheight()
    root.geometry(f"{w}x{h}+0+0")
    # Full screen, so there is no window-manager title bar: scrolling over openbox's title bar
    # shades the window and the app would stop receiving input.
    root.attributes("-fullscreen", True)
    root.configure(bg="#c8cdd7")
    text = tk.StringVar(value="")
    tk.Label(root, textvariable=text, font=("DejaVu Sans", max(12, h // 9)), bg="white", anchor="w").place(
        x=8, y=8, width=w - 16, height=h // 4)
    button = tk.Frame(root, bg="#3c78e6")
    button.place(x=w // 2, y=h // 3, width=w // 2 - 10, height=h // 5)
    canvas = tk.Canvas(root, bg="#c8cdd7", highlightthickness=0)
    canvas.place(x=10, y=h // 3 + h // 4, width=w // 2 - 20, height=h - (h // 3 + h // 4) - 10)
    for row in range(60):
        canvas.create_rectangle(0, row * 24, w, row * 24 + 11, fill="#5a5a3c" if row % 2 else "#a0a03c", width=0)
    offset = [0]

    def say(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def on_key(ev: "tk.Event") -> None:
        if len(ev.char) == 1 and ev.char.isprintable():
            text.set((text.get() + ev.char)[-8:])
        say(f"key {ev.keysym}")

    def on_click(ev: "tk.Event") -> None:
        button.configure(bg="#e63c28")
        root.after(450, lambda: button.configure(bg="#3c78e6"))
        say("click")

    def on_scroll(ev: "tk.Event", direction: int) -> None:
        offset[0] = max(0, offset[0] + direction * 24)
        canvas.yview_moveto(offset[0] / (60 * 24))
        say(f"scroll {direction}")

    root.bind("<Key>", on_key)
    root.bind_all("<Button-1>", on_click)
    root.bind_all("<Button-4>", lambda e: on_scroll(e, -1))
    root.bind_all("<Button-5>", lambda e: on_scroll(e, 1))
    # Tk 8.7+/9 on X11 reports the wheel as <MouseWheel> (delta > 0 is up) instead of buttons 4/5
    root.bind_all("<MouseWheel>", lambda e: on_scroll(e, -1 if e.delta > 0 else 1))
    root.after(100, lambda: say("ready"))
    root.mainloop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
