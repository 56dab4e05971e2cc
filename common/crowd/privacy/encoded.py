"""Base64-encoded secrets: candidates by the encoded form of a secret's start, then decoded.

WHY: a token in a Kubernetes ``Secret``, a ``.dockerconfigjson``, a ``Basic`` header or an
``echo ... | base64`` is invisible to every rule that reads plain text. Decoding every long
base64 run would cost a decode per identifier; instead the matcher looks for the base64
form of what starts a secret (``ghp_``, ``sk-ant-``, ``AKIA``, ``-----BEGIN``, ``password``,
``"auth"``...) at each of the three byte alignments, and only a run that holds one is
decoded and scanned by the whole detector. A finding in the decoded text makes the whole
run a secret (``base64_<kind>``).
"""
from __future__ import annotations

import base64
import binascii
import re

from crowd.privacy.rules import Rule

# What starts a secret (or a credential document) in plain text.
SEEDS = (
    "ghp_", "gho_", "ghs_", "ghu_", "github_pat_", "glpat-", "sk-ant-", "sk-proj-", "sk_live_", "rk_live_",
    "AKIA", "ASIA", "xoxb-", "xoxp-", "xapp-", "AIza", "hf_", "npm_", "pypi-", "SG.", "hvs.", "dckr_pat_",
    "-----BEGIN", "password", "Password", "PASSWORD", "passwd", "secret", "Secret", "SECRET", "token", "Token",
    "TOKEN", "api_key", "apiKey", "API_KEY", '"auth"', "://",
)


def encoded_forms(seed: str) -> list[str]:
    """The base64 text that ``seed`` always encodes to, at byte offsets 0, 1 and 2."""
    out = []
    raw = seed.encode()
    for pad in range(3):
        full = base64.b64encode(b"\0" * pad + raw).decode()
        start = (pad * 8 + 5) // 6
        end = ((pad + len(raw)) * 8) // 6
        form = full[start:end]
        if len(form) >= 4:
            out.append(form)
    return out


def _hs_literal(text: str) -> str:
    return "".join("\\" + ch if ch in "+/.-" else ch for ch in text)


_FORMS = sorted({f for seed in SEEDS for f in encoded_forms(seed)})
_RUN = r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{12,}(?:\r?\n[A-Za-z0-9+/_-]{12,})*={0,2}"

ENCODED = Rule("base64_secret", _RUN, hs="(?:" + "|".join(_hs_literal(f) for f in _FORMS) + ")",
               multiline=True, before=8192, after=8192)


def decode_run(run: str) -> str | None:
    """The text a base64 (or base64url) run decodes to, when it is mostly printable."""
    compact = "".join(run.split())
    for alt in (None, b"-_"):
        body = compact.rstrip("=")
        body += "=" * (-len(body) % 4)
        try:
            raw = base64.b64decode(body, altchars=alt, validate=True)
        except (binascii.Error, ValueError):
            continue
        text = raw.decode("utf-8", errors="replace")
        printable = sum((ch.isprintable() and ch != "\ufffd") or ch in "\n\r\t" for ch in text)
        if text and printable >= 0.85 * len(text):
            return text
    return None


def contains_form(run: str) -> bool:
    return any(f in run for f in _FORMS)


__all__ = ["ENCODED", "SEEDS", "contains_form", "decode_run", "encoded_forms", "re"]
