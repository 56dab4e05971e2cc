"""[Baseline copy, before issue 16] Finding secrets in text: detect-secrets' detectors plus targeted patterns where it misses.

detect-secrets is the well-kept detector (AWS, GitHub, GitLab, Slack, Stripe, JWT, private
key headers, URL credentials, keyword assignments, high-entropy strings...). Its plugins
report secret *values*, not positions, and some are line-oriented, so this module runs the
plugins' own analysers directly (no verification, so no network), locates every occurrence
of each value, and adds patterns for what it does not cover: whole PEM blocks (it flags only
the header line), newer token formats (Anthropic, OpenAI project keys, GitHub fine-grained,
Google, Hugging Face), bearer/basic auth headers, unquoted ``KEY=value`` assignments in shells
and dotenv text, ``--password x`` style flags and bare high-entropy tokens.

The result is a list of non-overlapping ``Finding(start, end, kind)`` spans over the text.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

MIN_SECRET_LEN = 6
MAX_CACHED_LINE = 2000
LINE_CACHE_SIZE = 20_000        # lines; and at most LINE_CACHE_CHARS characters of them
LINE_CACHE_CHARS = 2_000_000


@dataclass(frozen=True)
class Finding:
    start: int
    end: int
    kind: str


# -- targeted patterns (group "s" is the secret; whole match when absent) -----------------------
_PEM = re.compile(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    re.S)
_PUTTY = re.compile(r"PuTTY-User-Key-File-\d+:.*?(?:Private-MAC: *\S+|\Z)", re.S)
# A scrolled viewport or terminal can show the body of a key without its header.
_B64_BLOCK = re.compile(r"(?m)(?:^[ \t]*[A-Za-z0-9+/]{60,}={0,2}[ \t]*(?:\n|$)){2,}")

TARGETED: list[tuple[str, re.Pattern[str]]] = [
    ("anthropic_key", re.compile(r"\bsk-ant-[A-Za-z0-9_-]{20,}")),
    ("openai_key", re.compile(r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}")),
    ("api_key", re.compile(r"\bsk-[A-Za-z0-9]{32,}")),
    ("github_token", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,}")),
    ("github_token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}")),
    ("google_api_key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("huggingface_token", re.compile(r"\bhf_[A-Za-z0-9]{30,}")),
    ("slack_token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("aws_secret_key", re.compile(
        r"(?i)aws_?secret_?(?:access_?)?key['\"]?\s*[:=]\s*['\"]?(?P<s>[A-Za-z0-9/+=]{40})")),
    ("bearer_token", re.compile(r"(?i)\bbearer\s+(?P<s>[A-Za-z0-9._~+/=-]{12,})")),
    ("basic_auth", re.compile(r"(?i)\bauthorization:\s*basic\s+(?P<s>[A-Za-z0-9+/=]{8,})")),
    ("url_password", re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@'\"]+:(?P<s>[^\s@/'\"]+)@")),
    ("password", re.compile(
        r"(?i)(?<![\w-])--?(?:password|passwd|pass|token|api[-_]?key|secret|access[-_]?key|auth[-_]?token)"
        r"(?:=|\s+)(?P<q>['\"]?)(?P<s>[^\s'\"]{4,})(?P=q)")),
    ("env_secret", re.compile(
        r"(?m)(?:^|[\s;&|(])(?:export\s+|set\s+|setenv\s+)?"
        r"(?P<name>[A-Z0-9_]*(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASS|PWD|CREDENTIALS?|AUTH|APIKEY)[A-Z0-9_]*)"
        r"[ \t]*[=:][ \t]*(?P<q>['\"]?)(?P<s>[^\s'\"]{4,})(?P=q)")),
]
# ``API_KEY = os.environ["X"]``, ``TOKEN=SECRET_CONSTANT``: references, not values.
_CODE_REFERENCE = re.compile(r"^(?:[A-Z][A-Z0-9_]*$|[A-Za-z_][\w.]*[(\[]|\$|%\(|\{)")
_NOT_SECRET_NAMES = {"PWD", "OLDPWD", "KEYMAP", "KEYTIMEOUT", "GPG_TTY", "SSH_AUTH_SOCK", "PASS"}

# Bare tokens: long, mixed-class, high entropy. Hex digests (git SHAs) are excluded on purpose
# (they are everywhere in terminal output and are not secrets): a mix of cases is required.
_BARE_TOKEN = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{24,}={0,2}(?![A-Za-z0-9+/_=-])")
_INTEGRITY_PREFIX = re.compile(r"(?:sha1|sha256|sha384|sha512)-$")

# A line ending with a keyword (and maybe "=" or ":"): a pattern such as "Bearer\s+token" or
# "--password\s+x" could continue on the next line, so such a text is scanned whole.
_CROSS_LINE = re.compile(
    r"(?i)(?:bearer|basic|key|pass(?:wd|word)?|pwd|token|secret|authorization:)['\"]?[ \t]*[:=]?[ \t]*\r?\Z")
_ENDS_WITH_KEYWORD, _B64_LINE = 1, 2
# One row of _B64_BLOCK: two such rows in a row may be a key body.
_B64_ROW = re.compile(r"[ \t]*[A-Za-z0-9+/]{60,}={0,2}[ \t]*\Z")

_HEAD_KEYS = re.compile(
    r"(?i)(?:api_?key|auth_?key|service_?key|account_?key|db_?key|database_?key|priv_?key|private_?key|"
    r"client_?key|db_?pass|database_?pass|key_?pass|password|passwd|pwd|secret|contraseña|contrasena)")


def shannon_entropy(data: str) -> float:
    if not data:
        return 0.0
    counts: dict[str, int] = {}
    for ch in data:
        counts[ch] = counts.get(ch, 0) + 1
    n = len(data)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _slug(secret_type: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", secret_type.lower()).strip("_")


@lru_cache(maxsize=1)
def _plugins() -> tuple[list[tuple[str, Any]], Any, dict[str, Any]]:
    """detect-secrets' regex plugins (minus public-IP), its keyword plugin and its heuristics."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.filters import heuristic
    from detect_secrets.plugins.base import RegexBasedDetector
    from detect_secrets.plugins.keyword import KeywordDetector

    regex_plugins = []
    for secret_type, cls in get_mapping_from_secret_type_to_class().items():
        if issubclass(cls, RegexBasedDetector) and cls.__name__ != "IPPublicDetector":
            regex_plugins.append((_slug(secret_type), cls()))
    return regex_plugins, KeywordDetector(), {
        "sequential": heuristic.is_sequential_string,
        "uuid": heuristic.is_potential_uuid,
        "templated": heuristic.is_templated_secret,
        "dollar": heuristic.is_prefixed_with_dollar_sign,
        "indirect": heuristic.is_indirect_reference,
    }


