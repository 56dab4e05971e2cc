"""Finding secrets in text: one matcher pass for candidates, then each candidate confirmed.

WHY this shape (issue 16): the previous detector (detect-secrets' plugins plus our patterns,
each a full regex pass) read 0.3-1 MB/s and missed lowercase keyword assignments, URL
passwords with an empty user, secrets in lines over 2,000 characters, encoded secrets and
keyword-less salts. Now:

1. **prefilter**: every rule's Hyperscan expression in one database (matcher.py), one pass
   over the text; a text without a candidate costs that pass only;
2. **confirm**: each candidate's rule runs its Python regex in a small window around it (the
   line, clipped to a few hundred characters, so a minified 2 MB line costs the same per
   candidate as a short one; multi-line rules such as PEM blocks get a larger window);
3. **judge**: shape and entropy checks on the value (checks.py): known prefixes
   (rules.py: 70 rules, 60+ kinds), keyword assignments, URL passwords, headers, flags and
   key blocks (context.py), long random tokens, base64 runs that decode to a secret
   (encoded.py, scanned again by this detector).

The result is a list of non-overlapping ``Finding(start, end, kind)`` spans over the text.
``python -m bench privacy`` measures recall on a planted corpus of 40+ kinds, false
positives per 10 MB of real code and MB/s, side by side with the previous detector.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from crowd.privacy.checks import entropy
from crowd.privacy.context import ASSIGNMENT, BARE_TOKEN, CONTEXT_RULES, URL_QUERY, judge_token
from crowd.privacy.encoded import ENCODED, contains_form, decode_run
from crowd.privacy.matcher import Matcher
from crowd.privacy.rules import PREFIX_RULES, Rule

MIN_SECRET_LEN = 6
MAX_DECODE_DEPTH = 2      # base64 inside base64 inside text, no deeper


@dataclass(frozen=True)
class Finding:
    start: int
    end: int
    kind: str


def shannon_entropy(data: str) -> float:
    return entropy(data)


ALL_RULES: tuple[Rule, ...] = PREFIX_RULES + CONTEXT_RULES + (BARE_TOKEN, ENCODED)
# Rules without an expression of their own: read where another rule found a candidate.
COMPANIONS: dict[Rule, Rule] = {URL_QUERY: ASSIGNMENT}


@lru_cache(maxsize=4)
def _compiled(rules: tuple[Rule, ...]) -> tuple[Matcher, tuple[re.Pattern[str], ...], tuple[int, ...]]:
    """The matcher of the rules that have an expression, each rule's Python regex, and for
    each matcher rule its index in ``rules``; companions follow their rule's candidates."""
    patterns = []
    for rule in rules:
        flags = (re.I if rule.caseless else 0) | (re.S if rule.multiline else 0)
        patterns.append(re.compile(rule.pattern, flags))
    scanned = tuple(i for i, r in enumerate(rules) if r not in COMPANIONS)
    return Matcher([rules[i] for i in scanned]), tuple(patterns), scanned


