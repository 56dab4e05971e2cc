"""What the editor bridge costs the VS Code extension host per keystroke.

Real code-server (VS Code 1.100.3) + headless Chromium typing through playwright-core, the
real sidecar recording; the extension measures its own handlers (performance.now) and
reports through `crowd: Show bridge overhead statistics`. Rows: a small file and a
10,000-line file (offset conversion and visible-range lookups must not grow with the file).
Needs what scripts/setup.sh installs (.tools/code-server, chromium).
"""
from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

from bench.table import Table


def _one(lines: int, chars: int) -> dict:
    from tests.bridge.codeserver import PLAYWRIGHT, ROOT, CodeServer
    from tests.bridge.test_editor_e2e import Driver

    with tempfile.TemporaryDirectory(prefix="crowd-bench-bridge-") as tmp:
        base = Path(tmp)
        ws = base / "ws"
        ws.mkdir()
        body = "".join(f"value_{i} = {i}  # some text on line {i}\n" for i in range(lines))
        (ws / "big.py").write_text(body)
        stats = base / "stats.json"
        settings = {
            "crowd.python": str(ROOT / ".venv" / "bin" / "python"), "crowd.exportPath": str(base / "rec"),
            "crowd.statsFile": str(stats), "workbench.startupEditor": "none", "files.autoSave": "off",
            "security.workspace.trust.enabled": False, "git.enabled": False,
            "editor.autoClosingBrackets": "never", "editor.autoClosingQuotes": "never",
        }
        server = CodeServer.prepare(base / "cs", ws, settings)
        r = server.install_extension()
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        server.start(base / "cs.log")
        typed = ("x = compute(alpha, beta) + 1\n" * (chars // 29 + 1))[:chars]
        cfg = {"url": server.url, "playwright": str(PLAYWRIGHT), "chromium": shutil.which("chromium"),
               "file": "big.py", "typed": typed, "mode": "typing"}
        driver = Driver(cfg, base / "driver.log")
        try:
            driver.wait_step("stats", 300)
            deadline = time.monotonic() + 30
            while not stats.exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            result = json.loads(stats.read_text())
            driver.send()
        finally:
            driver.close()
            server.stop()
        return result


def run(quick: bool) -> list[Table]:
    from tests.bridge.codeserver import missing_preconditions

    missing = missing_preconditions()
    if missing:
        return [Table("editor bridge: cost per keystroke", ["status"], [["not run"]],
                      ["missing: " + ", ".join(missing)])]
    chars = 120 if quick else 600
    rows = []
    for lines in ((20,) if quick else (20, 10_000)):
        s = _one(lines, chars)
        rows.append([f"{lines:,} lines", s["changes"], s["perKeystrokeMs"], s["changeHandlerP50Ms"],
                     s["changeHandlerP99Ms"], s["changeHandlerMaxMs"], s["sentBatches"]])
    return [Table(
        "editor bridge: cost per keystroke in the extension host (ms)",
        ["file", "keystrokes", "all handlers / keystroke", "change p50", "change p99", "change max", "batches"],
        rows,
        ["target: <= 1 ms per keystroke (all bridge handlers + batch sends, divided by document changes)",
         "code-server 4.100.3, headless Chromium typing at 15 ms/key via playwright-core"],
    )]
