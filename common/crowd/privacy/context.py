"""Secrets known by their context, not their prefix: assignments, URLs, headers, flags, key blocks.

WHY these shapes: the leaks found with planted secrets (issue 16) were all of this kind:
lowercase keyword assignments in every language (``api_token = "..."``, ``token: ...``,
``const token = "..."``, ``"db_password":"..."`` inside a 2,000+ character line), salts
without a keyword we knew (``APP_SIGNING_SALT=``), ``redis://:pw@host`` with an empty user,
PHP ``define('AUTH_KEY', '...')``. Each rule's Hyperscan expression finds the assignment
operator after a keyword and the first character of the value, so code without a candidate
costs one pass of the matcher; the Python regex and the judge (checks.py) then read the name
and the value and decide.
"""
from __future__ import annotations

import re

from crowd.privacy.checks import (PLACEHOLDERS, camel_words, entropy, looks_random, name_strength,
                                  plausible_value, same_words)
from crowd.privacy.encoded import decode_run
from crowd.privacy.rules import Rule

KEYWORD_HS = (r"(?:pass|pwd|secret|salt|pepper|cred|token|key|auth|sig|dsn|hmac|bearer|cookie|jwt|"
              r"webhook|conn|pin)")

# name [quote] [bracket] op [string prefix] [quote] value
_ASSIGN = re.compile(
    r"(?<![A-Za-z0-9_$@.-])(?P<name>[A-Za-z_$@][A-Za-z0-9_.$@-]{0,80})\\?['\"`]?\]?[ \t]{0,4}"
    r"(?P<op>:=|=>|\?=|\+=|==|=|:)[ \t]{0,4}(?:[rbuf]?(?P<q>\\?['\"`]))?"
    r"(?(q)(?P<qs>[^'\"`\n\\]{1,400})(?P=q)|(?P<us>[^\s'\"`,;&<>(){}\[\]\\|]{1,400}))")


def _judge_assign(m: re.Match[str]) -> tuple[int, int] | None:
    strength = name_strength(m.group("name"))
    if not strength:
        return None
    group = "qs" if m.group("q") is not None else "us"
    value = m.group(group)
    if group == "us" and m.string[m.end("us"):m.end("us") + 1] in ("(", ".", "["):
        return None                  # a call or an attribute: code, not a value
    # NAME=value with no spaces (dotenv, shell, docker -e): an unquoted value is a literal
    # there, not a reference as in code (unless it is a $VAR or an UPPER_CASE constant)
    literal = group == "qs" or (m.group("op") == "=" and m.group("name").isupper()
                                and m.end("name") + 1 == m.start(group) and not value.isupper())
    if same_words(m.group("name"), value) or not plausible_value(value, strength, quoted=literal):
        return None
    return m.start(group), m.end(group)


ASSIGNMENT = Rule(
    "keyword_secret", _ASSIGN.pattern, caseless=True, judge=_judge_assign, before=200, after=420,
    hs=KEYWORD_HS + r"[A-Za-z0-9_.-]{0,40}\\?['\"`]?\]?[ \t]{0,4}[:=][=>]?[ \t]{0,4}[rbuf]?\\?['\"`]?[^\s'\"`\\]")

_DEFINE = re.compile(r"(?i)\bdefine\(\s*['\"](?P<name>\w+)['\"]\s*,\s*(?P<q>['\"])(?P<s>[^'\"\n]{1,400})(?P=q)")


def _judge_define(m: re.Match[str]) -> tuple[int, int] | None:
    strength = name_strength(m.group("name"))
    if strength and plausible_value(m.group("s"), strength, quoted=True):
        return m.start("s"), m.end("s")
    return None


DEFINE = Rule("keyword_secret", _DEFINE.pattern, judge=_judge_define, caseless=True, before=200, after=420,
              hs=r"define\(\s*['\"][A-Za-z0-9_]*" + KEYWORD_HS + r"[A-Za-z0-9_]*['\"]\s*,")

_XML = re.compile(r"<(?P<name>[A-Za-z_][\w:.-]{0,60})>(?P<s>[^<\s]{1,400})</(?P=name)>")