class SecretFinder:
    """Finds secret spans in a text. Thread-safe: it holds no mutable state.

    ``bare_tokens``: also report long random tokens without keyword or prefix (on by default;
    off for callers that only want named credentials). ``prefilter=False`` runs every rule's regex over
    the whole text instead of the matcher's windows (the reference; slow). ``filename`` is
    accepted for callers that know it; the rules do not depend on the file type (a keyword assignment is judged
    by its name and value in every language).
    """

    def __init__(self, *, bare_tokens: bool = True, prefilter: bool = True) -> None:
        rules = ALL_RULES if bare_tokens else tuple(r for r in ALL_RULES if r is not BARE_TOKEN)
        self.rules = rules
        self.matcher, self._patterns, scanned = _compiled(rules)
        # prefilter=False: every rule's regex over the whole text (the reference the matcher's
        # windows must agree with; also what runs where hyperscan is not installed)
        self.prefilter = prefilter and self.matcher.available
        self._index = scanned                          # matcher rule -> index in self.rules
        leaders = {r: i for i, r in enumerate(rules)}
        # index in self.rules -> the companions' indexes that read its candidates too
        self._companions = {leaders[lead]: tuple(i for i, r in enumerate(rules) if COMPANIONS.get(r) is lead)
                            for lead in set(COMPANIONS.values()) if lead in leaders}

    def find(self, text: str, filename: str | None = None) -> list[Finding]:
        """Secret spans in ``text``."""
        if len(text) < MIN_SECRET_LEN:
            return []
        return self._find(text, 0)

    def _find(self, text: str, depth: int) -> list[Finding]:
        if self.prefilter:
            data = text.encode("ascii") if text.isascii() else text.encode("ascii", "replace")
            hits = self.matcher.scan(data + b"\n")
            if not hits:
                return []
            found: list[Finding] = []
            windows = self._windows(text, hits, found)
        else:
            found = []
            windows = [(i, 0, len(text)) for i in range(len(self.rules))]
        for index, lo, hi in windows:
            rule = self.rules[index]
            for m in self._patterns[index].finditer(text, lo, hi):
                hit = self._confirm(rule, m, depth)
                if hit is not None:
                    found.append(hit)
        return _merge(found)

    def _confirm(self, rule: Rule, m: re.Match[str], depth: int) -> Finding | None:
        if rule is ENCODED:
            run = m.group()
            if depth >= MAX_DECODE_DEPTH or not contains_form(run):
                return None
            decoded = decode_run(run)
            inner = self._find(decoded, depth + 1) if decoded and len(decoded) >= MIN_SECRET_LEN else []
            return Finding(m.start(), m.end(), "base64_" + inner[0].kind) if inner else None
        if rule.leftmost:       # only without the matcher: it judges these itself
            span = judge_token(m.string, m.start(), m.end())
            return None if span is None else Finding(span[0], span[1], rule.kind)
        if rule.judge is not None:
            span = rule.judge(m)
            return None if span is None else Finding(span[0], span[1], rule.kind)
        group = "s" if "s" in m.re.groupindex and m.group("s") is not None else 0
        if rule.check is not None and not rule.check(m.group(group)):
            return None
        return Finding(m.start(group), m.end(group), rule.kind)

    def _windows(self, text: str, hits: list[tuple[int, int, int]], found: list[Finding]) -> list[tuple[int, int, int]]:
        """(rule index, lo, hi): the merged stretches of text each rule's regex must read.
        Candidates of ``leftmost`` rules are judged here at once (into ``found``)."""
        rules, index_of, companions = self.rules, self._index, self._companions
        n = len(text)
        spans: dict[int, list[tuple[int, int]]] = {}
        for scanned, start, end in hits:
            index = index_of[scanned]
            rule = rules[index]
            if rule.leftmost:
                span = judge_token(text, start, min(end - 1, n))
                if span is not None:
                    found.append(Finding(span[0], span[1], rule.kind))
                continue
            _add_window(text, rule, min(end, n), spans.setdefault(index, []))
            for other in companions.get(index, ()):
                _add_window(text, rules[other], min(end, n), spans.setdefault(other, []))
        return _merged(spans)


def _add_window(text: str, rule: Rule, end: int, out: list[tuple[int, int]]) -> None:
    """The stretch around a candidate ending at ``end`` that ``rule``'s regex reads: its own
    line (unless the rule crosses lines), at most ``before``/``after`` characters around."""
    lo, hi = max(0, end - rule.before), min(len(text), end + rule.after)
    if not rule.multiline:
        lo = max(lo, text.rfind("\n", 0, max(end - 1, 0)) + 1)
        line_end = text.find("\n", max(end - 1, 0))
        if line_end >= 0:
            hi = min(hi, line_end)
    out.append((lo, max(hi, lo)))


def _merged(spans: dict[int, list[tuple[int, int]]]) -> list[tuple[int, int, int]]:
    out = []
    for index, ranges in spans.items():
        ranges.sort()
        cur_lo, cur_hi = ranges[0]
        for lo, hi in ranges[1:]:
            if lo <= cur_hi:
                cur_hi = max(cur_hi, hi)
            else:
                out.append((index, cur_lo, cur_hi))
                cur_lo, cur_hi = lo, hi
        out.append((index, cur_lo, cur_hi))
    return out


GENERIC_KINDS = frozenset({"high_entropy_string", "keyword_secret", "env_secret", "password", "url_secret",
                           "key_material", "bearer_token"})


def _rank(kind: str) -> int:
    """Which name an overlap keeps: a known format, then a context, then bare randomness."""
    return 0 if kind == "high_entropy_string" else 1 if kind in GENERIC_KINDS else 2


def _merge(found: list[Finding]) -> list[Finding]:
    """Sort and merge overlapping spans; a specific kind (aws_access_key) beats a generic one."""
    if not found:
        return []
    found = sorted(found, key=lambda f: (f.start, -(f.end - f.start)))
    merged = [found[0]]
    for f in found[1:]:
        last = merged[-1]
        if f.start < last.end:
            kind = f.kind if _rank(f.kind) > _rank(last.kind) else last.kind
            merged[-1] = Finding(last.start, max(last.end, f.end), kind)
        else:
            merged.append(f)
    return merged
