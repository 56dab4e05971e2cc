"""The self-contained HTML player in a real headless Chromium."""
from __future__ import annotations

from crowd.serializer.interop.load import load_events
from crowd.serializer.replay.html import write_html
from crowd.serializer.replay.state import ReplayState

EDITOR_TEXT = ("Array.from(document.querySelectorAll('#editor .row')).map(r => Array.from(r.childNodes)"
               ".filter(n => !(n.classList && n.classList.contains('ln'))).map(n => n.textContent).join('')).join('\\n')")


def test_html_loads_and_scrubbing_changes_what_is_shown(tmp_path, recording, chromium):
    events = load_events(recording).events
    page = write_html(events, tmp_path / "replay.html", title="synthetic")
    assert "http://" not in page.read_text(encoding="utf-8").split("<script id=\"events\"")[0]  # nothing fetched
    chromium.open(page.as_uri())
    chromium.wait_for("window.crowdReplay && document.getElementById('frame').textContent.startsWith('frame 1/')")
    assert chromium.errors == []
    n = len(events)

    def scrub(index: int) -> str:
        chromium.eval(f"(() => {{ const s = document.getElementById('timeline'); s.value = {index};"
                      " s.dispatchEvent(new Event('input')); })()")
        chromium.wait_for(f"document.getElementById('frame').textContent === 'frame {index + 1}/{n}'")
        return chromium.eval(EDITOR_TEXT)

    # the browser's editor pane equals the Python replayer's buffer at the same points,
    # going forwards and backwards (checkpoint restore) across the timeline
    viewports = [i for i, e in enumerate(events) if e["kind"] == "viewport" and e["editors"]]
    picks = [viewports[len(viewports) * k // 7] for k in (6, 1, 4, 2, 5, 3)]
    shown = {}
    for index in picks:
        shown[index] = scrub(index)
        state = ReplayState()
        for ev in events[:index + 1]:
            state.apply(ev)
        expected = state.visible_text(events[index]["editors"][0])
        assert shown[index] == expected, index
    assert len(set(shown.values())) > 1  # scrubbing changed what is shown
    # the terminal pane and action log follow too; actor colours are applied
    last = scrub(n - 1)
    assert last
    assert chromium.eval("document.querySelectorAll('#log .src-user').length") > 0
    assert chromium.eval("document.getElementById('terminal').textContent.length") > 0
    assert chromium.eval("document.querySelectorAll('#marks .mark').length") == sum(e["type"] == "snapshot" for e in events)
    first_snap = next(i for i, e in enumerate(events) if e["type"] == "snapshot")
    chromium.eval("document.querySelector('#marks .mark').click()")  # snapshot markers seek
    chromium.wait_for(f"document.getElementById('frame').textContent === 'frame {first_snap + 1}/{n}'")
    assert "snapshot" in chromium.eval("document.getElementById('log').textContent")
    scrub(n - 1)
    # step back, then play at x64 from the start: the frame moves on its own; pause stops it
    chromium.eval("document.getElementById('back').click()")
    chromium.wait_for(f"document.getElementById('frame').textContent === 'frame {n - 1}/{n}'")
    scrub(0)
    chromium.eval("document.getElementById('speed').value = '64'; document.getElementById('play').click()")
    chromium.wait_for("parseInt(document.getElementById('frame').textContent.slice(6)) > 20")
    chromium.eval("document.getElementById('play').click()")
    stopped = chromium.eval("document.getElementById('frame').textContent")
    assert chromium.eval("document.getElementById('play').textContent") == "▶"
    assert chromium.eval("new Promise(r => setTimeout(() => r(document.getElementById('frame').textContent), 300))") == stopped
    assert chromium.errors == []


def test_html_replays_crowd_code_imports(tmp_path, chromium):
    from pathlib import Path

    fix = Path(__file__).resolve().parents[2] / "fixtures" / "interop"
    for src in (fix / "cc2" / "crowd-code-5f0c2a1e-2025_06_02-14.03.11", fix / "cc1" / "session.csv"):
        events = load_events(src).events
        page = write_html(events, tmp_path / f"{src.stem}.html")
        chromium.open(page.as_uri())
        chromium.wait_for("window.crowdReplay !== undefined")
        agent = [i for i, e in enumerate(events) if e.get("source") == "agent"]
        if agent:  # just after the agent's change: its diff is on show
            chromium.eval(f"window.crowdReplay.seek({agent[0] + 1})")
            assert "Say hi" in chromium.eval("document.getElementById('diff').textContent")
            assert "agent" in chromium.eval("document.getElementById('diff-title').textContent")
        chromium.eval(f"window.crowdReplay.seek({len(events) - 1})")
        text = chromium.eval(EDITOR_TEXT)
        log = chromium.eval("document.getElementById('log').textContent")
        assert chromium.errors == [], src
        if src.suffix == ".csv":
            assert "main()" in chromium.eval("window.crowdReplay.state().files['src/app.py'].text")
            assert "terminal command" not in log and "$ python src/app.py" in log
        else:
            assert "second 🎉" in text  # cc2 viewport text, emoji intact


def test_browser_and_python_replayers_agree_at_every_viewport(tmp_path, chromium):
    """The JS player and ReplayState follow the same rules: same buffer at every observation."""
    from crowd.serializer.synthetic import generate

    events = generate(hours=0.15, seed=17)
    page = write_html(events, tmp_path / "all.html")
    chromium.open(page.as_uri())
    chromium.wait_for("window.crowdReplay !== undefined")
    indices = [i for i, e in enumerate(events) if e["kind"] == "viewport" and e["editors"]]
    shown = chromium.eval("(() => { const out = []; for (const i of %s) { window.crowdReplay.seek(i); out.push(%s); }"
                          " return out; })()" % (indices, EDITOR_TEXT))
    state = ReplayState()
    expected = []
    for i, ev in enumerate(events):
        state.apply(ev)
        if ev["kind"] == "viewport" and ev["editors"]:
            expected.append(state.visible_text(ev["editors"][0]))
    assert len(shown) == len(expected) > 300
    assert shown == expected
    assert chromium.errors == []
