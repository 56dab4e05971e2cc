"""One pass over the text finds every rule's candidates: a Hyperscan database of all rules.

WHY Hyperscan: the previous detector ran 25 regex plugins plus a dozen patterns one after
another, each a full pass in Python's backtracking engine (0.3-1 MB/s; one keyword
alternation alone reads 9 MB/s in ``re``, measured on 20 MB of the virtualenv's code).
Hyperscan compiles all expressions into one automaton and scans at memory speed (about
130 MB/s for this rule set on this machine, including the Python callbacks for the
candidates), so text without a candidate costs one scan. Each rule's expression reports
where a candidate ends; detect.py confirms it with the rule's Python regex in a small window.

Text is scanned as bytes with every non-ASCII character replaced by one ``?`` (``str.encode
('ascii', 'replace')``), so byte offsets are character offsets. A ``\\n`` is appended so
expressions that end on a delimiter also match at the end of the text.

Without the ``hyperscan`` package (a platform without a wheel) ``Matcher`` says so
(``available`` false) and detect.py runs every rule's Python regex over the whole text:
the same findings, about a hundred times slower.
"""
from __future__ import annotations

import threading
from collections.abc import Sequence

from crowd.privacy.rules import Rule

try:
    import hyperscan
except ImportError:  # pragma: no cover - platforms without a hyperscan wheel
    hyperscan = None


class Matcher:
    """Candidates for ``rules`` in a text: (rule index, start, end) triples."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self.available = hyperscan is not None
        self._db = None
        # Hyperscan's scratch space serves one scan at a time (a second thread got
        # ScratchInUseError: the pipeline and the snapshot writer scan at once): one per thread
        self._local = threading.local()
        if self.available:
            db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            flags = []
            for rule in self.rules:
                f = 0
                if rule.caseless:
                    f |= hyperscan.HS_FLAG_CASELESS
                if rule.multiline:
                    f |= hyperscan.HS_FLAG_DOTALL
                if rule.leftmost:
                    f |= hyperscan.HS_FLAG_SOM_LEFTMOST
                flags.append(f)
            db.compile(expressions=[(r.hs or r.pattern).encode() for r in self.rules],
                       ids=list(range(len(self.rules))), elements=len(self.rules), flags=flags)
            self._db = db

    def scan(self, data: bytes) -> list[tuple[int, int, int]]:
        """(rule index, start, end) of every candidate in ``data`` (ASCII bytes); the start
        is exact only for ``leftmost`` rules (0 for the others)."""
        hits: list[tuple[int, int, int]] = []
        append = hits.append

        def on_match(rule: int, start: int, end: int, _flags: int, _context: object) -> None:
            append((rule, start, end))

        try:
            scratch = self._local.scratch
        except AttributeError:          # this thread's first scan
            scratch = self._local.scratch = hyperscan.Scratch(database=self._db)
        self._db.scan(data, match_event_handler=on_match, scratch=scratch)
        return hits
