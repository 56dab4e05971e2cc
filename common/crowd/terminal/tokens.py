"""Control-sequence tokenizer in front of pyte: what each sequence does to the screen.

Every escape sequence is put in one category that says how the fast path may treat it
(see docs/terminal.md, "Exact screens at any speed"):

- ``LOCAL``: changes only screen cells on the cursor's row or the current rendition
  (SGR, EL, ECH, DCH, ICH, horizontal moves). Compatible with a convergence stretch.
- ``STATE``: changes state that is not screen content and does not depend on where the
  cursor is (modes, charsets, SO/SI). Replayed when the bytes around it are skipped.
- ``STATE_MOVE``: like ``STATE`` but also moves the cursor vertically (DECSTBM, DECOM).
- ``MOVE``: changes screen content / cursor only, but not row-locally (CUP, ED, IL, RI...).
- ``BARRIER``: its effect depends on the exact screen or cursor at that moment (DECSC,
  DECRC, HTS, TBC, alternate screen, RIS, REP): the bytes before it are emulated exactly.
- ``SHELL``: shell integration (OSC 133/633/7): handled by us at an exact screen.
- ``TITLE``: OSC 0/2, APC strings (tmux 3.3a titles the pane with them) and the title stack
  (CSI 22/23 t), handled by us (pyte's OSC handling is looser than xterm's, no title stack).
- ``DROP``: does nothing to what is displayed (queries, DCS strings, keypad modes, C1...).

pyte mis-parses some sequences (``CSI > 4;2 m`` becomes bold+underline, DCS payloads are
drawn as text, colon SGR parameters are drawn as text); those are dropped here, so pyte only
ever sees sequences it handles like xterm does.

Malformed CSIs are this module's job too, because pyte raises on them and an exception in
the emulator loses the rest of the batch (and, in ``crowd term``, the recording's end):
extra parameters (``CSI 1;2 A``) are ignored as xterm ignores them, erase modes no terminal
defines (``CSI 4 J``, ``CSI 3 K``) make the sequence a no-op, and every parameter is read
without ``int()`` on its digits (a parameter of 5,000 digits exceeds Python's int-string
limit) and capped at 9999 as pyte's own parser caps it. ``csi_text`` writes the one canonical
form of every CSI fed to pyte, whichever path feeds it.
"""
from __future__ import annotations

import re

LOCAL, STATE, STATE_MOVE, MOVE, BARRIER, SHELL, TITLE, DROP = range(8)
TITLE_PUSH, TITLE_POP = "push", "pop"   # the feed of a TITLE token that is CSI 22/23 t
TITLE_APC = "apc"                        # the feed of a TITLE token that is an APC string

