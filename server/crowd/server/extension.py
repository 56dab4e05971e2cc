"""``crowd install-extension``: put the editor bridge into VS Code, Cursor or code-server.

WHY a Python command: users install crowd with pip; the .vsix ships inside the Python
package (``crowd/server/extension_vsix/``, copied there by editor-bridge/scripts/setup.sh)
so no Node toolchain is needed. In a repository checkout without a built .vsix it is built
on demand with npm. The interpreter running this command is remembered
(``<crowd home>/interpreter``) so the extension starts the sidecar with a Python that has
crowd even when that Python is not on PATH.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

EDITORS = ("code", "cursor", "code-server")
VSIX_NAME = "crowd-bridge.vsix"
EXTENSION_ID = "crowd.crowd-bridge"


class ExtensionError(RuntimeError):
    """Something the user must fix; the message says what."""


def _repo_bridge() -> Path:
    return Path(__file__).resolve().parents[3] / "editor-bridge"


def vsix_candidates() -> list[Path]:
    """Where a built .vsix may be, in order of preference."""
    found: list[Path] = []
    env = os.environ.get("CROWD_VSIX")
    if env:
        found.append(Path(env))
    found.append(Path(__file__).resolve().parent / "extension_vsix" / VSIX_NAME)
    found.append(_repo_bridge() / "dist" / VSIX_NAME)
    return found


def build_vsix() -> Path:
    """Build the .vsix from a repository checkout (needs node and npm)."""
    bridge = _repo_bridge()
    if not (bridge / "package.json").is_file():
        raise ExtensionError("no built crowd-bridge.vsix is installed with this crowd package and there is no "
                             "editor-bridge/ source next to it to build one; reinstall the crowd-rollouts "
                             "package from a release "
                             "or run scripts/setup.sh in the crowd repository (or set CROWD_VSIX=/path/to.vsix)")
    if shutil.which("npm") is None:
        raise ExtensionError(f"building the extension in {bridge} needs Node.js and npm on PATH "
                             "(or set CROWD_VSIX=/path/to/crowd-bridge.vsix)")
    print(f"crowd: building the editor extension in {bridge} ...", file=sys.stderr)
    proc = subprocess.run(["bash", str(bridge / "scripts" / "build.sh")], capture_output=True, text=True)
    if proc.returncode != 0:
        raise ExtensionError(f"building the extension failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return bridge / "dist" / VSIX_NAME


def find_vsix(build: bool = True) -> Path:
    env = os.environ.get("CROWD_VSIX")
    if env and not Path(env).is_file():
        raise ExtensionError(f"CROWD_VSIX={env} does not exist")
    for path in vsix_candidates():
        if path.is_file():
            return path
    if not build:
        raise ExtensionError("no crowd-bridge.vsix found (looked in: "
                             + ", ".join(str(p) for p in vsix_candidates()) + ")")
    return build_vsix()


def find_editors(requested: str | None) -> list[str]:
    """Editor CLIs to install into: the one asked for (name or path), else all on PATH."""
    if requested:
        path = shutil.which(requested) or (requested if Path(requested).is_file() else None)
        if path is None:
            raise ExtensionError(f"editor {requested!r} not found on PATH")
        return [path]
    found = [p for p in (shutil.which(name) for name in EDITORS) if p]
    if not found:
        raise ExtensionError("no editor found on PATH (looked for: " + ", ".join(EDITORS) + "). Install the "
                             "shell command (VS Code: 'Shell Command: Install code command in PATH'; Cursor: "
                             "'Install cursor command') or pass --editor /path/to/code")
    return found


def remember_interpreter() -> Path:
    from crowd.home import crowd_home, private_dir

    target = private_dir(crowd_home()) / "interpreter"
    target.write_text(sys.executable + "\n", encoding="utf-8")
    return target


def install(editor: str, vsix: Path, extensions_dir: str | None = None) -> None:
    cmd = [editor, "--install-extension", str(vsix), "--force"]
    if extensions_dir:
        cmd += ["--extensions-dir", extensions_dir]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise ExtensionError(f"{' '.join(cmd)} failed (exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-1500:]}")


def _run(args: argparse.Namespace) -> int:
    try:
        vsix = Path(args.vsix) if args.vsix else find_vsix(build=not args.no_build)
        if not vsix.is_file():
            raise ExtensionError(f"{vsix} does not exist")
        if args.print_vsix:
            print(vsix)
            return 0
        editors = find_editors(args.editor)
        remembered = remember_interpreter()
        for editor in editors:
            install(editor, vsix, args.extensions_dir)
            print(f"crowd: installed {EXTENSION_ID} from {vsix} into {editor}")
        print(f"crowd: the extension will start the sidecar with {sys.executable} (remembered in {remembered})")
    except ExtensionError as exc:
        print(f"crowd install-extension: {exc}", file=sys.stderr)
        return 1
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("install-extension", help="install the editor bridge into VS Code / Cursor / code-server")
    p.add_argument("--editor", help="editor CLI name or path (default: every one of code, cursor, code-server on PATH)")
    p.add_argument("--vsix", help="install this .vsix instead of the bundled one")
    p.add_argument("--extensions-dir", help="passed to the editor's --extensions-dir")
    p.add_argument("--no-build", action="store_true", help="never build the .vsix with npm; fail if none is bundled")
    p.add_argument("--print-vsix", action="store_true", help="print the .vsix that would be installed and exit")
    p.set_defaults(handler=_run)
