"""Typing is never altered: a keystroke corpus typed into a real code-server with the bridge
installed and without it gives identical documents.

WHY: the bridge used to take over the editor's `type` command and 25 keys; the detour
through the extension host reordered keystrokes (an Enter typed right after a character while
a suggestion showed came out before it: `del self.items[skuu]else:`, 8 of 19 tries). The
bridge now only observes (editor-bridge/src/core/typing.ts). The corpus covers what the
issue names: an open suggestion widget, snippets with tab stops, auto-closing brackets and
quotes, auto-surround, multi-cursor, fast Enter/Tab/Backspace. With the bridge, every edit
of the corpus must also be recorded as the user's (observed at the cursor), and consent comes
from the machine's consent fact (no dialog in a new browser).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from crowd.format import read_recording
from crowd.home import write_consent
from tests.bridge.codeserver import PLAYWRIGHT, ROOT, CodeServer, missing_preconditions

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CORPUS = ROOT / "editor-bridge" / "test" / "e2e" / "corpus.mjs"
EVIDENCE = ROOT / ".bench-out" / "corpus_evidence"
SNIPPETS = {"crowd for": {"prefix": "crowdfor", "body": ["for ${1:item} in ${2:items}:", "\t${0:pass}"]}}
FAST = 0  # ms between keys: as fast as the browser takes them

CASES = [
    # Enter right after a character while the suggestion widget shows (the lost newline)
    {"file": "suggest.py", "seed": "class Cart:\n    items = []\n    skus = {}\n\n",
     "steps": [{"type": "    def drop(self, sku):\n        del self.items[sk", "delay": 20}, {"suggest": True},
               {"type": "u", "delay": FAST}, {"type": "]", "delay": FAST}, {"press": "Enter"},
               {"type": "else:", "delay": FAST}, {"press": "Enter"}, {"type": "return sk", "delay": 20},
               {"suggest": True}, {"press": "Enter"}, {"press": "Enter"}]},
    # auto-closing brackets and quotes, typed over and deleted, fast
    {"file": "brackets.py", "seed": "",
     "steps": [{"type": "print(foo[\"bar\"], 'x', {\"a\": [1, (2)]})", "delay": FAST}, {"press": "Enter"},
               {"type": "f(", "delay": FAST}, {"press": "Backspace"}, {"type": "g(\"", "delay": FAST},
               {"press": "Backspace"}, {"press": "Backspace"}, {"type": "x = ''", "delay": FAST}, {"press": "Enter"}]},
    # fast Enter / Tab / Shift+Tab / Backspace with auto-indent
    {"file": "indent.py", "seed": "def f(x):\n",
     "steps": [{"type": "    if x:", "delay": FAST}, {"press": "Enter"}, {"type": "return 1", "delay": FAST},
               {"press": "Enter"}, {"press": "Backspace"}, {"type": "y = 2", "delay": FAST}, {"press": "Enter"},
               {"press": "Tab"}, {"press": "Tab"}, {"type": "z", "delay": FAST}, {"press": "Shift+Tab"},
               {"press": "Enter"}, {"press": "Enter"}, {"type": "done", "delay": FAST}]},
    # several cursors, then a selection surrounded by quotes and brackets
    {"file": "multi.py", "seed": "alpha = 1\nbeta = 2\ngamma = 3\n",
     "steps": [{"press": "Control+Home"}, {"press": "Shift+Alt+ArrowDown"}, {"press": "Shift+Alt+ArrowDown"},
               {"type": "x_", "delay": FAST}, {"press": "End"}, {"type": "  # set", "delay": FAST},
               {"press": "Escape"}, {"press": "Control+End"}, {"type": "word", "delay": FAST},
               {"press": "Shift+Home"}, {"type": "\"", "delay": FAST}, {"type": "(", "delay": FAST}, {"press": "End"},
               {"press": "Enter"}]},
    # a snippet with tab stops, through its prefix and Tab once the editor offers it (as a user
    # sees it before pressing Tab; a Tab pressed before the editor can expand the prefix is a Tab,
    # which then depends on the machine's load, not on the bridge); the texts typed into the tab
    # stops match no word of the file: no suggestion takes the later Tabs
    {"file": "snippet.py", "seed": "values = [1, 2]\n",
     "steps": [{"type": "crowdfor", "delay": 20}, {"suggest": "crowdfor"}, {"press": "Tab"},
               {"type": "row", "delay": FAST}, {"press": "Tab"},
               {"type": "data", "delay": FAST}, {"press": "Tab"}, {"type": "print(row)", "delay": FAST},
               {"press": "Enter"}]},
]

SETTINGS = {
    "workbench.startupEditor": "none", "files.autoSave": "off",
    "security.workspace.trust.enabled": False, "extensions.autoCheckUpdates": False, "git.enabled": False,
    "editor.tabCompletion": "on", "editor.quickSuggestionsDelay": 10,
    "workbench.tips.enabled": False,
}


def _workspace(base: Path) -> Path:
    ws = base / "ws"
    ws.mkdir(parents=True)
    for case in CASES:
        (ws / case["file"]).write_text(case["seed"])
    return ws


@dataclass
class Typed:
    """One run of the corpus: the saved documents and the evidence a difference needs."""

    documents: dict[str, str]
    recordings: Path
    trace: list[dict]          # per pressed key: ms into its case, whether a suggestion showed
    log: str                   # the bridge's log (empty without it)


def _type_corpus(base: Path, with_bridge: bool) -> Typed:
    ws = _workspace(base)
    recordings = base / "recordings"
    settings = dict(SETTINGS)
    if with_bridge:
        settings.update({"crowd.python": str(ROOT / ".venv" / "bin" / "python"), "crowd.exportPath": str(recordings)})
    server = CodeServer.prepare(base / "cs", ws, settings)
    snippets = server.user_data / "User" / "snippets"
    snippets.mkdir()
    (snippets / "python.json").write_text(json.dumps(SNIPPETS))
    if with_bridge:
        installed = server.install_extension()
        assert installed.returncode == 0, installed.stderr
        # consent given earlier on this machine (another browser): the bridge asks nothing
        write_consent("granted", base / "cs" / "crowd-home")
    server.start(base / "code-server.log")
    try:
        cfg = {"url": server.url, "playwright": str(PLAYWRIGHT), "chromium": shutil.which("chromium"),
               "cases": CASES, "waitFor": "REC" if with_bridge else None, "trace": True,
               "failShot": str(ROOT / ".bench-out" / f"corpus_{'on' if with_bridge else 'off'}_failure.png")}
        proc = subprocess.run(["node", str(CORPUS), json.dumps(cfg)], capture_output=True, text=True, timeout=400)
        assert proc.returncode == 0, f"{proc.stderr[-3000:]}\ndriver output:\n{proc.stdout[-3000:]}"
    finally:
        server.stop()
    trace = [json.loads(line[len("TRACE "):]) for line in proc.stdout.splitlines() if line.startswith("TRACE ")]
    log = "\n".join(p.read_text(errors="replace") for p in server.user_data.glob("logs/**/*crowd*.log"))
    EVIDENCE.mkdir(parents=True, exist_ok=True)   # the last run's timings, kept even when it passes
    (EVIDENCE / f"last-{'on' if with_bridge else 'off'}.json").write_text(json.dumps(trace, indent=1))
    return Typed({c["file"]: (ws / c["file"]).read_text() for c in CASES}, recordings, trace, log)


def _evidence(case: dict, off: Typed, on: Typed, what: str) -> str:
    """What a failure must keep (CI keeps only its log): the keys, both documents, when each
    key went and whether a suggestion showed then, in both runs; also written to .bench-out."""
    name = case["file"]
    report = {
        "what": what, "file": name, "steps": case["steps"], "seed": case["seed"],
        "without": off.documents[name], "with": on.documents[name],
        "trace_without": [t for t in off.trace if t["file"] == name],
        "trace_with": [t for t in on.trace if t["file"] == name],
        "bridge_log_tail": on.log[-4000:],
    }
    EVIDENCE.mkdir(parents=True, exist_ok=True)
    path = EVIDENCE / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=1))
    return f"{what} (evidence kept in {path}):\n{json.dumps(report, indent=1)}"


@pytest.fixture
def preconditions() -> None:
    missing = missing_preconditions()
    if missing:
        pytest.skip("the corpus test needs what scripts/setup.sh installs; missing: " + ", ".join(missing))


# Reason for the one rerun (issue 17, open): the editor's own accept-on-Enter under load, not
# the bridge. Reproduced in 2 of 6 runs beside busy loops on the 2 cores (0 of 3 with 2 loops,
# 2 of 3 with 4), both at the same step: an Enter pressed while the suggestion `sku` showed,
# focused (the driver saw it right before), put a newline instead of accepting it (`return sk`
# against `return sku`): once in the run with the bridge, once in the run without it. Which
# editor state the driver must await before that Enter is not found yet. A failure keeps its
# evidence (_evidence; scripts/test.sh prints a rerun's traceback).
# Two reruns since fresh-clone runs with two suites sharing the 2 cores failed it on both
# attempts (2026-12-06): `return sk` vs `return sku` with the WITHOUT-bridge document being the
# short one in both, and a Tab between snippet tab stops swallowed once without and once with
# the bridge. Each attempt's evidence is printed and kept.
@pytest.mark.flaky(reruns=2)
def test_keystroke_corpus_identical_with_and_without_the_bridge(preconditions: None, tmp_path: Path) -> None:
    off = _type_corpus(tmp_path / "off", with_bridge=False)
    on = _type_corpus(tmp_path / "on", with_bridge=True)
    without, with_bridge, recordings = off.documents, on.documents, on.recordings
    for case in CASES:
        assert with_bridge[case["file"]] == without[case["file"]], \
            _evidence(case, off, on, f"{case['file']}: typing altered by the bridge")
    # the corpus did something: the newline after `sku]` is there, and the snippet expanded
    by_file = {c["file"]: c for c in CASES}
    assert "del self.items[sku]\n" in without["suggest.py"], \
        _evidence(by_file["suggest.py"], off, on, "the corpus lost its newline after `sku]` (without the bridge too)")
    assert "for row in data:\n    print(row)" in without["snippet.py"], \
        _evidence(by_file["snippet.py"], off, on, "the snippet did not expand (without the bridge too)")

    sessions = [p for p in recordings.glob("*") if p.is_dir() and list(p.glob("seg-*.crowd"))]
    assert len(sessions) == 1, f"{sessions}\nbridge log:\n{on.log[-4000:]}"
    events = read_recording(sessions[0]).events
    edits = [e for e in events if e.get("kind") == "edit" and e.get("file") in with_bridge]
    assert {e["file"] for e in edits} == set(with_bridge), "every case was recorded"
    wrong = [(e["file"], e["source"], e["changes"]) for e in edits if e["source"] != "user"]
    assert not wrong, f"typed edits not recorded as the user's: {wrong[:10]}\nbridge log:\n{on.log[-4000:]}"
