"""Fixtures for the terminal tests; makes the helper modules (term_oracle, term_corpus) importable."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