def _judge_xml(m: re.Match[str]) -> tuple[int, int] | None:
    strength = name_strength(m.group("name").rsplit(":", 1)[-1])
    if strength and plausible_value(m.group("s"), strength, quoted=True):
        return m.start("s"), m.end("s")
    return None


XML = Rule("keyword_secret", _XML.pattern, judge=_judge_xml, before=100, after=480,
           hs=KEYWORD_HS + r"[A-Za-z0-9_:.-]{0,40}>[^<\s]", caseless=True)

_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]{1,20})://(?P<user>[^\s:/@'\"`<>]{0,100}):"
                  r"(?P<s>[^\s@/'\"`<>]{1,200})@(?=[A-Za-z0-9\[._-])")


def _judge_url(m: re.Match[str]) -> tuple[int, int] | None:
    pw = m.group("s")
    if len(pw) < 4 or pw.lower() in PLACEHOLDERS or pw.startswith(("$", "%", "{", "<", "[REDACTED")) or set(pw) <= set("*x."):
        return None
    if pw.isdigit() and "." in m.group("user"):
        return None                         # host:port@ is not a password
    return m.start("s"), m.end("s")


URL_PASSWORD = Rule("url_password", _URL.pattern, judge=_judge_url, before=340, after=4,
                    hs=r"://[^\s:/@'\"`<>]{0,100}:[^\s@/'\"`<>]+@")

_QUERY = re.compile(r"[?&;](?P<name>[A-Za-z0-9_.-]{1,60})=(?P<s>[^\s&#'\"`<>]{1,400})")


def _judge_query(m: re.Match[str]) -> tuple[int, int] | None:
    name = m.group("name")
    value = m.group("s")
    low = name.lower()
    if (low in ("sig", "signature", "token", "key") or low.endswith("-signature")) and len(value) >= 16:
        return m.start("s"), m.end("s")     # signed URLs: hex signatures count
    strength = name_strength(name)
    if not strength:
        return None
    if plausible_value(value, strength, quoted=True):
        return m.start("s"), m.end("s")
    return None


URL_QUERY = Rule("url_secret", _QUERY.pattern, judge=_judge_query, before=100, after=420, caseless=False,
                 hs="")   # read where ASSIGNMENT's expression found a candidate (detect.py)

_FLAG = re.compile(
    r"(?i)(?<![\w-])--?(?:password|passwd|pass|token|api[-_]?key|secret|access[-_]?key|auth[-_]?token|"
    r"client[-_]?secret|private[-_]?key|signing[-_]?key)(?:=|[ \t]+)(?P<q>['\"]?)(?P<s>[^\s'\"]{4,400})(?P=q)")


def _judge_flag(m: re.Match[str]) -> tuple[int, int] | None:
    value = m.group("s")
    if value.startswith("-") or not plausible_value(value, 2, quoted=bool(m.group("q"))):
        return None
    return m.start("s"), m.end("s")


FLAG = Rule("password", _FLAG.pattern, judge=_judge_flag, caseless=True, before=60, after=420,
            hs=r"--?(?:pass|token|api[-_]?key|secret|access[-_]?key|auth[-_]?token|client[-_]?secret|"
               r"private[-_]?key|signing[-_]?key)[a-z]*(?:=|[ \t]+)['\"]?[^\s'\"-]")

_AUTH = re.compile(r"(?i)\bbearer(?:[ \t]+|[ \t]*\r?\n[ \t]*)(?P<s>[A-Za-z0-9._~+/=-]{12,})|"
                   r"(?i:authorization)[\"']?[ \t]*[:=][ \t]*[\"']?basic[ \t]+(?P<b>[A-Za-z0-9+/=]{8,})")


def _judge_auth(m: re.Match[str]) -> tuple[int, int] | None:
    group = "s" if m.group("s") is not None else "b"
    value = m.group(group)
    if group == "s" and not (looks_random(value) or len(value) >= 20 and entropy(value) >= 3.5):
        return None
    return m.start(group), m.end(group)


AUTH_HEADER = Rule("bearer_token", _AUTH.pattern, judge=_judge_auth, caseless=True, multiline=True,
                   before=60, after=600,
                   hs=r"(?:bearer[ \t]*\r?\n?[ \t]*|authorization[\"']?[ \t]*[:=][ \t]*[\"']?basic[ \t]+)"
                      r"[A-Za-z0-9._~+/=-]{8}")

