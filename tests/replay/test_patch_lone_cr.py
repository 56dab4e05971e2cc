"""A crowd-code 2.0 (jsdiff) hunk splits lines at "\\n" only: a removed line holding a lone CR
followed by more text must be removed whole. Read with ``splitlines``, the text after the CR
became a line without a hunk tag and was silently skipped, keeping text the diff removed
(found by the anchor oracle, seed 580)."""
from __future__ import annotations

from crowd.serializer.replay.patch import apply_unified_diff

OLD = '\n\t\n\t"_\r\U0001F600y_\n'
DIFF = ('--- a/b.txt\t\n+++ b/b.txt\t\n@@ -1,3 +1,1 @@\n-\n-\t\n-\t"_\r\U0001F600y_\n+new\n')


def test_a_jsdiff_hunk_removes_a_line_holding_a_lone_cr_whole():
    assert apply_unified_diff(OLD, DIFF) == "new\n"

