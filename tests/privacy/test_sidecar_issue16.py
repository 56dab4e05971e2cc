"""Acceptance for issue 16 with the real sidecar: the leaks observed with planted secrets (secret
files of new families, lowercase keyword assignments, a secret in a 2,000+ character line, a
keyword-less salt, a base64-encoded token, a secret pasted in two halves, hex tokens in the
start settings, a token in a file name, an agent's snapshot of all of it) reach no byte under
the sidecar's home (snapshot blobs decompressed included)."""
from __future__ import annotations

import base64
import json
import random
import string
import subprocess
from pathlib import Path

from crowd.format import read_recording
from crowd.server.workspace.folders import path_to_uri
from tests.helpers.agents import make_agent
from tests.helpers.disk import decoded_everywhere
from tests.helpers.editor_events import insert, open_event

AL = string.ascii_letters + string.digits


def _rand(rng: random.Random, n: int, alphabet: str = AL) -> str:
    while True:
        out = "".join(rng.choice(alphabet) for _ in range(n))
        if alphabet != AL or (any(c.isdigit() for c in out) and any(c.isupper() for c in out)
                              and any(c.islower() for c in out)):
            return out


def _hits(root: Path, secrets: list[str]) -> list[str]:
    hits = []
    for path in sorted(root.rglob("*")):
        if path.is_file():
            data = decoded_everywhere(path.read_bytes())
            for secret in secrets:
                if any(secret[i:i + 10].encode() in data for i in range(0, len(secret) - 9)):
                    hits.append(f"{path.relative_to(root)}: {secret[:6]}...")
    return hits


def test_observed_leaks_reach_no_byte_on_disk(start_sidecar, workspace: Path, home: Path, tmp_path: Path) -> None:
    rng = random.Random(16)
    hexes = [_rand(rng, 40, "0123456789abcdef") for _ in range(2)]
    file_secrets = {name: _rand(rng, 24) for name in (".env-local", "env.production", "config/.env_prod",
                                                      "secrets.toml", "terraform.tfstate", ".vault-token",
                                                      "wp-config.php")}
    for name, secret in file_secrets.items():
        (workspace / name).parent.mkdir(parents=True, exist_ok=True)
        (workspace / name).write_text(f"SECRET_VALUE={secret}\n")
    code = {"api_token": _rand(rng, 16), "token": _rand(rng, 40, "0123456789abcdef"), "salt": _rand(rng, 16),
            "long": _rand(rng, 14), "b64": "ghp_" + _rand(rng, 36), "name": "ghp_" + _rand(rng, 36)}
    minified = "{" + ",".join(f'"k{i}":"{_rand(rng, 12, string.ascii_lowercase)}"' for i in range(200)) \
        + f',"db_password":"{code["long"]}"}}'
    encoded = base64.b64encode(code["b64"].encode()).decode()
    settings_py = workspace / "src" / "settings.py"
    settings_py.parent.mkdir(parents=True, exist_ok=True)
    settings_py.write_text(f'api_token = "{code["api_token"]}"\ntoken = "{code["token"]}"\n'
                           f'APP_SIGNING_SALT = "{code["salt"]}"\nCONFIG = \'{minified}\'\nBLOB = "{encoded}"\n')
    (workspace / "notes").mkdir()
    (workspace / "notes" / f"{code['name']}.txt").write_text("see the name\n")
    pasted = "sk-ant-api03-" + _rand(rng, 60)
    client = start_sidecar([workspace], settings={
        "uploadUrl": f"https://ingest.example.com/v1/put/u/f?exp=1700000000&sig={hexes[0]}",
        "uploadToken": hexes[1]})
    app = workspace / "src" / "app.py"
    app.write_text("x = 1\n")
    client.events([open_event(app), open_event(settings_py)], ack=True)
    first = 'ANTHROPIC = "' + pasted[:30]
    client.events([insert(app, 6, first, 2), insert(app, 6 + len(first), pasted[30:] + '"\n', 3)], ack=True)
    # an agent edits: the snapshot before its edit holds the whole workspace as it is on disk
    agent = make_agent(tmp_path / "bin", "claude")
    plan = [{"op": "replace", "path": "src/settings.py", "old": "api_token =", "new": "api_token ="},
            {"op": "write", "path": "src/more.py", "text": "y = 2\n"}]
    subprocess.run([str(agent), json.dumps(plan)], cwd=workspace, check=True, timeout=120)
    recording = Path(client.status()["recording"])

    def snapshot_recorded() -> bool:
        client.request("crowd/flush")
        return any(e.get("kind") == "snapshot" for e in read_recording(recording).events)
    client.wait_for(snapshot_recorded, 60, "the agent's snapshot recorded")
    client.request("crowd/flush")
    client.close()

    secrets = [*hexes, *file_secrets.values(), *code.values(), encoded, pasted[13:]]
    assert not _hits(home, secrets), _hits(home, secrets)
    events = read_recording(recording).events
    kinds = {e.get("what") for e in events if e.get("type") == "redaction"}
    assert {"keyword_secret", "url_secret", "anthropic_key"} <= kinds, kinds
    assert any(e.get("split") for e in events if e.get("type") == "redaction")
    assert any(e.get("where") == "snapshot" for e in events if e.get("type") == "redaction")
    # the secret files were never read: no snapshot note and no content names them
    assert not any(e.get("file") in file_secrets for e in events if e.get("type") == "redaction")
