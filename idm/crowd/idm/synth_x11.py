"""Synthetic paired data from a real desktop: Xvfb + openbox, a Tk app, xdotool driving it,
and desktop-capture's Recorder writing the crowd-cast files, exactly as for a person.

Slower than synth.py (real time), so it is for demos and the acceptance test that proves the
IDM reads what the real recorder writes. Pacing waits on conditions: the app acknowledges
each input on stdout, and the recorder's frame counter shows the video has moved on.
"""
from __future__ import annotations

import queue
import random
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

KEYS = ("a", "b", "c", "d", "e", "f")


@dataclass
class ScriptedSession:
    session_id: str
    inputs: list[tuple[str, str]] = field(default_factory=list)  # (kind, detail) in the order performed


class _App:
    """The Tk app as a child process with a line queue of its acknowledgements."""

    def __init__(self, env: dict) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "crowd.idm.synth_app"], env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, start_new_session=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def expect(self, prefix: str, timeout: float = 30.0) -> str:
        """The next acknowledgement starting with `prefix`; fails fast if the app died."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    raise RuntimeError(f"synthetic app exited with code {self.proc.returncode}") from None
                if time.monotonic() > deadline:
                    raise TimeoutError(f"synthetic app never reported {prefix!r}; it reported {self.seen[-6:]}") from None
                continue
            self.seen.append(line)
            if line.startswith(prefix):
                return line

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def record_session(vd, out: Path, rng: random.Random, actions: int = 12, fps: float = 10.0) -> ScriptedSession:
    """One recorder run (one session id) of `actions` scripted inputs on the app."""
    from crowd.capture.recorder import Recorder, RecorderConfig

    app = _App(vd.env)
    rec = Recorder(RecorderConfig(output_dir=out, display=vd.display, fps=fps, apps=["*"], idle_seconds=600,
                                  hold_seconds=0))
    done = ScriptedSession("")
    try:
        app.expect("ready")
        vd.xdotool("search", "--sync", "--class", "CrowdSynth", "windowactivate", "--sync")
        rec.start()
        done.session_id = rec.status().session_id or ""
        rec.wait_for(lambda st: st.frames >= 5, 30)
        w, h = vd.width, vd.height
        vd.xdotool("mousemove", str(w // 4), str(h // 2))
        for _ in range(actions):
            kind = rng.choice(["move", "click", "key", "shift", "scroll"])
            if kind == "move":
                x, y = rng.randint(10, w - 20), rng.randint(10, h - 20)
                vd.xdotool("mousemove", str(x), str(y))
                done.inputs.append(("move", f"{x},{y}"))
            elif kind == "click":
                vd.xdotool("click", "1")
                app.expect("click")
                done.inputs.append(("click", "Left"))
            elif kind in ("key", "shift"):
                k = rng.choice(KEYS)
                vd.xdotool("key", f"shift+{k}" if kind == "shift" else k)
                app.expect("key")
                done.inputs.append(("key", ("Shift+" if kind == "shift" else "") + k.upper()))
            else:
                button = rng.choice(["4", "5"])
                vd.xdotool("click", button)
                app.expect("scroll")
                done.inputs.append(("scroll", button))
            start = rec.status().frames
            pause = rng.randint(3, 8)  # frames of the video between inputs
            rec.wait_for(lambda st: st.frames >= start + pause, 30)
    finally:
        rec.stop()
        app.close()
    return done


def generate_x11(out: str | Path, sessions: int = 2, seconds: float = 10.0, seed: int = 0,
                 size: tuple[int, int] = (320, 240)) -> list[str]:
    """Records `sessions` scripted sessions under `out`; ~`seconds` of activity each."""
    from crowd.capture.virtual_display import VirtualDisplay

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    ids = []
    with VirtualDisplay(*size) as vd:
        for _ in range(sessions):
            ids.append(record_session(vd, out, rng, actions=max(2, int(seconds / 0.8))).session_id)
    return ids
