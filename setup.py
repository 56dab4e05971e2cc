"""Maps the repository's top-level folders into the single ``crowd`` import namespace.

The folders are named for what they hold (server/, serializer/, desktop-capture/, idm/),
while the code imports as ``crowd.server``, ``crowd.serializer``, ``crowd.capture`` and
``crowd.idm``. setuptools needs the package list spelled out when package_dir remaps roots,
so it is computed here from the folders' ``__init__.py`` files: adding a subpackage needs no
edit to this file.
"""
from pathlib import Path

from setuptools import setup

ROOTS = {
    "crowd": "crowd",
    "crowd.server": "server",
    "crowd.serializer": "serializer",
    "crowd.capture": "desktop-capture",
    "crowd.idm": "idm",
}


def _packages() -> list[str]:
    here = Path(__file__).parent
    found = []
    for pkg, folder in ROOTS.items():
        base = here / folder
        for init in sorted(base.rglob("__init__.py")):
            rel = init.parent.relative_to(base)
            if "node_modules" in rel.parts or any(p.startswith(".") for p in rel.parts):
                continue
            found.append(".".join([pkg, *rel.parts]) if rel.parts else pkg)
    return found


setup(packages=_packages(), package_dir=ROOTS)
