"""A real code-server (VS Code 1.100.3 extension host) for the editor bridge's tests.

Installed by editor-bridge/scripts/setup.sh into .tools/code-server (git-ignored). Every
piece of state (user data, extensions, XDG folders, crowd home) lives in a temp folder, and
the server runs in its own process group so that stopping it also stops the extension host
and the sidecar it spawned.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".tools" / "code-server"
CODE_SERVER = TOOLS / "node_modules" / ".bin" / "code-server"
PLAYWRIGHT = TOOLS / "node_modules" / "playwright-core"
DRIVER = ROOT / "editor-bridge" / "test" / "e2e" / "drive.mjs"
INLINE_AGENT = ROOT / "editor-bridge" / "test" / "e2e" / "inline-agent"
# screenshots shown in docs/editor-bridge.md: refreshed there with CROWD_UPDATE_DOC_SHOTS=1, else
# written to .bench-out (a plain test run leaves the checkout clean)
SHOTS = (ROOT / "docs" / "images" / "editor-bridge" if os.environ.get("CROWD_UPDATE_DOC_SHOTS") == "1"
         else ROOT / ".bench-out" / "editor-bridge-shots")

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension=".json" ContentType="application/json"/>'
    '<Default Extension=".js" ContentType="application/javascript"/>'
    '<Default Extension=".vsixmanifest" ContentType="text/xml"/></Types>\n')


def pack_vsix(folder: Path, out: Path) -> Path:
    """A .vsix (a zip: manifest, content types, ``extension/``) of a plain-JS test extension,
    so a fixture extension installs through the editor's real --install-extension path."""
    import zipfile

    pkg = json.loads((folder / "package.json").read_text())
    manifest = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<PackageManifest Version="2.0.0" xmlns="http://schemas.microsoft.com/developer/vsx-schema/2011">'
        f'<Metadata><Identity Language="en-US" Id="{pkg["name"]}" Version="{pkg["version"]}" Publisher="{pkg["publisher"]}"/>'
        f'<DisplayName>{pkg["displayName"]}</DisplayName><Properties>'
        f'<Property Id="Microsoft.VisualStudio.Code.Engine" Value="{pkg["engines"]["vscode"]}"/>'
        '</Properties></Metadata><Installation><InstallationTarget Id="Microsoft.VisualStudio.Code"/></Installation>'
        '<Dependencies/><Assets><Asset Type="Microsoft.VisualStudio.Code.Manifest" Path="extension/package.json" '
        'Addressable="true"/></Assets></PackageManifest>\n')
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("extension.vsixmanifest", manifest)
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                z.write(f, "extension/" + f.relative_to(folder).as_posix())
    return out


def missing_preconditions() -> list[str]:
    """What scripts/setup.sh should have installed but is not there."""
    missing = []
    if not CODE_SERVER.exists():
        missing.append(f"{CODE_SERVER} (run scripts/setup.sh)")
    if not PLAYWRIGHT.exists():
        missing.append(f"{PLAYWRIGHT} (run scripts/setup.sh)")
    if shutil.which("chromium") is None:
        missing.append("chromium (apt; scripts/setup.sh)")
    if shutil.which("node") is None:
        missing.append("node")
    return missing


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class CodeServer:
    base: Path
    workspace: Path
    port: int
    env: dict[str, str]
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?folder={self.workspace}"

    @property
    def user_data(self) -> Path:
        return self.base / "user-data"

    @property
    def extensions(self) -> Path:
        return self.base / "extensions"

    @classmethod
    def prepare(cls, base: Path, workspace: Path, settings: dict) -> "CodeServer":
        env = dict(os.environ)
        env.update({
            "XDG_CONFIG_HOME": str(base / "xdg-config"),
            "XDG_DATA_HOME": str(base / "xdg-data"),
            "XDG_CACHE_HOME": str(base / "xdg-cache"),
            "CROWD_HOME": str(base / "crowd-home"),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        })
        server = cls(base=base, workspace=workspace, port=free_port(), env=env)
        user = server.user_data / "User"
        user.mkdir(parents=True)
        (user / "settings.json").write_text(json.dumps(settings, indent=2))
        server.extensions.mkdir()
        (base / "config.yaml").write_text("")
        return server

    def install_extension(self) -> subprocess.CompletedProcess:
        """Through the product's own command: `crowd install-extension`."""
        return subprocess.run(
            [sys.executable, "-m", "crowd.cli", "install-extension", "--no-build",
             "--editor", str(CODE_SERVER), "--extensions-dir", str(self.extensions)],
            env={**self.env, "VSCODE_AGENT_FOLDER": str(self.base / "agent")},
            capture_output=True, text=True, timeout=180)

    def install_vsix(self, vsix: Path) -> subprocess.CompletedProcess:
        """A test fixture extension, through code-server's own --install-extension."""
        return subprocess.run(
            [str(CODE_SERVER), "--install-extension", str(vsix), "--force", "--extensions-dir", str(self.extensions),
             "--user-data-dir", str(self.user_data)],
            env={**self.env, "VSCODE_AGENT_FOLDER": str(self.base / "agent")},
            capture_output=True, text=True, timeout=180)

    def start(self, log: Path) -> None:
        cmd = [str(CODE_SERVER), "--bind-addr", f"127.0.0.1:{self.port}", "--auth", "none",
               "--config", str(self.base / "config.yaml"),
               "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust",
               "--extensions-dir", str(self.extensions), "--user-data-dir", str(self.user_data),
               str(self.workspace)]
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"code-server exited with {self.proc.returncode}: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("code-server did not answer /healthz within 90 s")

    def group(self) -> list:
        """Every process of code-server's group: server, extension host, sidecar, shells."""
        import psutil

        if self.proc is None:
            return []
        members = []
        for p in psutil.process_iter():
            try:
                if os.getpgid(p.pid) == self.proc.pid:
                    members.append(p)
            except (ProcessLookupError, psutil.Error):
                continue
        return members

    def stop(self) -> None:
        """SIGTERM the whole group and wait until all of it is gone (the sidecar closes the
        recording on SIGTERM; reading it before that would race its last write)."""
        import psutil

        if self.proc is None:
            return
        members = self.group()
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        _, alive = psutil.wait_procs(members, timeout=20)
        for p in alive:
            try:
                p.kill()
            except psutil.Error:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
