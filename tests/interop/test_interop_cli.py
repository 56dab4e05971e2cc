"""The recording commands through the real ``crowd`` CLI (subprocesses)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "interop"
CROWD = [sys.executable, "-m", "crowd.cli"]


def crowd(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(CROWD + list(args), capture_output=True, text=True, timeout=timeout)


def test_inspect_reports_a_torn_tail_and_still_opens(tmp_path):
    from crowd.serializer.synthetic import write_recording

    rec = write_recording(tmp_path / "rec", hours=0.02, seed=2)
    seg = sorted(rec.glob("seg-*.crowd"))[-1]
    data = seg.read_bytes()
    seg.write_bytes(data[:-7])  # what a killed writer leaves: the last frame cut short
    out = crowd("inspect", str(rec))
    assert out.returncode == 0, out.stderr
    assert "torn tail" in out.stdout and "no session stop" in out.stdout
    info = json.loads(crowd("inspect", "--json", str(rec)).stdout)
    assert info["torn_tail"] is True and info["events"] > 0 and info["sources"]["user"] > 0


def test_export_import_inspect_round_trip(tmp_path):
    from crowd.serializer.synthetic import write_recording

    rec = write_recording(tmp_path / "rec", hours=0.05, seed=8, session_id="cli-session")
    out = crowd("export", "--crowd-code2", str(rec), "-o", str(tmp_path / "cc2"))
    assert out.returncode == 0, out.stderr
    assert "not representable in crowd-code 2.0 (dropped)" in out.stdout
    folder = next((tmp_path / "cc2").glob("crowd-code-cli-session-*"))
    parts = sorted(str(p) for p in folder.glob("source_part_*.tar.gz"))
    out = crowd("import", *parts, "-o", str(tmp_path / "imported"))
    assert out.returncode == 0, out.stderr
    again = crowd("import", *parts, "-o", str(tmp_path / "imported"))
    assert again.returncode == 1 and "already exists" in again.stderr  # nothing overwritten
    (imported,) = (tmp_path / "imported").glob("cli-session-*")      # 2.0's id + the start time
    info = json.loads(crowd("inspect", "--json", str(imported)).stdout)
    assert info["format"] == "crowd" and info["session_id"] == imported.name and info["problems"][:1] != ["torn"]
    from crowd.serializer.interop.cc2_export import to_cc2_events
    from crowd.serializer.interop.load import load_events

    assert to_cc2_events(load_events(imported).events)[0] == \
        to_cc2_events(load_events(rec).events)[0]


def test_cc1_import_and_dataset_via_cli(tmp_path):
    out = crowd("import", str(FIX / "cc1" / "session.csv"), "-o", str(tmp_path / "rec"), "--start-wall", "1700000000000")
    assert out.returncode == 0, out.stderr
    rec = next((tmp_path / "rec").glob("session-*"))               # the stem and a hash of the file
    out = crowd("dataset", str(rec), str(FIX / "cc2" / "crowd-code-5f0c2a1e-2025_06_02-14.03.11"),
                "-o", str(tmp_path / "ds"), "--max-tokens", "1024")
    assert out.returncode == 0, out.stderr
    meta = json.loads((tmp_path / "ds" / "metadata.json").read_text())
    assert {s["format"] for s in meta["sessions"]} == {"crowd", "crowd-code-2.0"}
    assert set(meta["datasets"]) == {"trajectories", "pairs", "next-action", "sed"}


def test_bad_inputs_get_clear_errors(tmp_path):
    out = crowd("inspect", str(tmp_path / "missing"))
    assert out.returncode == 1 and "does not exist" in out.stderr
    junk = tmp_path / "junk.txt"
    junk.write_text("hello")
    out = crowd("replay", "--html", str(junk), "-o", str(tmp_path / "x.html"))
    assert out.returncode == 1 and "not a crowd recording" in out.stderr
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("a,b\n1,2\n")
    out = crowd("import", str(bad_csv), "-o", str(tmp_path / "o"))
    assert out.returncode == 1 and "crowd import:" in out.stderr


def test_session_id_and_latest_resolve_in_the_recordings_folder(tmp_path):
    import os

    from crowd.serializer.synthetic import write_recording

    home = tmp_path / "home"
    write_recording(home / "recordings" / "older", hours=0.01, seed=1, session_id="older")
    write_recording(home / "recordings" / "newer", hours=0.01, seed=2, session_id="newer")
    env = {**os.environ, "CROWD_HOME": str(home)}
    run = lambda *a: subprocess.run(CROWD + list(a), capture_output=True, text=True, timeout=120, env=env)  # noqa: E731
    assert json.loads(run("inspect", "--json", "latest").stdout)["session_id"] == "newer"
    assert json.loads(run("inspect", "--json", "older").stdout)["session_id"] == "older"


def test_imports_are_redacted_like_live_recordings(tmp_path):
    import shutil

    src = tmp_path / "crowd-code-leaky-2025_01_01-00.00.00"
    shutil.copytree(FIX / "cc2" / "crowd-code-5f0c2a1e-2025_06_02-14.03.11" / "temp", src / "temp")
    token = "ghp_R4nd0mT0k3nV4lu3Abcdefghijklmnopqrstuv"
    chunk = src / "temp" / "chunk_000.json"
    chunk.write_text(chunk.read_text(encoding="utf-8").replace('"hi 😀!","user@host', f'"hi 😀!","export T={token}","user@host'),
                     encoding="utf-8")
    snap = src / "temp" / "snapshots" / "snapshot_001.json"
    data = json.loads(snap.read_text(encoding="utf-8"))
    data[".env"] = f"GITHUB_TOKEN={token}\n"
    snap.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = crowd("import", str(src), "-o", str(tmp_path / "rec"))
    assert out.returncode == 0, out.stderr
    # the token is on the terminal screen and in 2.0's raw lines kept for re-export: both scrubbed
    assert "redacted 2 secrets; left out 1 secret files" in out.stderr
    rec = tmp_path / "rec" / "5f0c2a1e-1748872991000"          # 2.0's window session id + start time
    raw = b"".join(p.read_bytes() for p in rec.glob("seg-*.crowd"))
    from crowd.serializer.interop.load import load_events

    events = load_events(rec).events
    blob = json.dumps(events, ensure_ascii=False)
    assert token not in blob and ".env" not in blob and token.encode() not in raw
    assert "[REDACTED:github_token]" in blob
    assert [e["what"] for e in events if e["type"] == "redaction"] == ["github_token", "github_token"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
