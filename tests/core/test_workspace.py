"""The workspace cache through the sidecar: nested .gitignore, excludes, multi-root, limits."""
from __future__ import annotations

from pathlib import Path

from tests.helpers.editor_events import insert, open_event, recorded


def _tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_nested_gitignore_excludes_and_multi_root(start_sidecar, tmp_path: Path) -> None:
    api, web = tmp_path / "api", tmp_path / "web"
    _tree(api, {
        ".gitignore": "*.log\nbuild/\n",
        "app.py": "a = 1\n",
        "debug.log": "ignored by the root .gitignore\n",
        "build/out.py": "ignored directory\n",
        "pkg/.gitignore": "local.txt\n!keep.log\n",
        "pkg/mod.py": "b = 2\n",
        "pkg/local.txt": "ignored by the nested .gitignore\n",
        "pkg/keep.log": "re-included by the nested .gitignore\n",
        "vendor/lib.py": "excluded by settings\n",
        "big.txt": "x" * 5000,
    })
    _tree(web, {"index.js": "console.log(1)\n", ".git/HEAD": "ref: refs/heads/main\n"})
    client = start_sidecar([api, web], settings={"exclude": ["vendor/"], "maxFileBytes": 4096})
    client.wait_for(lambda: client.status()["workspace"]["done"], 60, "the initial scan")
    status = client.status()
    assert status["folders"] == ["api", "web"]
    # api: .gitignore, app.py, pkg/.gitignore, pkg/mod.py, pkg/keep.log; web: index.js
    assert status["workspace"]["files"] == 6, status["workspace"]
    assert status["workspace"]["skipped"] == {"too big": 1}
    ack = client.events([open_event(api / "debug.log"), open_event(api / "pkg" / "local.txt"),
                         open_event(api / "vendor" / "lib.py"), open_event(api / "pkg" / "keep.log"),
                         open_event(web / "index.js"), insert(web / "index.js", 0, "//", 2)], ack=True)
    assert ack["accepted"] == 6
    events = recorded(client.request("crowd/stop")["recording"])
    files = {e["file"] for e in events if isinstance(e.get("file"), str)}
    assert files == {"api/pkg/keep.log", "web/index.js"}
