"""Shape and entropy checks: is this candidate value a credential or ordinary code?

WHY: the matcher (matcher.py) only says where a keyword assignment or a long token is;
most of those in real code are not secrets (``token = self.next()``, ``key="name"``,
``password: str``, ``max_tokens = 16``). These checks run on candidates only, after the
prefilter, so they may be written plainly in Python: on the project's virtualenv (real code
without secrets) they leave under one false positive per 10 MB (``python -m bench privacy``).

Names are judged by their segments (``twilio_auth_token`` -> twilio, auth, token;
``accessToken`` -> access, token), never by substring, so ``tokenizer``, ``max_tokens``,
``keyboard`` and ``passthrough`` are not secret names; a name whose last segment says it
holds something else (``token_type``, ``password_field``, ``key_id``, ``secret_name``) is
not one either.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

# Segments that make a name hold a secret. "strong": any plausible value is one (passwords
# may be words); "weak": the value must also look random (a key may be a dict key).
STRONG_SEGMENTS = frozenset({
    "password", "passwd", "pwd", "pass", "passphrase", "secret", "secrets", "salt", "pepper",
    "credential", "credentials", "creds", "apikey", "apisecret", "passcode", "pin",
})
WEAK_SEGMENTS = frozenset({
    "token", "key", "auth", "privatekey", "accesskey", "secretkey",
    "authtoken", "accesstoken", "refreshtoken", "apitoken", "dsn", "hmac", "bearer", "cookie",
    "jwt", "licensekey", "webhook", "conn", "connstr", "connectionstring",
})
# A last segment that says the name holds something other than the secret itself.
NOT_SECRET_LAST = frozenset({
    "type", "types", "id", "ids", "name", "names", "url", "uri", "file", "files", "path", "paths",
    "len", "length", "size", "count", "field", "fields", "prefix", "suffix", "env", "var", "header",
    "headers", "param", "params", "regex", "re", "pattern", "label", "hint", "prompt", "policy",
    "format", "mode", "class", "kind", "index", "idx", "list", "map", "set", "dir", "endpoint",
    "expiry", "expires", "expiration", "ttl", "timeout", "error", "errors", "msg", "message",
    "help", "description", "desc", "placeholder", "validator", "required", "enabled", "disabled",
    "min", "max", "chars", "char", "location", "source", "provider", "manager", "store", "cache",
    "func", "fn", "callback", "handler", "factory", "method", "methods", "attr", "attribute",
    "column", "col", "table", "option", "options", "arg", "args", "keys", "hash", "hashed",
    "digest", "algorithm", "algo", "version", "scheme", "style", "usage", "valid", "invalid",
    "changed", "reset", "strength", "policy", "rules", "input", "widget", "form", "button",
    "text", "value_type", "encoder", "decoder", "parser", "builder", "loader", "reader", "writer",
    "filename", "dirname", "mask", "state", "status", "count", "number", "num", "str", "bytes",
    "location", "range", "start", "end", "pos", "offset", "counter", "limit", "lifetime", "age",
    "vars", "var", "variable", "variables", "request", "response", "result", "results", "props",
})
_SEGMENT = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")

PLACEHOLDERS = frozenset({
    "none", "null", "nil", "true", "false", "undefined", "changeme", "change_me", "password", "passwd",
    "secret", "token", "string", "str", "self", "required", "optional", "env", "input", "example",
    "test", "testing", "dummy", "default", "redacted", "hidden", "empty", "unset", "missing",
    "xxx", "xxxx", "todo", "fixme", "placeholder", "your_password", "yourpassword", "mypassword",
    "your_token", "your_api_key", "api_key", "apikey", "key", "value", "bytes", "int", "bool",
    "dict", "list", "any", "object", "number", "text", "secret_key", "access_token", "auth_token",
    "pass", "pwd", "admin", "root", "user", "username", "foo", "bar", "baz", "abc", "sample",
    "include", "omit", "same-origin", "private", "public", "secure", "insecure", "credentials",
    "password1", "passwords", "getpass", "optional", "required",
})
_REFERENCE = re.compile(
    r"^(?:[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*(?:\(|\[|$)|[$%@]\{|\$\(|\$[A-Za-z_]|%\(|\{\{|#\{|<%|\{[A-Za-z_0-9]*\}|%s|&)")
_HEXRUN = re.compile(r"[0-9a-fA-F]+")
_NUMBER = re.compile(r"0[xXoObB][0-9a-fA-F_]+|[-+]?\d[\d_]*(?:\.\d+)?(?:[eE][-+]?\d+)?")
_ACCESS = re.compile(r"[A-Za-z_$][\w$]*\??\.[A-Za-z_$]")     # t.tokens.length-1, options?.xml.key


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    if not text:
        return 0.0
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


def looks_random(value: str) -> bool:
    """A generated credential: letters and digits mixed, no long words, high entropy."""
    if len(value) < 8:
        return False
    lower = upper = digits = 0
    for ch in value:
        if ch.islower():
            lower += 1
        elif ch.isupper():
            upper += 1
        elif ch.isdigit():
            digits += 1
    classes = (lower > 0) + (upper > 0) + (digits > 0)
    if classes < 2 or (digits == 0 and (lower < 2 or upper < 2)):
        return False
    if _HEXRUN.fullmatch(value):
        return len(value) >= 16 and digits >= 2 and entropy(value) >= 3.0
    return entropy(value) >= min(2.8 + len(value) / 40, 3.5) and not _wordy(value)


def _wordy(value: str) -> bool:
    """camelCase/snake_case identifiers made of words (``ExportGraphSignature``), not random
    text: most characters in capitalised or lowercase runs of 4+ letters that read like words
    (a quarter to 60% vowels). Random 20-character keys stay well under (about 1 in 70 has
    0.6 by chance, which is why the bar is above it)."""
    worded = sum(len(w) for w in _WORD.findall(value) if _vowelly(w))
    return worded > 0.65 * len(value)


_WORD = re.compile(r"[A-Z]?[a-z]{3,}")


def _vowelly(word: str) -> bool:
    vowels = sum(ch in "aeiouAEIOU" for ch in word)
    return 0.25 <= vowels / len(word) <= 0.6


@lru_cache(maxsize=8192)
def name_strength(name: str) -> int:
    """2: a name that holds a secret even if the value is a word (``db_password``); 1: one that
    holds a secret if the value looks random (``api_token``, ``key``); 0: not a secret name."""
    parts = [p.lower() for p in _SEGMENT.findall(name)]
    if not parts:
        return 0
    joined = [a + b for a, b in zip(parts, parts[1:])]
    last = parts[-1]
    if last in NOT_SECRET_LAST:
        return 0
    if last == "key" and len(parts) > 1 and parts[-2] in ("primary", "foreign", "sort", "cache", "dict", "map",
                                                          "lookup", "hot", "row", "partition", "group", "unique",
                                                          "public", "pub", "index", "shortcut", "keyboard", "env",
                                                          "config", "settings", "registry", "translation", "i18n"):
        return 0
    if any(p in STRONG_SEGMENTS for p in parts) or any(j in STRONG_SEGMENTS for j in joined):
        if not (set(parts[-2:]) & STRONG_SEGMENTS or set(joined[-2:]) & STRONG_SEGMENTS):
            return 1          # the secret word is not what the name ends on (CredentialMediationRequirement)
        if parts[0] in ("is", "has", "use", "check", "verify", "validate", "get", "set", "new", "old",
                        "show", "hide", "confirm", "forgot", "reset", "min", "max", "num"):
            return 0
        return 2
    if any(p in WEAK_SEGMENTS for p in parts) or any(j in WEAK_SEGMENTS for j in joined):
        return 1
    return 0


def camel_words(value: str) -> bool:
    """Most letters in lowercase runs of 3+ that read like words (a quarter vowels or more:
    ``StartRequestV2``, ``FrozenBatchNorm2d``): a CamelCase name. Random keys rarely reach it
    (``MA0yegcwIpnjch3WXniM`` has long runs, but without vowels)."""
    return sum(len(run) for run in _LOWER_RUN.findall(value) if _vowels(run) >= 0.25) >= 0.45 * len(value)


def _vowels(word: str) -> float:
    return sum(ch in "aeiouAEIOU" for ch in word) / len(word)


_LOWER_RUN = re.compile(r"[a-z]{3,}")


def same_words(name: str, value: str) -> bool:
    """An enum-like constant: the value spells the name (``PASSWORD_BANNED = "passwordBanned"``)."""
    squash = lambda text: re.sub(r"[^a-z0-9]", "", text.lower())  # noqa: E731
    return squash(name) == squash(value)


def plausible_value(value: str, strength: int, *, quoted: bool) -> bool:
    """Whether ``value`` assigned to a name of ``strength`` (name_strength) is a secret."""
    if len(value) < (6 if strength >= 2 else 8) or len(value) > 1000:
        return False
    if any(ch.isspace() for ch in value) or value.startswith("[REDACTED:"):
        return False
    low = value.lower()
    if low in PLACEHOLDERS or low.strip("*x.-_<>#") == "" or len(set(value)) <= 2:
        return False
    if value[0] == "<" and value[-1] == ">" or "your" in low and ("here" in low or "_" in low or "-" in low):
        return False
    if "://" in value or (value.count("/") >= 2 and not looks_random(value.replace("/", ""))):
        return False
    if not quoted and _NUMBER.fullmatch(value):
        return False                 # a number literal (0x0B95, 1e-6); a quoted "48213791" may be a PIN
    if "..." in value or "\u2026" in value:
        return False                 # an elided example: "hf_..."
    if not quoted and strength >= 2 and value.isalpha() and value.islower() and len(value) >= 8:
        quoted = True                # password: correcthorse (YAML, .properties): a word, not a variable
    if not quoted and (_REFERENCE.match(value) or _ACCESS.match(value)):
        return value[-1] not in "([" and "." not in value and any(ch.isdigit() for ch in value) \
            and looks_random(value) and not camel_words(value)
    if not quoted and strength < 2 and not any(ch.isdigit() for ch in value):
        return False                 # an unquoted word under a token name: code (Get-AzAccessToken)
    if quoted and ("{" in value or "%s" in value or "%(" in value):
        return False                 # a template: "{token}", "%s", "${X}"
    if strength >= 2:
        if re.fullmatch(r"[a-z]+(?:[_.:-][a-z]+)+", value):   # snake/kebab words, module paths
            return False
        if re.fullmatch(r"[A-Z]+(?:_[A-Z0-9]+)+", value):     # the name of an environment variable
            return False
        return True
    return looks_random(value)
