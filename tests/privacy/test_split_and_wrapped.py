"""Secrets that no single string holds whole (issue 16): pasted in two halves, wrapped across
terminal rows, typed at the terminal's right edge; and secrets in names and header fields.
Each goes through the real RecordingPipeline into a real RecordingWriter and the bytes read
back must not hold any 8 characters of the secret."""
from __future__ import annotations

import json
import random
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from crowd.format import RecordingWriter, read_recording
from crowd.pipeline import RecordingPipeline
from crowd.privacy import Redactor

AL = string.ascii_letters + string.digits


def _rand(rng: random.Random, n: int) -> str:
    while True:
        out = "".join(rng.choice(AL) for _ in range(n))
        if any(c.isdigit() for c in out) and any(c.isupper() for c in out) and any(c.islower() for c in out):
            return out


def _record(tmp_path, events: list[dict]) -> str:
    folder = tmp_path / f"rec{random.random()}"
    pipeline = RecordingPipeline(RecordingWriter(folder), Redactor())
    for event in events:
        pipeline.write(dict(event, t=1, wall=1))
    pipeline.close()
    return json.dumps(read_recording(folder).events)


def _leaks(secret: str, blob: str) -> bool:
    return any(secret[i:i + 8] in blob for i in range(len(secret) - 7))


def _edit(offset: int, text: str, file: str = "app/settings.py") -> dict:
    return {"type": "action", "kind": "edit", "file": file, "source": "user",
            "changes": [{"offset": offset, "length": 0, "text": text}]}


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(["ghp_", "sk-ant-api03-", "glpat-", "xoxb-1234567890-", "AKIA", 'api_token = "',
                        "password: ", "redis://:"]),
       st.integers(0, 2**32), st.floats(0.2, 0.8))
def test_a_secret_pasted_in_two_halves_is_replaced_in_both(tmp_path_factory, lead, seed, where):
    rng = random.Random(seed)
    body = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16)) if lead == "AKIA" \
        else _rand(rng, 36)
    tail = "@cache:6379" if lead == "redis://:" else '"' if lead.endswith('"') else ""
    full = lead + body + tail
    cut = len(lead) + max(1, int(len(body) * where))
    events = [_edit(40, full[:cut]), _edit(40 + cut, full[cut:] + "\n")]
    blob = _record(tmp_path_factory.mktemp("paste"), events)
    assert not _leaks(body, blob), blob


def test_a_terminal_paste_in_two_halves(tmp_path):
    secret = "ghp_" + _rand(random.Random(1), 36)
    events = [{"type": "action", "kind": "terminal_input", "terminal": "1", "data": "export GH_TOKEN=" + secret[:20],
               "paste": True},
              {"type": "action", "kind": "terminal_input", "terminal": "1", "data": secret[20:], "paste": True}]
    assert not _leaks(secret, _record(tmp_path, events))


@settings(max_examples=30, deadline=None)
@given(st.integers(20, 140), st.integers(0, 2**32), st.booleans())
def test_a_url_password_wrapped_across_rows(tmp_path_factory, cols, seed, empty_user):
    rng = random.Random(seed)
    pw = _rand(rng, 14)
    cmd = "$ " + " " * rng.randrange(0, cols) + f"redis-cli -u redis://{'' if empty_user else 'app'}:{pw}@cache:6379"
    rows = [cmd[i:i + cols] for i in range(0, len(cmd), cols)] + ["$ "]
    screen = {"type": "observation", "kind": "terminal_screen", "terminal": "1", "rows": len(rows), "cols": cols,
              "lines": rows, "cursor": [len(rows) - 1, 2]}
    blob = _record(tmp_path_factory.mktemp("wrap"), [screen])
    assert not _leaks(pw, blob), rows


def test_a_secret_typed_at_the_right_edge_of_the_terminal(tmp_path):
    cols = 40
    secret = "ghp_" + _rand(random.Random(2), 36)
    line, events = "$ git log --oneline | head && echo ", []   # no keyword: only the guard sees it
    for ch in secret + "\r":
        events.append({"type": "action", "kind": "terminal_input", "terminal": "1", "data": ch, "paste": False})
        if ch != "\r":
            line += ch
        rows = [line[i:i + cols] for i in range(0, len(line), cols)]
        events.append({"type": "observation", "kind": "terminal_screen", "terminal": "1", "rows": 4, "cols": cols,
                       "lines": rows + [""] * (4 - len(rows))})
    assert not _leaks(secret, _record(tmp_path, events))


def test_names_and_header_fields_are_scrubbed(tmp_path):
    rng = random.Random(3)
    hexes = ["".join(rng.choice("0123456789abcdef") for _ in range(40)) for _ in range(3)]
    token = "ghp_" + _rand(rng, 36)
    events = [
        {"type": "session", "kind": "start", "session_id": "s1", "uploadUrl":
            f"https://ingest.example.com/v1/presign?token={hexes[0]}",
         "settings": {"uploadUrl": f"https://ingest.example.com/v1/put/u/f?exp=1&sig={hexes[1]}",
                      "uploadToken": hexes[2], "redact": True}},
        {"type": "action", "kind": "open", "file": f"notes/{token}.txt"},
        {"type": "action", "kind": "agent_edit", "file": "a.py", "agent": f"codex {token}",
         "phase": f"deploy {token}", "reason": f"uses {token}"},
    ]
    blob = _record(tmp_path, events)
    for secret in [*hexes, token]:
        assert not _leaks(secret, blob), secret
    assert blob.count("[REDACTED:") >= 7


def test_ordinary_pastes_are_left_alone(tmp_path):
    events = [_edit(0, "def handler(event):\n    token = event['token']\n"),
              _edit(46, "    return check(token)\n"), _edit(70, "ghp_reference = 'see docs'\n")]
    blob = _record(tmp_path, events)
    assert "[REDACTED:" not in blob


def test_a_salt_typed_key_by_key_after_its_name(tmp_path):
    """``salt`` is a secret name for the detector, so the typing guard holds what is typed after
    it: a lowercase salt is not secret-shaped by itself, and without the name in the guard's
    keywords it was written key by key (the document replayed from the edits held it)."""
    salt = "qzvmxkwplrtnbc"
    text, events = "", []
    for ch in f"APP_SIGNING_SALT={salt}\n":
        events.append(_edit(len(text), ch, file="app/.settings.py"))
        text += ch
    recorded = json.loads(_record(tmp_path, events))
    doc = ""
    for event in recorded:
        if event["kind"] == "edit":
            for change in event["changes"]:
                doc = doc[:change["offset"]] + change["text"] + doc[change["offset"] + change["length"]:]
    assert doc.startswith("APP_SIGNING_SALT=") and not _leaks(salt, doc), doc
