"""What happens to a held token once it ends: is it a secret, and how the held events change.

The ended token is checked with its context: the text on the same line before it and the
lines of the held observations that contain it (so ``password = "hunter2x"`` is recognised
by its keyword). If a secret is found:
- the token's held keystroke events are merged into one event that makes the same change
  with the secret replaced by the marker, and also replaces the secret's characters that
  were written before the hold, so the document holds only the marker (the first held
  keystroke's seq/t/wall are kept);
- a ``redaction`` note takes the seq of the second held keystroke (seq stays increasing);
- in every other held event the secret and each prefix of it of at least ``PREFIX_MIN``
  characters (what the screen showed while it was typed) become the marker.
"""
from __future__ import annotations

from typing import Any

from crowd.privacy.detect import SecretFinder
from crowd.privacy.redactor import marker
from crowd.privacy.typing.tokens import Event, Token

PREFIX_MIN = 4
# header and identifier fields of a held observation that are never rewritten
_KEEP = frozenset({"seq", "t", "wall", "type", "kind", "file", "terminal"})


def find_secret(finder: SecretFinder, tok: Token, held: list[Event],
                closing: str) -> tuple[tuple[int, int] | None, str]:
    """The secret's span in ``tok.text`` (and its kind), judged with the token's context."""
    prefix = tok.context
    contexts = [(prefix + tok.text + closing.strip(), len(prefix))]
    token_ids = {id(e) for e in tok.events}
    for event in held:
        if id(event) in token_ids:
            continue
        for text in strings(event):
            pos = text.find(tok.text)
            if pos >= 0:
                lo = text.rfind("\n", 0, pos) + 1
                hi = text.find("\n", pos)
                contexts.append((text[lo: hi if hi >= 0 else len(text)], pos - lo))
    filename = tok.stream[1] if tok.stream[0] == "edit" else None
    for context, at in contexts:
        for f in finder.find(context, filename):
            lo, hi = max(f.start, at), min(f.end, at + len(tok.text))
            if hi - lo >= 1 and (hi - lo >= 6 or hi - lo == f.end - f.start):
                return (lo - at, hi - at), f.kind
    return None, ""


def rewrite(tok: Token, held: list[Event], span: tuple[int, int], kind: str) -> tuple[list[Event], bool]:
    """The held events to write with the secret at ``span`` of ``tok.text`` replaced, and
    whether the keystrokes were merged into a marker edit (a typed redaction)."""
    mark = marker(kind)
    a, b = span
    secret = tok.text[a:b]
    # The held keystrokes, taken together, replaced text[m:held_from] (written before the
    # hold, then backspaced over) by text[m:]. The merged event replaces text[lo:held_from]
    # (lo <= m also takes the secret's characters written before the hold, which are still
    # in the document) by the new text with the secret replaced by the marker.
    m = min(tok.min_len, tok.held_from)
    if b <= m:
        return scrub_observations(tok, held, secret, mark), False   # nothing of it is held
    lo = min(a, m)
    deleted = tok.held_from - lo
    scrubbed = tok.text[lo:a] + mark + tok.text[b:]
    first = tok.events[0]
    merged = dict(first)
    if tok.stream[0] == "edit":
        merged["changes"] = [{"offset": tok.start_offset + lo, "length": deleted, "text": scrubbed}]
        if "version" in tok.events[-1]:
            merged["version"] = tok.events[-1]["version"]
        where = "changes[0].text"
    else:
        merged["data"] = "\x7f" * deleted + scrubbed
        where = "data"
    note_src = tok.events[1] if len(tok.events) > 1 else first
    note = {"seq": note_src.get("seq"), "t": note_src.get("t"), "wall": note_src.get("wall"),
            "type": "redaction", "kind": "redaction", "what": kind, "where": where,
            "file": tok.stream[1] if tok.stream[0] == "edit" else None, "typed": True,
            "offset": tok.start_offset + a if tok.stream[0] == "edit" else None,
            "length": b - a}
    token_ids = {id(e) for e in tok.events}
    out: list[Event] = []
    for event in held:
        if id(event) in token_ids:
            if event is first:
                out.append(merged)
            if event is note_src:
                out.append(note)
            continue
        replace_prefixes(event, secret, mark)
        out.append(event)
    return out, True


def scrub_observations(tok: Token, held: list[Event], secret: str, mark: str) -> list[Event]:
    """Only the held observations show the secret: replace it (and its prefixes) there."""
    token_ids = {id(e) for e in tok.events}
    for event in held:
        if id(event) not in token_ids:
            replace_prefixes(event, secret, mark)
    return held


def strings(node: Any) -> list[str]:
    """Every string in ``node``; a list of strings (terminal rows) as one text."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in strings(v)]
    if isinstance(node, list):
        if node and all(isinstance(v, str) for v in node):
            return ["\n".join(node)]
        return [s for v in node for s in strings(v)]
    return []


def replace_prefixes(node: Any, secret: str, mark: str) -> Any:
    """Replace ``secret`` and its prefixes (longest first) in every string of ``node``."""
    def fix(text: str) -> str:
        for k in range(len(secret), PREFIX_MIN - 1, -1):
            if secret[:k] in text:
                text = text.replace(secret[:k], mark)
        return text

    if isinstance(node, dict):
        for key, value in node.items():
            if key in _KEEP:
                continue
            if isinstance(value, str):
                node[key] = fix(value)
            else:
                replace_prefixes(value, secret, mark)
    elif isinstance(node, list):
        carried = 0      # how much of the secret the previous row (a terminal row) ended with
        for i, value in enumerate(node):
            if isinstance(value, str):
                node[i] = fix(_continued(value, secret, carried, mark))
                carried = _ends_with_prefix(value, secret)
            else:
                carried = 0
                replace_prefixes(value, secret, mark)
    return node


def _ends_with_prefix(row: str, secret: str) -> int:
    """Length of the longest prefix of ``secret`` (PREFIX_MIN or more) that ``row`` ends with."""
    for k in range(min(len(secret), len(row)), PREFIX_MIN - 1, -1):
        if row.endswith(secret[:k]):
            return k
    return 0


def _continued(row: str, secret: str, carried: int, mark: str) -> str:
    """A row that goes on with the secret where the previous row stopped (the terminal wrapped
    it mid-secret): that piece, however short, becomes the marker too."""
    if not carried:
        return row
    rest = secret[carried:]
    k = 0
    while k < len(rest) and k < len(row) and row[k] == rest[k]:
        k += 1
    return mark + row[k:] if k else row