@lru_cache(maxsize=4096)
def _keyword_groups(filename: str | None) -> tuple[dict, ...]:
    from detect_secrets.plugins import keyword as kw
    from detect_secrets.util.filetype import determine_file_type

    groups = [kw.QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP, kw.CONFIG_DENYLIST_REGEX_TO_GROUP]
    if filename:
        specific = kw.REGEX_BY_FILETYPE.get(determine_file_type(filename))
        if specific is not None and specific not in groups:
            groups.insert(0, specific)
    return tuple(groups)


def _plausible_value(value: str, line: str, heur: dict[str, Any]) -> bool:
    if len(value) < 4 or not value.strip():
        return False
    if heur["templated"](value) or heur["dollar"](value) or heur["sequential"](value) or heur["uuid"](value):
        return False
    if value.lower() in {"none", "null", "true", "false", "undefined", "changeme", "password", "secret",
                         "string", "str", "self", "required", "optional", "env", "input"}:
        return False
    return True


def _occurrences(text: str, value: str, lo: int = 0, hi: int | None = None) -> list[tuple[int, int]]:
    out = []
    hi = len(text) if hi is None else hi
    pos = text.find(value, lo, hi)
    while pos >= 0:
        out.append((pos, pos + len(value)))
        pos = text.find(value, pos + len(value), hi)
    return out


def _is_bare_token_secret(token: str) -> bool:
    if len(token) < 24 or "://" in token:
        return False
    has_lower = any(c.islower() for c in token)
    has_upper = any(c.isupper() for c in token)
    digits = sum(c.isdigit() for c in token)
    if not (has_lower and has_upper and digits >= 2):
        return False
    if token.count("/") >= 3 or token.count("_") > len(token) // 6 or token.count("-") > len(token) // 8:
        return False  # paths, snake_case and kebab-case identifiers
    return shannon_entropy(token) >= 4.0


