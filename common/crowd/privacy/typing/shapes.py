"""Which typed tokens could be a secret *by shape*, judged one key at a time.

Holding keystrokes costs durability (held events are not on disk yet; a kill -9 loses them)
and latency, so only tokens that could be a secret by shape are held (``shape_of``):
- after a secret keyword on the same line (``password``, ``token``, ``key``, ``auth``,
  ``secret``, ``Bearer``, ``://`` ...) or in the token itself (``GH_TOKEN=...``);
- once the token starts with a known credential prefix (``sk-``, ``ghp_``, ``AKIA``,
  ``xox``, ``-----BEGIN`` ...);
- once the token mixes character classes (letters and digits, or an inner capital), as
  every generated key does.
Ordinary words (lowercase, snake_case, capitalised, no digits) are never held. These checks
run on every key, so they are plain string tests and three precompiled regexes.
"""
from __future__ import annotations

import re

BOUNDARY = frozenset(" \t\r\n\"'`,;()[]{}<>|&")
BACKSPACE = frozenset({"\x7f", "\x08"})
# Inside a token these start a new "tail" (the part a credential prefix or class mix is
# judged on): ``GH_TOKEN=ghp_...``, ``https://user:pw@host``.
TAIL_SEPARATORS = frozenset("=:@/")

FREE, FIRM = 0, 1

# Well-known credential prefixes (public parts of the formats detect.py recognises).
KNOWN_PREFIXES: tuple[str, ...] = (
    "sk-", "sk_live_", "sk_test_", "rk_live_", "pk_live_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_",
    "github_pat_", "glpat-", "AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIza", "xox", "hf_", "npm_",
    "pypi-", "SG.", "eyJ", "-----BEGIN", "PuTTY-User-Key", "dop_v1_", "shpat_", "sq0atp-", "key-",
    # the other formats of crowd.privacy.rules (issue 16)
    "gldt-", "glrt-", "glptt-", "glcbt-", "glft-", "glsoat-", "whsec_", "xapp-", "hvs.", "hvb.", "dckr_pat_",
    "lin_api_", "figd_", "glsa_", "glc_", "NRAK-", "sntrys_", "AGE-SECRET-KEY-", "r8_", "gsk_", "pplx-", "xai-",
    "dapi", "pul-", "dp.pt.", "GOCSPX-", "ya29.", "LTAI", "ATATT3", "ATBB", "ntn_", "rubygems_", "pscale_",
    "fo1_", "sbp_", "api_org_", "PMAK-", "dt0c01.", "CLOJARS_",
)
# Words after which a value on the same line can be recognised as a secret by its context
# alone (detect.py's keyword, assignment, flag, header and URL detectors key on them).
SECRET_CONTEXT = re.compile(r"(?i)pass|pwd|secret|token|key|auth|cred|bearer|contrase|salt|pepper|signing|"
                            r"hmac|cookie|dsn|sig=|://|-u\s")

_DIGIT = re.compile(r"\d")
_LETTER = re.compile(r"[^\W\d_]")
_NOT_LETTER = re.compile(r"[\W\d_]+")


def shape_of(tail: str) -> int:
    """FIRM when ``tail`` starts with a known prefix or mixes character classes as generated
    keys do (letters and digits, or a capital after the first letter next to lowercase ones);
    FREE otherwise: ordinary words (``value``, ``Hello``, ``MAX_SIZE``, ``snake_case``) and
    numbers."""
    if not tail:
        return FREE
    if tail.startswith(KNOWN_PREFIXES):
        return FIRM
    if tail.isalpha():
        letters = tail
    else:
        if _DIGIT.search(tail) is not None:
            return FIRM if _LETTER.search(tail) is not None else FREE
        letters = _NOT_LETTER.sub("", tail)
    rest = letters[1:]
    return FIRM if rest and not rest.islower() and not letters.isupper() else FREE


def tail_start(text: str) -> int:
    """Where the part of ``text`` after its last tail separator begins."""
    for i in range(len(text) - 1, -1, -1):
        if text[i] in TAIL_SEPARATORS:
            return i + 1
    return 0
