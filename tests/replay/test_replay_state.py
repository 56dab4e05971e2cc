"""The replay state machine against the recorded observations, and UTF-16 exactness."""
from __future__ import annotations

import random

from crowd.serializer.interop.load import load_events
from crowd.serializer.replay.state import ReplayState
from crowd.text.document import Document
from crowd.text.lines import split_lines


def test_editor_state_equals_every_viewport(recording):
    """At every observation, the replayed buffer shows exactly the recorded visible text."""
    loaded = load_events(recording)
    assert loaded.problems == [] and loaded.format == "crowd"
    state = ReplayState()
    checked = 0
    files = set()
    for ev in loaded.events:
        state.apply(ev)
        if ev["kind"] == "viewport":
            for ed in ev["editors"]:
                assert state.visible_text(ed) == ed["text"], (ev["seq"], ed["file"])
                for sel in ed["selections"]:
                    assert 0 <= sel["active"] <= state.files[ed["file"]].length16()
                checked += 1
                files.add(ed["file"])
    assert checked > 1000 and state.problems == []
    assert {"README.md", "legacy/win.txt"} & files  # emoji and CRLF files were among them


def test_a_wrong_edit_is_caught():
    """The check above can fail: a buffer that misses one edit no longer matches its viewport."""
    from crowd.serializer.synthetic import generate

    events = generate(hours=0.02, seed=9)
    edits = [i for i, e in enumerate(events) if e["kind"] == "edit"]
    skip = edits[len(edits) // 2]
    state = ReplayState()
    mismatches = 0
    for i, ev in enumerate(events):
        if i == skip:
            continue
        state.apply(ev)
        if ev["kind"] == "viewport" and i > skip:
            mismatches += sum(state.visible_text(ed) != ed["text"] for ed in ev["editors"])
    assert mismatches > 0


def _oracle_apply(text: str, offset: int, length: int, new: str) -> str:
    """Independent UTF-16 reference: edit the UTF-16LE bytes directly."""
    raw = text.encode("utf-16-le", "surrogatepass")
    out = raw[:2 * offset] + new.encode("utf-16-le", "surrogatepass") + raw[2 * (offset + length):]
    return out.decode("utf-16-le", "surrogatepass")


def _oracle_position(text: str, offset: int) -> tuple[int, int]:
    units = text.encode("utf-16-le", "surrogatepass")[:2 * offset].decode("utf-16-le", "surrogatepass")
    lines = split_lines(units)
    return len(lines) - 1, len(lines[-1].encode("utf-16-le")) // 2


def _boundaries(text: str) -> list[int]:
    """UTF-16 offsets an editor can produce: never inside a surrogate pair or a CRLF."""
    out, units = [0], 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if not (ch == "\r" and text[i + 1:i + 2] == "\n"):
            out.append(units)
    return out


def test_utf16_offsets_exact_on_emoji_and_crlf():
    rng = random.Random(7)
    alphabet = ["a", "b", " ", "😀", "🎉", "漢", "\r\n", "\n", "é", "👩‍💻"]
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        doc = Document(text)
        for _ in range(5):
            cuts = _boundaries(doc.text)
            a = rng.choice(cuts)
            b = rng.choice([c for c in cuts if c >= a])
            new = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 3)))
            expected = _oracle_apply(doc.text, a, b - a, new)
            doc.apply([{"offset": a, "length": b - a, "text": new}])
            assert doc.text == expected
            for off in _boundaries(doc.text):
                assert doc.position(off) == _oracle_position(doc.text, off)
                line, char = doc.position(off)
                assert doc.offset_at(line, char) == off


def test_multi_cursor_edit_applies_in_descending_offsets():
    doc = Document("a😀b\r\nc😀d\r\n")
    # two cursors after each emoji (offsets 3 and 9 in UTF-16), typing "!" at both
    doc.apply([{"offset": 3, "length": 0, "text": "!"}, {"offset": 9, "length": 0, "text": "!"}])
    assert doc.text == "a😀!b\r\nc😀!d\r\n"
    assert doc.position(10) == (1, 3) and doc.position(11) == (1, 4)  # "!" after the pair


def test_disk_changes_reach_closed_files_but_open_buffers_change_only_by_edits():
    """An agent's write shows up twice in a real recording (watcher diff + the editor's reload
    edit of the open document); the replay must apply it once."""
    from crowd.serializer.replay.patch import unified_diff

    old, new = "a\nb\n", "a\nX\nb\n"
    diff = unified_diff(old, new, "f.py")
    ev = lambda seq, type_, kind, **kw: {"seq": seq, "t": seq, "wall": seq, "type": type_, "kind": kind, **kw}  # noqa: E731
    state = ReplayState()
    for e in [ev(1, "action", "open", source="user", file="f.py"),
              ev(2, "observation", "file_content", file="f.py", text=old),
              ev(3, "observation", "file_content", file="g.py", text=old),
              ev(4, "action", "file_change", source="agent", file="f.py", change="change", diff=diff),
              ev(5, "action", "edit", source="agent", file="f.py", changes=[{"offset": 2, "length": 0, "text": "X\n"}]),
              ev(6, "action", "file_change", source="agent", file="g.py", change="change", diff=diff.replace("f.py", "g.py"))]:
        state.apply(e)
    assert state.files["f.py"].text == new and state.files["g.py"].text == new
    assert state.files["f.py"].complete and state.problems == []
