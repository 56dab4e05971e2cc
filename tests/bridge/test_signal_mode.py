"""The bridge's observed-input protocol against a real sidecar (JSON-RPC over a pipe).

The bridge no longer intercepts typing (editor-bridge/src/core/typing.ts): it sends a
`user_input` licence (`what: key`, `command: observed.<verdict>`) right before each edit it
judged the user's, and `user_input {what: signals, on}` whenever its setting changes. Before
`signals` existed, turning the setting off mid-session left the sidecar expecting licences,
so every later keystroke was recorded as `agent` (19 of 19 in code-server).
"""
from __future__ import annotations

from pathlib import Path

from tests.attribution.harness import Sidecar
from tests.helpers.disk import DEMO_WORKSPACE, write_tree


def _sources(sc: Sidecar, rel: str) -> list[str]:
    return [e["source"] for e in sc.edits(rel, sc.sync())]


def test_licences_then_mode_off_mid_session_gives_back_the_default(tmp_path: Path) -> None:
    ws = write_tree(tmp_path / "ws", DEMO_WORKSPACE)
    with Sidecar(tmp_path, [ws]) as sc:
        sc.open("src/app.py")
        sc.send({"kind": "user_input", "what": "signals", "on": True})
        # an edit the bridge judged the user's (at a cursor), then one it did not (an inline agent)
        sc.send({"kind": "user_input", "what": "key", "command": "observed.cursor"})
        sc.edit("src/app.py", 0, 0, "x", user=False)
        sc.edit("src/app.py", 0, 0, "# agent line\n", user=False)
        assert _sources(sc, "src/app.py") == ["user", "agent"]
        # the user turns crowd.typingSignals off: no licences follow, typing is the user's again
        sc.send({"kind": "user_input", "what": "signals", "on": False})
        sc.edit("src/app.py", 0, 0, "y", user=False)
        sc.edit("src/app.py", 0, 0, "z", user=False)
        assert _sources(sc, "src/app.py")[-2:] == ["user", "user"]
        # ... and on again: an unlicensed edit in the visible editor is an agent's once more
        sc.send({"kind": "user_input", "what": "signals", "on": True})
        sc.edit("src/app.py", 0, 0, "# agent again\n", user=False)
        assert _sources(sc, "src/app.py")[-1] == "agent"


def test_mode_on_before_any_typing_already_judges_agent_edits(tmp_path: Path) -> None:
    """A reload's first edit may be an agent's: the mode, sent on connect, is enough."""
    ws = write_tree(tmp_path / "ws", DEMO_WORKSPACE)
    with Sidecar(tmp_path, [ws]) as sc:
        sc.open("src/app.py")
        sc.send({"kind": "user_input", "what": "signals", "on": True})
        sc.edit("src/app.py", 0, 0, "# agent first\n", user=False)
        assert _sources(sc, "src/app.py") == ["agent"]
