"""Redactor, secret paths and the typing guard, with a real RecordingWriter behind it."""
from __future__ import annotations

import json

import pytest

from tests.privacy.secrets_fixture import needles, pem, planted

from crowd.format import RecordingWriter, read_recording
from crowd.privacy import Redactor, is_secret_path
from crowd.pipeline import RecordingPipeline
from crowd.privacy.typing import TypingGuard

S = planted()


@pytest.mark.parametrize("text,kind", [
    (f"key = {S['aws']}", "aws_access_key"),
    (f"gh {S['github']}", "github_token"),
    (f"ANTHROPIC_API_KEY={S['anthropic']}", "anthropic_key"),
    (f"git clone https://bob:{S['url_password']}@example.com/r.git", "url_password"),
    (f'password = "{S["password"]}"', None),
    (f"export SLACK_TOKEN={S['slack']}", None),
    (f"curl -H 'Authorization: Bearer {S['github'][4:]}'", "bearer_token"),
    (pem(S["pem_body"]), "private_key"),
    (S["pem_body"], "key_material"),   # a scrolled view of a key body without its header
])
def test_secrets_become_markers(text, kind):
    r = Redactor()
    out, findings = r.scrub_text(text, "x.py")
    assert findings
    assert "[REDACTED:" in out
    for n in needles(S):
        if n in text:
            assert n not in out
    if kind:
        assert any(f.kind == kind for f in findings), [f.kind for f in findings]


@pytest.mark.parametrize("text", [
    "def get_user(user_id):\n    return db.query(User).filter(User.id == user_id).first()\n",
    "commit 3f2a9c1d0e8b7a6f5e4d3c2b1a0f9e8d7c6b5a49\nAuthor: someone\n",
    "PWD=/home/user/project\nexport PATH=/usr/bin:$PATH\n",
    "API_KEY = os.environ['API_KEY']\npassword = getpass()\n",
    "self.assertEqual(response.getStatusCodeValue(), HttpStatus.OK)",
    "https://github.com/org/repo/blob/main/README.md",
])
def test_ordinary_code_is_left_alone(text):
    assert Redactor().scrub_text(text, "x.py")[1] == []


def test_secret_paths():
    for p in [".env", "api/.env.local", ".envrc", "id_rsa", "keys/id_ed25519", "certs/server.pem", "tls.key",
              ".aws/credentials", "home/.netrc", ".npmrc", ".pypirc", ".git-credentials", "prod.tfvars"]:
        assert is_secret_path(p), p
    for p in ["src/env.py", "id_rsa.pub", "README.md", "docs/keys.md", "src/environment.ts"]:
        assert not is_secret_path(p), p
    assert Redactor(["*.secret"]).is_secret_path("a/b.secret")


def test_scrub_event_notes_and_terminal_rows():
    r = Redactor()
    lines = ["$ cat key", *pem(S["pem_body"]).splitlines(), "$ "]
    event = {"seq": 3, "t": 1, "wall": 1, "type": "observation", "kind": "terminal_screen",
             "terminal": "t1", "rows": len(lines), "cols": 80, "lines": lines}
    notes = r.scrub_event(event)
    assert notes and notes[0]["where"] == "lines" and notes[0]["what"] == "private_key"
    assert len(event["lines"]) == len(lines)        # the screen keeps its shape
    assert not any(n in json.dumps(event) for n in needles(S))


def _typed_edit_events(text: str, file: str = "a.py"):
    seq, doc = 0, ""
    for ch in text:
        seq += 1
        yield {"seq": seq, "t": seq, "wall": seq, "type": "action", "kind": "edit", "source": "user",
               "file": file, "changes": [{"offset": len(doc), "length": 0, "text": ch}]}
        doc += ch
        seq += 1
        yield {"seq": seq, "t": seq, "wall": seq, "type": "observation", "kind": "viewport",
               "editors": [{"file": file, "text": doc}]}