# One token: CSI | OSC | SOS/PM/APC/screen-title (ESC k) strings | DCS | other ESC | controls.
# The string sequences end as tmux 3.3a ends them (measured): an OSC, SOS, PM or APC string
# at BEL/ST, or just before an ESC, CAN or SUB (ESC then starts the next sequence: OSC 8 cut
# short by a CSI still runs the CSI); controls inside are part of the string, so an OSC 52
# with base64 wrapped at 76 columns (CR LF inside) is not drawn. A DCS string ends only at
# ST: an ESC inside it takes the next character with it (tmux passthrough nests ESCs). A
# string may hold CR/LF, so the fast path treats one that does as a row mover (model._scan).
# U+009C is no ST (tmux reads UTF-8, where it is a character). A string that reaches the end
# of the text matches too: the model holds back an unfinished one, so the text fed can end
# there only where it was cut at the next sequence's ESC.
_TOKEN = r"""
  \x1b\[(?P<cp>[0-?]*)(?P<ci>[ -/]*)(?P<cf>[@-~])
 |\x1b\](?P<osc>[^\x07\x18\x1a\x1b]*)(?:\x07|\x1b\\|(?=[\x18\x1a\x1b]|\Z))
 |\x1b(?P<sk>[X^_k])(?P<str>[^\x18\x1a\x1b]*)(?:\x1b\\|(?=[\x18\x1a\x1b]|\Z))
 |\x1bP[0-?]*[ -/]*[@-~][^\x1b]*(?:\x1b[^\\][^\x1b]*)*\x1b\\
 |\x1b(?P<ei>[ -/]*)(?P<ef>[0-OQ-WYZ\\`-jl-~])
 |(?P<c0>[\x00-\x06\x0e-\x1a\x1c-\x1f\x7f-\x9f])
"""
FULL_RE = re.compile(_TOKEN, re.X)
# Where a token that matters for skipped bytes may start: any ESC except plain SGR and EL,
# which dominate colourful bulk output and are handled separately (only the SGRs after the
# last reset matter). A literal-prefixed pattern scans at hundreds of MB/s.
ESC_CANDIDATE_RE = re.compile(r"\x1b(?!\[[0-9;]*[mK])")
SHIFT_RE = re.compile(r"[\x0e\x0f]")
SGR_RE = re.compile(r"\x1b\[([0-9;]*)m")
_RESETTING_SGR = re.compile(r"0*(?:;|$)")
# What an unfinished sequence at the end of the data can look like.
INCOMPLETE_RE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x18\x1a\x1b]*\x1b?|[X^_k][^\x18\x1a\x1b]*\x1b?"
    r"|P(?:[0-?]*[ -/]*(?:[@-~][^\x1b]*(?:\x1b[^\\][^\x1b]*)*\x1b?)?)?|[ -/]*)?\Z")

_LOCAL_CSI = set("KXP@CDG`aZ")     # CSI I (CHT) is not here: tmux 3.3a ignores it
_MOVE_CSI = set("ABEFHfdeJLMST")
_LOCAL_PRIVATE_CSI = set("K")
_MOVE_PRIVATE_CSI = set("J")
ALT_MODES = {"47", "1047", "1049", "1048"}


def sgr_resets(params: str) -> bool:
    """True when this SGR's parameters start with a full reset (state before is irrelevant)."""
    return _RESETTING_SGR.match(params) is not None


_CACHE: dict[str, tuple[int, str]] = {}


def classify(m: re.Match) -> tuple[int, str]:
    """(category, text to feed pyte) for one token match; repeated tokens come from a cache."""
    key = m.group(0)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    result = _classify(m)
    if len(key) <= 32:                 # OSC titles and DCS strings are not worth caching
        if len(_CACHE) > 4096:
            _CACHE.clear()
        _CACHE[key] = result
    return result


def _classify(m: re.Match) -> tuple[int, str]:
    cf = m.group("cf")
    if cf is not None:
        cp, ci = m.group("cp"), m.group("ci")
        if ci:
            return DROP, ""                      # DECSCUSR, DECSTR, ... (no cell change)
        if cp and cp[0] in "<=>":
            return DROP, ""                      # xterm extensions pyte would misread
        if cp[:1] == "?":
            known = cf in "hl" or cf in _LOCAL_PRIVATE_CSI or cf in _MOVE_PRIVATE_CSI
            feed = csi_text(cp, cf) if known else None
            if feed is None:
                return DROP, ""
            if cf in "hl":
                params = feed[3:-1].split(";")
                if any(p in ALT_MODES for p in params):
                    return BARRIER, feed
                if "6" in params:
                    return STATE_MOVE, feed
                return STATE, feed
            if cf in _LOCAL_PRIVATE_CSI:
                return LOCAL, feed
            return MOVE, feed
        if not _plain_params(cp):
            return DROP, ""                      # colon sub-parameters etc.
        if cf == "t":
            return _window_op(cp)
        feed = csi_text(cp, cf)
        if feed is None:
            return DROP, ""                      # an erase/tab-clear mode no terminal defines
        if cf == "m":
            return LOCAL, feed
        if cf in _LOCAL_CSI:
            return LOCAL, feed
        if cf in _MOVE_CSI:
            return MOVE, feed
        if cf in "hl":
            return STATE, feed
        if cf == "r":
            return STATE_MOVE, feed
        if cf == "s" and not cp:
            return BARRIER, "\x1b7"
        if cf == "u" and not cp:
            return BARRIER, "\x1b8"
        if cf in "gb":
            return BARRIER, feed
        return DROP, ""                          # DA, DSR, window ops, ...
    osc = m.group("osc")
    if osc is not None:
        code = osc.split(";", 1)[0]
        if code in ("0", "2"):
            return TITLE, ""
        if code in ("133", "633", "7"):
            return SHELL, ""
        return DROP, ""
    if m.group("sk") == "_":
        return TITLE, TITLE_APC                  # tmux 3.3a sets the title from an APC string
    ef = m.group("ef")
    if ef is not None:
        ei = m.group("ei")
        if not ei:
            if ef in "78cH":
                return BARRIER, m.group(0)
            if ef in "DEM":
                return MOVE, m.group(0)
            return DROP, ""
        if ei in ("(", ")") and ef in "0AB":
            return STATE, m.group(0)
        if ei == "#" and ef == "8":
            return MOVE, m.group(0)
        return DROP, ""
    c0 = m.group("c0")
    if c0 is not None:
        if c0 in "\x0e\x0f":
            return STATE, c0
        return DROP, ""
    return DROP, ""                              # DCS / SOS / PM / APC strings