PEM = Rule("private_key",
           r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
           hs=r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----", multiline=True, before=80, after=65536)
PUTTY = Rule("private_key", r"PuTTY-User-Key-File-\d+: *[\w@.-]+[ \t]*\r?\n.*?(?:Private-MAC: *\S+|\Z)",
             hs=r"PuTTY-User-Key-File-\d+:",
             multiline=True, before=40, after=16384)

# A scrolled view can show a key's body without its header: rows of 60+ base64 characters.
_BLOCK = re.compile(r"(?m)(?:^[ \t]*[A-Za-z0-9+/]{60,}={0,2}[ \t]*(?:\r?\n|\Z)){2,}")


def _judge_block(m: re.Match[str]) -> tuple[int, int] | None:
    body = "".join(m.group().split())
    has = (any(c.isdigit() for c in body), any(c.islower() for c in body), any(c.isupper() for c in body))
    if not all(has) or entropy(body) < 5.0:
        return None              # prose, DNA, hex: not a key (the false positive)
    return m.start(), m.end()


KEY_BLOCK = Rule("key_material", _BLOCK.pattern, judge=_judge_block, multiline=True, before=16384, after=16384,
                 hs=r"[A-Za-z0-9+/]{60}[A-Za-z0-9+/]*={0,2}[ \t]*\r?\n[ \t]*[A-Za-z0-9+/]{60}")

# Long tokens with no keyword and no known prefix: judged by shape alone. The matcher gives
# the run's start (leftmost) and the delimiter after it, so no regex runs on them.
_NOT_BEFORE = re.compile(r"(?:sha\d+[-:=]|base64,|integrity=\"|/blob/|/commit/|/tree/|@|[A-Za-z0-9+/_=.-])\Z", re.I)
_TWO_DIGITS = re.compile(r"[0-9][^0-9]*[0-9]")
_SEQUENTIAL = re.compile(r"(?:abcdef|bcdefg|ABCDEF|BCDEFG|012345|123456|qwerty|QWERTY)")
_CLASS_CHANGE = re.compile(r"[a-z](?=[A-Z0-9])|[A-Z](?=[a-z0-9])|[0-9](?=[A-Za-z])")


def judge_token(text: str, start: int, end: int) -> tuple[int, int] | None:
    """``text[start:end]`` (a run of 24+ token characters) is a random credential."""
    tok = text[start:end]
    core = tok.rstrip("=")
    if len(core) > 512 or _TWO_DIGITS.search(core) is None or core.lower() == core or core.upper() == core:
        return None              # hex digests, words, constants: not credentials
    if core.count("/") >= 2 or core.count("_") > len(core) // 6 or core.count("-") > len(core) // 8:
        return None              # paths, snake_case and kebab-case names
    if camel_words(core):
        return None              # CamelCase names: most letters in lowercase runs (words)
    if len(_CLASS_CHANGE.findall(core)) < 0.4 * len(core) or _SEQUENTIAL.search(core):
        return None              # CamelCase names (FiberForceLength2016) change class rarely; random text often
    if entropy(core) < 4.0 or not looks_random(core):
        return None
    if _NOT_BEFORE.search(text, max(0, start - 16), start):
        return None
    if len(core) >= 24 and decode_run(tok) is not None:
        return None              # base64 of text (a JWT header, JSON claims): a key decodes to bytes;
        #                          an encoded secret is the ENCODED rule's (encoded.py)
    return start, end


BARE_TOKEN = Rule("high_entropy_string", r"(?<![A-Za-z0-9+/_=-])[A-Za-z0-9+/_-]{24,512}={0,2}(?![A-Za-z0-9+/_=-])", before=0, after=0, leftmost=True,
                  hs=r"[A-Za-z0-9+/_-]{24}[A-Za-z0-9+/_-]*={0,2}[^A-Za-z0-9+/_=-]")

CONTEXT_RULES: tuple[Rule, ...] = (ASSIGNMENT, DEFINE, XML, URL_PASSWORD, URL_QUERY, FLAG, AUTH_HEADER,
                                   PEM, PUTTY, KEY_BLOCK)