def test_typed_secret_is_merged_into_one_marker_edit(tmp_path):
    r = Redactor()
    pipeline = RecordingPipeline(RecordingWriter(tmp_path / "rec"), r)
    typed = f"x = 1\nTOKEN = {S['github']}\ny = 2\n"
    for event in _typed_edit_events(typed):
        notes = r.scrub_event(event)
        pipeline.write(event)
        assert not notes or event["kind"] == "viewport"
    pipeline.close()
    events = read_recording(tmp_path / "rec").events
    blob = json.dumps(events)
    assert S["github"][:8] not in blob
    merged = [e for e in events if e["kind"] == "edit" and "[REDACTED:" in e["changes"][0]["text"]]
    assert len(merged) == 1 and merged[0]["changes"][0]["text"] == "[REDACTED:github_token]"
    notes = [e for e in events if e["type"] == "redaction" and e.get("typed")]
    assert notes and notes[0]["length"] == len(S["github"])
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
    # ordinary typing around it is untouched, one event per key
    plain = "".join(e["changes"][0]["text"] for e in events if e["kind"] == "edit")
    assert plain.startswith("x = 1\nTOKEN = [REDACTED:github_token]\ny = 2")


def test_typed_password_found_by_its_keyword():
    r = Redactor()
    g = TypingGuard(r)
    out = []
    for e in _typed_edit_events(f'password = "{S["password"]}"\n'):
        r.scrub_event(e)            # as the session does before the guard
        out += g.push(e)
    out += g.flush()
    assert S["password"][:6] not in json.dumps(out)
    assert any(e.get("typed") for e in out if e["type"] == "redaction")


def test_terminal_keystrokes_and_echo_are_scrubbed():
    r = Redactor()
    g = TypingGuard(r)
    out, seq, line = [], 0, "$ "
    for ch in f"export GH_TOKEN={S['github']}\r":
        seq += 1
        ev = {"seq": seq, "t": seq, "wall": seq, "type": "action", "kind": "terminal_input", "terminal": "1",
              "data": ch, "paste": False}
        r.scrub_event(ev)
        out += g.push(ev)
        line += ch if ch != "\r" else ""
        seq += 1
        screen = {"seq": seq, "t": seq, "wall": seq, "type": "observation", "kind": "terminal_screen",
                  "terminal": "1", "lines": [line, ""]}
        r.scrub_event(screen)
        out += g.push(screen)
    out += g.flush()
    blob = json.dumps(out)
    assert S["github"][:6] not in blob
    assert any(e.get("data", "").endswith("[REDACTED:github_token]") for e in out if e["kind"] == "terminal_input")


def test_idle_token_is_released_without_a_boundary():
    now = [0.0]
    g = TypingGuard(Redactor(), idle_close_s=2.0, clock=lambda: now[0])
    out = []
    for e in _typed_edit_events("x7Qm9"):     # secret-shaped from "x7" on (see test_typing_hold.py)
        out += g.push(e)
    assert len(out) == 2 and g.holding == 8   # "x" and its viewport were written at once
    assert g.poll() == []
    now[0] = 5.0
    released = g.poll()
    assert len(released) == 8 and g.holding == 0


def test_remembered_plain_strings_are_rewritten_once_the_roots_are_known(tmp_path):
    r = Redactor()
    path = str(tmp_path / "ws" / "src" / "a.py")
    first = {"type": "action", "kind": "edit", "note": path}
    r.scrub_event(first)
    assert first["note"] == path                    # no root yet: left as it is (and remembered)
    r.set_workspace_roots([("ws", tmp_path / "ws")])
    second = {"type": "action", "kind": "edit", "note": path}
    r.scrub_event(second)
    assert second["note"] == "./src/a.py"


def test_a_value_seen_clean_is_still_a_secret_under_a_secret_name():
    r = Redactor()
    value = "9f86d081884c7d659a2feaa0c55ad015"          # a digest in one place...
    plain = {"type": "session", "kind": "start", "settings": {"commit": value}}
    r.scrub_event(plain)
    assert plain["settings"]["commit"] == value
    keyed = {"type": "session", "kind": "start", "settings": {"uploadToken": value}}   # ...a token here
    r.scrub_event(keyed)
    assert keyed["settings"]["uploadToken"] == "[REDACTED:keyword_secret]"
