"""What the attribution decided about one disk change."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Decision:
    source: str                  # user | agent | git | git_checkout | external
    agent: str | None = None     # the agent's name, when known
    record: bool = True          # False: already recorded elsewhere (editor save, UI file op)
    base: str | None = None      # text the diff starts from (None: the disk before)
    extra: dict[str, Any] = field(default_factory=dict)   # git_op, command, save, ui