MAX_PARAM = 9999                 # pyte's parser caps every parameter so; so does csi_text
# How many parameters each CSI final takes (the rest are ignored, as xterm does); finals
# not listed take any number (SGR, modes).
_ARITY = dict.fromkeys("@ABCDEFGIJKLMPSTXZabdeg`", 1) | dict.fromkeys("Hfr", 2)
# Finals whose only parameter selects a mode: any other value makes the sequence a no-op
# (pyte would fail on it). Private (DEC selective) erase knows only 0-2.
_MODES = {"J": frozenset((0, 1, 2, 3)), "K": frozenset((0, 1, 2)), "g": frozenset((0, 3))}
_PRIVATE_MODES = {"J": frozenset((0, 1, 2)), "K": frozenset((0, 1, 2))}


def param_value(digits: str) -> int:
    """One CSI parameter's value, capped at ``MAX_PARAM``, without converting more than a
    handful of digits (``int()`` refuses strings over 4,300 digits)."""
    digits = digits.lstrip("0")
    if len(digits) > len(str(MAX_PARAM)):
        return MAX_PARAM
    return min(int(digits or 0), MAX_PARAM)


def csi_text(cp: str, cf: str) -> str | None:
    """The canonical ``CSI`` for parameters ``cp`` (a leading ``?`` kept) and final ``cf``:
    at most the parameters ``cf`` takes, each capped at ``MAX_PARAM`` (empty ones stay empty:
    they mean the default); None when it selects a mode no terminal defines, or a parameter
    is not a plain number."""
    private = cp.startswith("?")
    body = cp[1:] if private else cp
    params = body.split(";") if body else []
    arity = _ARITY.get(cf)
    if arity is not None:
        params = params[:arity]
    out: list[str] = []
    for p in params:
        if p and not (p.isascii() and p.isdigit()):
            return None
        out.append(str(param_value(p)) if p else "")
    modes = (_PRIVATE_MODES if private else _MODES).get(cf)
    if modes is not None and (param_value(out[0]) if out and out[0] else 0) not in modes:
        return None
    return "\x1b[" + ("?" if private else "") + ";".join(out) + cf


def _window_op(cp: str) -> tuple[int, str]:
    """CSI 22;0 t / 22;2 t push the title, 23;0 t / 23;2 t pop it (tmux 3.3a, measured: a
    missing or other second parameter does nothing); the other window ops are dropped."""
    params = cp.split(";")
    if len(params) >= 2 and params[1] in ("0", "2"):
        if params[0] == "22":
            return TITLE, TITLE_PUSH
        if params[0] == "23":
            return TITLE, TITLE_POP
    return DROP, ""


def _plain_params(cp: str) -> bool:
    return not cp or cp.replace(";", "").isdigit() or cp.strip(";") == ""


def osc_payload(m: re.Match) -> str:
    return m.group("osc") or ""
