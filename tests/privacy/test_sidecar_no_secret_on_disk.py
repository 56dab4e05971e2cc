"""Acceptance: secrets planted in files, typed text, env files and agent writes appear in no
byte the real sidecar writes to disk (snapshot blobs decompressed included), nor in what is
uploaded from it."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

from crowd.format import read_recording
from crowd.server.workspace.folders import path_to_uri
from tests.helpers.agents import make_agent
from tests.helpers.disk import decoded_everywhere
from tests.helpers.editor_events import open_event
from tests.helpers.snapshot_files import blob_files, stored_blobs
from tests.privacy.secrets_fixture import needles, pem, planted


def scan_tree(root: Path, forbidden: list[str]) -> list[str]:
    hits = []
    for p in sorted(root.rglob("*")):
        if p.is_file():
            data = decoded_everywhere(p.read_bytes())
            for s in forbidden:
                if s.encode() in data:
                    hits.append(f"{p.relative_to(root)}: {s[:12]}...")
    return hits


def test_planted_secrets_never_reach_disk_or_upload(start_sidecar, workspace: Path, home: Path, tmp_path) -> None:
    s = planted()
    (workspace / ".env").write_text(f"GITHUB_TOKEN={s['github']}\nDB_PASSWORD={s['password']}\n")
    (workspace / "id_rsa").write_text(pem(s["pem_body"]))
    config = workspace / "src" / "config.py"
    config.write_text(f'AWS_KEY = "{s["aws"]}"\nDB = "postgres://admin:{s["url_password"]}@db/x"\n'
                      f'password = "{s["password"]}"\n')
    app = workspace / "src" / "app.py"
    client = start_sidecar([workspace])
    evs = [open_event(config), open_event(app), open_event(workspace / ".env")]
    client.events(evs, ack=True)
    # type a token key by key, with a viewport after each key (what the editor shows)
    text = app.read_text()
    typed = f"TOKEN = {s['anthropic']}\nslack = {s['slack']} \n"
    version = 1
    batch = []
    for ch in typed:
        version += 1
        batch.append({"kind": "document_change", "uri": path_to_uri(app), "version": version,
                      "changes": [{"offset": len(text), "length": 0, "text": ch}], "reason": None,
                      "visible": True, "active": True})
        text += ch
        batch.append({"kind": "viewport", "editors": [{"uri": path_to_uri(app), "visibleRanges": [[0, 20]],
                                                       "selections": [{"anchor": len(text), "active": len(text)}],
                                                       "active": True}]})
    client.events(batch, ack=True)
    # a CLI agent (a real process named claude) edits config.py and writes a script with a
    # secret: the snapshot taken before its edit holds config.py, secrets and all, on disk
    agent = make_agent(tmp_path / "bin", "claude")
    plan = [{"op": "replace", "path": "src/config.py", "old": "DB =", "new": "DATABASE ="},
            {"op": "write", "path": "src/deploy.sh",
             "text": f"curl https://deploy:{s['url_password']}@x.org/\nexport SLACK={s['slack']}\n"}]
    subprocess.run([str(agent), json.dumps(plan)], cwd=workspace, check=True, timeout=120)
    # another process writes a key file (a secret file by name: never read)
    (workspace / "server.pem").write_text(pem(s["pem_body"]))
    recording = Path(client.status()["recording"])

    def agent_recorded() -> bool:
        client.request("crowd/flush")
        evs = read_recording(recording).events
        return any(e.get("kind") == "snapshot" for e in evs) and \
            any(e.get("kind") == "file_change" and e.get("file") == "src/config.py" for e in evs)
    client.wait_for(agent_recorded, 60, "the agent's edit and its snapshot recorded")
    client.request("crowd/flush")
    client.close()

    events = read_recording(recording).events
    as_json = json.dumps(events)
    forbidden = needles(s)
    assert not [n for n in forbidden if n in as_json]
    assert not scan_tree(home, forbidden), scan_tree(home, forbidden)
    # the typed secrets were seen and replaced, not silently dropped
    kinds = {e.get("what") for e in events if e.get("type") == "redaction"}
    assert {"anthropic_key", "slack_token", "aws_access_key", "url_password"} <= kinds, kinds
    assert any(e.get("typed") for e in events if e.get("type") == "redaction")
    # no prefix of a typed secret longer than the prefix floor survives either
    for secret in (s["anthropic"], s["slack"]):
        assert secret[:10] not in as_json
    # the snapshot before the agent's edit holds config.py with markers; every blob is a
    # zstd frame and none holds a secret once decompressed
    snap = next(e for e in events if e.get("kind") == "snapshot")
    change = next(e for e in events if e.get("kind") == "file_change" and e.get("file") == "src/config.py")
    assert change["source"] == "agent" and change["agent"] == "claude" and snap["seq"] < change["seq"]
    assert {e.get("what") for e in events if e.get("where") == "snapshot" and e.get("file") == "src/config.py"} >= \
        {"aws_access_key", "url_password"}
    assert blob_files(recording / "snapshots")
    plain = b"".join(stored_blobs(recording / "snapshots"))
    assert b"AWS_KEY = " in plain and b"[REDACTED:" in plain
    assert not [n for n in forbidden if n.encode() in plain]
    # secret files were never recorded, not even their names' contents
    assert not any(e.get("file") in (".env", "id_rsa", "server.pem") and e.get("kind") == "file_content"
                   for e in events)

    # upload what was recorded and scan what arrived
    from crowd.transfer.bundle import editor_candidate
    from crowd.transfer.client import Uploader, UploaderConfig
    from crowd.transfer.ingest import IngestServer
    from crowd.transfer.queue import UploadQueue

    from crowd.transfer.store import list_objects, s3_client
    from tests.helpers.object_store import fresh_bucket

    bucket = fresh_bucket()
    server = IngestServer(bucket, token="t0ken-x").start()
    q = UploadQueue(tmp_path / "queue", hold_s=0)
    q.set("consent", "granted")
    assert q.add(editor_candidate(recording, final=True)) is not None
    up = Uploader(q, UploaderConfig(endpoint=f"{server.url}/v1/presign", token="t0ken-x"))
    assert up.run_until_idle()["uploaded"] == 1
    up.stop()
    server.stop()
    import tarfile
    arrived = tmp_path / "arrived"
    (tmp_path / "ingest").mkdir()
    s3 = s3_client(bucket)
    for obj in list_objects(s3, bucket.bucket, ""):     # everything in the bucket, status objects too
        tar_path = tmp_path / "ingest" / obj["key"].replace("/", "_")
        tar_path.write_bytes(s3.get_object(Bucket=bucket.bucket, Key=obj["key"])["Body"].read())
        if tar_path.suffix == ".tar":
            with tarfile.open(tar_path) as tar:
                tar.extractall(arrived, filter="data")
    assert any(arrived.rglob("seg-*.crowd"))
    assert not scan_tree(tmp_path / "ingest", forbidden)
    assert not scan_tree(arrived, forbidden)


def test_control_without_redaction_the_scan_finds_them(start_sidecar, workspace: Path, home: Path) -> None:
    """The scanner above is not vacuous: with redaction switched off it sees the secrets."""
    s = planted()
    config = workspace / "src" / "config.py"
    config.write_text(f'AWS_KEY = "{s["aws"]}"\n')
    client = start_sidecar([workspace], settings={"redact": False})
    client.events([open_event(config)], ack=True)
    client.request("crowd/flush")
    client.close()
    assert scan_tree(home, [s["aws"]])