class SecretFinder:
    """Finds secret spans in a text; ``filename`` selects detect-secrets' per-language rules."""

    def __init__(self, *, bare_tokens: bool = True, entropy_b64: float = 4.5, entropy_hex: float = 3.0) -> None:
        self.bare_tokens = bare_tokens
        self.entropy_b64 = entropy_b64
        self.entropy_hex = entropy_hex
        self._quoted_b64 = re.compile(r"(['\"])([A-Za-z0-9+/=_-]{16,})\1")
        self._quoted_hex = re.compile(r"(['\"])([0-9a-fA-F]{16,})\1")
        # (line, filename) -> _scan result; cleared when full (plain dict ops: thread-safe)
        self._line_cache: dict[tuple[str, str | None], tuple[tuple, tuple, int]] = {}
        self._cached_chars = 0

    def find(self, text: str, filename: str | None = None) -> list[Finding]:
        """Secret spans in ``text``.

        Most texts are scanned line by line with a cache of per-line results, because the
        same lines come back again and again (a viewport after each key, a terminal screen
        10 times a second, a scrolled view). That gives the same findings as scanning the
        whole text because every detector but three is line-local: the multi-line ones (PEM
        and PuTTY blocks, key bodies) run on the whole text when a line could start one,
        values found by detect-secrets plugins are looked up in the whole text, and a text
        where a keyword ends a line (a pattern such as ``Bearer\\s+token`` could continue
        on the next line) is scanned whole.
        """
        if len(text) < MIN_SECRET_LEN:
            return []
        if "-----BEGIN" in text or "PuTTY-User-Key-File-" in text:
            return self._find_whole(text, filename)
        found: list[Finding] = []
        values: set[tuple[str, str]] = set()
        cache = self._line_cache
        pos = 0
        previous_b64 = False
        block = False
        for line in text.split("\n") if "\n" in text else (text,):
            if len(line) >= MIN_SECRET_LEN:
                key = (line, filename)
                hit = cache.get(key)
                if hit is None:
                    if len(line) > MAX_CACHED_LINE:
                        return self._find_whole(text, filename)
                    hit = self._scan_line(line, filename)
                    self._cached_chars += len(line)
                    if len(cache) >= LINE_CACHE_SIZE or self._cached_chars > LINE_CACHE_CHARS:
                        cache.clear()
                        self._cached_chars = len(line)
                    cache[key] = hit
                spans, line_values, flags = hit
                if flags & _ENDS_WITH_KEYWORD and pos + len(line) < len(text):
                    return self._find_whole(text, filename)
                if flags & _B64_LINE:
                    block = block or previous_b64
                    previous_b64 = True
                else:
                    previous_b64 = False
                if spans:
                    found.extend(Finding(pos + s, pos + e, k) for s, e, k in spans)
                if line_values:
                    values.update(line_values)
            else:
                previous_b64 = False
            pos += len(line) + 1
        if block:
            found.extend(Finding(m.start(), m.end(), "key_material") for m in _B64_BLOCK.finditer(text))
        for kind, value in values:
            found.extend(Finding(s, e, kind) for s, e in _occurrences(text, value))
        return _merge(found)

    def _find_whole(self, text: str, filename: str | None) -> list[Finding]:
        """The reference algorithm: every detector over the whole text."""
        found: list[Finding] = []
        for kind, rx in ((("private_key", _PEM), ("private_key", _PUTTY), ("key_material", _B64_BLOCK))):
            for m in rx.finditer(text):
                found.append(Finding(m.start(), m.end(), kind))
        spans, values = self._scan(text, filename)
        found.extend(Finding(s, e, k) for s, e, k in spans)
        for kind, value in values:
            found.extend(Finding(s, e, kind) for s, e in _occurrences(text, value))
        return _merge(found)

    def _scan_line(self, line: str, filename: str | None) -> tuple[tuple, tuple, int]:
        spans, values = self._scan(line, filename)
        flags = 0
        tail = line.rstrip()
        if _CROSS_LINE.search(tail, max(0, len(tail) - 64)) is not None:
            flags |= _ENDS_WITH_KEYWORD
        if _B64_ROW.match(line) is not None:
            flags |= _B64_LINE
        return spans, values, flags

    def _scan(self, text: str, filename: str | None) -> tuple[tuple[tuple[int, int, str], ...],
                                                              tuple[tuple[str, str], ...]]:
        """The line-local detectors on ``text``: (spans, detect-secrets plugin values)."""
        found: list[Finding] = []
        for kind, rx in TARGETED:
            for m in rx.finditer(text):
                if "s" in rx.groupindex:
                    if kind == "env_secret" and m.group("name").upper() in _NOT_SECRET_NAMES:
                        continue
                    value = m.group("s")
                    if kind in ("env_secret", "password") and not _plausible_value(value, "", _plugins()[2]):
                        continue
                    if kind == "env_secret" and _CODE_REFERENCE.match(value):
                        continue
                    found.append(Finding(m.start("s"), m.end("s"), kind))
                else:
                    found.append(Finding(m.start(), m.end(), kind))
        regex_plugins, keyword, heur = _plugins()
        values = []
        for kind, plugin in regex_plugins:
            if kind == "private_key":
                continue  # the PEM pattern covers whole blocks, not just the header
            for value in set(plugin.analyze_string(text)):
                if len(value) >= MIN_SECRET_LEN:
                    values.append((kind, value))
        self._keyword(text, filename, keyword, heur, found)
        self._entropy(text, heur, found)
        return tuple((f.start, f.end, f.kind) for f in found), tuple(values)

    def _keyword(self, text: str, filename: str | None, keyword: Any, heur: dict[str, Any],
                 found: list[Finding]) -> None:
        groups = _keyword_groups(filename)
        seen_lines: set[int] = set()
        for m in _HEAD_KEYS.finditer(text):
            lo = text.rfind("\n", 0, m.start()) + 1
            if lo in seen_lines:
                continue
            seen_lines.add(lo)
            hi = text.find("\n", m.end())
            hi = len(text) if hi < 0 else hi
            line = text[lo:hi]
            if len(line) > 2000 or heur["indirect"](line):
                continue
            for group in groups:
                values = [v for v in keyword.analyze_string(line, denylist_regex_to_group=group) if v]
                values = [v for v in values if _plausible_value(v, line, heur)]
                for v in values:
                    found.extend(Finding(s, e, "keyword_secret") for s, e in _occurrences(text, v, lo, hi))
                if values:
                    break

    def _entropy(self, text: str, heur: dict[str, Any], found: list[Finding]) -> None:
        for m in self._quoted_b64.finditer(text):
            value = m.group(2)
            if (shannon_entropy(value) > self.entropy_b64 and not heur["sequential"](value)
                    and not heur["uuid"](value)):
                found.append(Finding(m.start(2), m.end(2), "high_entropy_string"))
        for m in self._quoted_hex.finditer(text):
            value = m.group(2)
            if len(value) in (32, 40, 64):
                continue  # md5/sha1/sha256 digests: checksums and commit ids, not credentials
            if shannon_entropy(value) > self.entropy_hex and not heur["uuid"](value):
                found.append(Finding(m.start(2), m.end(2), "high_entropy_string"))
        if self.bare_tokens:
            for m in _BARE_TOKEN.finditer(text):
                if _INTEGRITY_PREFIX.search(text, max(0, m.start() - 8), m.start()):
                    continue
                if _is_bare_token_secret(m.group()):
                    found.append(Finding(m.start(), m.end(), "high_entropy_string"))


GENERIC_KINDS = frozenset({"high_entropy_string", "keyword_secret", "env_secret", "password",
                           "base64_high_entropy_string", "hex_high_entropy_string", "key_material"})


def _merge(found: list[Finding]) -> list[Finding]:
    """Sort and merge overlapping spans; a specific kind (aws_access_key) beats a generic one."""
    if not found:
        return []
    found = sorted(found, key=lambda f: (f.start, -(f.end - f.start)))
    merged = [found[0]]
    for f in found[1:]:
        last = merged[-1]
        if f.start < last.end:
            kind = f.kind if last.kind in GENERIC_KINDS and f.kind not in GENERIC_KINDS else last.kind
            merged[-1] = Finding(last.start, max(last.end, f.end), kind)
        else:
            merged.append(f)
    return merged
