"""Secret detection (issue 16): the new detector side by side with the one it replaced.

One run measures both on the same inputs:
- **recall** on the planted corpus (bench/privacy_corpus.py: 600+ secrets of 60+ kinds in
  code, config, terminal rows of several widths, split pastes, 2,000+ character lines, base64,
  header fields), and on its items that issue 16 observed leaking;
- **false positives** on real code without secrets: the ``.py`` files of this project's
  virtualenv minus test folders and test modules (whose fixtures hold fake keys), per 10 MB;
  findings in the editor bridge's ``node_modules`` JS/TS (minified bundles; a few READMEs there
  hold example tokens, so these are findings, not all false); and on text (the virtualenv's ``.md``/``.rst``/``.txt``) and DNA-like lines;
- **MB/s on one core** over that code (``SecretFinder.find`` per file);
- **per keystroke**: ``Redactor.scrub_event`` + ``TypingGuard.push`` on a one-character edit;
- **first snapshot** of a 20,000-file / 69 MB workspace on disk (``SnapshotStore.take`` with
  the session's ``SnapshotScrubber``, until ``flush`` returns). The old detector is timed on
  a 1/20 slice of the same workspace and scaled (it reads about 1 MB/s: the whole would take
  minutes); the table says so. The new detector is timed twice in the same run: with the
  store's packs (one pack file per snapshot) and with one file per blob, the layout before
  packs (``SnapshotStore(packed=False)``), whose 20,000 file creations this disk makes at
  500-6,700/s.

The baseline is bench/privacy_baseline/ (detect.py and redactor.py as they were before
issue 16, detect-secrets based). ``--quick`` uses smaller inputs (fewer MB, 2,000 files).
"""
from __future__ import annotations

import os
import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.table import Table

_TEST_PATH = re.compile(r"(^|/)(tests?|testing|fixtures?|test_data|testdata)(/|$)|(^|/)test_[^/]*$|_test\.py$|"
                        r"conftest\.py$")
SITE = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"


def _redactors() -> dict[str, Any]:
    from bench.privacy_baseline.redactor import Redactor as OldRedactor
    from crowd.privacy import Redactor

    return {"before (detect-secrets)": OldRedactor, "now": Redactor}


NODE_MODULES = Path(__file__).resolve().parent.parent / "editor-bridge" / "node_modules"
_JS_TEST_PATH = re.compile(r"(^|/)(__tests__|spec)(/|$)|\.(test|spec)\.")


def _real_files(suffixes: tuple[str, ...], budget: int, seed: int = 1,
                root: Path = SITE) -> list[tuple[str, str]]:
    files = sorted(p for suffix in suffixes for p in root.rglob(f"*{suffix}"))
    random.Random(seed).shuffle(files)
    out, total = [], 0
    for path in files:
        rel = path.relative_to(root).as_posix()
        if _JS_TEST_PATH.search(rel):
            continue
        if _TEST_PATH.search(rel):
            continue
        try:
            text = path.read_text("utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        out.append((rel, text))
        total += len(text)
        if total >= budget:
            break
    return out


def _dna_and_letters(lines: int, seed: int = 4) -> str:
    rng = random.Random(seed)
    out = []
    for i in range(lines):
        alphabet = "ACGT" if i % 2 else "abcdefghijklmnopqrstuvwxyz"
        out.append("".join(rng.choice(alphabet) for _ in range(rng.randint(60, 90))))
    return "\n".join(out)


def _recall(make: Callable[[], Any]) -> tuple[int, int, int, int, list[str]]:
    from bench.privacy_corpus import corpus, leaked, outputs

    items = corpus()
    missed, observed, observed_missed = [], 0, 0
    for item in items:
        r = make()
        written = outputs(item, r.scrub_event, lambda t, r=r: r.scrub_text(t)[0])
        miss = leaked(item, written)
        observed += item.observed
        if miss:
            missed.append(f"{item.kind}/{item.context}")
            observed_missed += item.observed
    return len(items), len(items) - len(missed), observed, observed - observed_missed, missed


def _scan(make: Callable[[], Any], files: list[tuple[str, str]]) -> tuple[int, float, int]:
    finder = make().finder
    finder.find("warm up: password = 'x8Kq2mZ4vB8nL3w'", "a.py")
    chars, findings = 0, 0
    started = time.process_time()
    for rel, text in files:
        findings += len(finder.find(text, rel))
        chars += len(text)
    return findings, time.process_time() - started, chars


def _keystroke_us(makes: dict[str, Callable[[], Any]], n: int) -> dict[str, float]:
    """Best of eight short runs per redactor, interleaved (the machine is shared: the minimum
    is the cost, the rest is other load)."""
    best = {name: float("inf") for name in makes}
    for _ in range(8):
        for name, make in makes.items():
            best[name] = min(best[name], _keystroke_run(make, n // 8))
    return best


def _keystroke_run(make: Callable[[], Any], n: int) -> float:
    from crowd.privacy.typing import TypingGuard

    redactor = make()
    guard = TypingGuard(redactor)
    events = []
    for i in range(n):
        char = "\n" if i % 60 == 59 else (" " if i % 6 == 5 else "abcdefghij"[i % 10])
        events.append({"seq": i, "t": i, "wall": i, "type": "action", "kind": "edit", "file": "src/app/main.py",
                       "source": "user", "changes": [{"offset": i, "length": 0, "text": char}], "reason": None,
                       "version": i})
    started = time.perf_counter()
    for event in events:
        redactor.scrub_event(event)
        guard.push(event)
    return (time.perf_counter() - started) / n * 1e6


def _per_event_us(finder: Any) -> tuple[float, float]:
    """A viewport of 40 code lines re-scanned after each key, and a 50x120 terminal screen
    (best of five passes)."""
    words = "self value items result index count name data config path error return import def".split()
    rng = random.Random(1)
    lines = [f"    {rng.choice(words)}_{rng.randrange(1000)} = {rng.choice(words)}({rng.choice(words)}, "
             f"{rng.randrange(100)})" for _ in range(40)]
    views = []
    for i in range(200):
        changed = list(lines)
        changed[5] = "    " + " ".join(rng.choice(words) for _ in range(i % 12))
        views.append("\n".join(changed))
    screen = "\n".join(" ".join(rng.choice(words) for _ in range(18))[:120] for _ in range(50))
    finder.find(views[0], "a.py")
    best_view = best_screen = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for view in views:
            finder.find(view, "a.py")
        best_view = min(best_view, (time.perf_counter() - started) / len(views) * 1e6)
        started = time.perf_counter()
        for _ in range(50):
            finder.find(screen)
        best_screen = min(best_screen, (time.perf_counter() - started) / 50 * 1e6)
    return round(best_view, 1), round(best_screen, 1)


def _workspace(root: Path, files: list[tuple[str, str]], count: int, total: int) -> list[str]:
    """``count`` files of ``total`` bytes in all, cut from real code (a few with secrets)."""
    blob = "\n".join(text for _, text in files)
    rng = random.Random(9)
    rels, pos = [], 0
    mean = total // count
    for i in range(count):
        size = max(200, int(rng.expovariate(1 / mean))) if i < count - 1 else max(200, total - pos)
        if pos + size > len(blob):
            pos = 0
        text = blob[pos:pos + size]
        pos += size
        if i % 997 == 0:
            text += f'\nAPI_TOKEN = "{"".join(rng.choice("abcdefghijkLMNOPQ0123456789") for _ in range(32))}"\n'
        rel = f"pkg{i % 40:02d}/mod{i // 40:03d}/file_{i}.py"
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        rels.append(rel)
    return rels


def _first_snapshot_s(make: Callable[[], Any], root: Path, rels: list[str], out: Path,
                      packed: bool = True) -> tuple[float, float]:
    """(seconds until the first snapshot is on disk, CPU seconds of it spent scrubbing)."""
    from crowd.snapshots.redaction import SnapshotScrubber
    from crowd.snapshots.store import SnapshotStore

    store = SnapshotStore(out, packed=packed)
    scrubber = SnapshotScrubber(make())
    scrubbing = [0.0]

    def scrub(rel: str, data: bytes) -> bytes | None:
        started = time.thread_time()      # CPU of the writer thread: not its waits for the GIL or disk
        try:
            return scrubber.scrub(rel, data)
        finally:
            scrubbing[0] += time.thread_time() - started

    os.sync()       # the workspace just written (or the previous run's files) is not written back in the timing
    started = time.perf_counter()
    store.take(lambda rel: (root / rel).read_bytes(), [], lambda: rels, t=0, wall=0, scrub=scrub)
    store.flush()
    return time.perf_counter() - started, scrubbing[0]


def _disk_files_per_s(root: Path, n: int = 2_000) -> float:
    """How fast this disk creates small files the way the store writes blobs (temp + rename)."""
    root.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for i in range(n):
        tmp = root / f".{i}.tmp"
        tmp.write_bytes(b"x" * 1200)
        os.replace(tmp, root / f"{i}.zst")
    return n / (time.perf_counter() - started)


def run(quick: bool) -> list[Table]:
    makes = _redactors()
    names = list(makes)
    code_mb = 2 if quick else 10
    code = _real_files((".py",), code_mb * 1_000_000)
    text = _real_files((".md", ".rst", ".txt"), (1 if quick else 3) * 1_000_000, seed=2)
    dna = [("dna.txt", _dna_and_letters(5_000 if quick else 20_000))]
    old_code = code[: max(1, len(code) // (4 if quick else 10))]          # the old detector reads ~1 MB/s
    js = _real_files((".js", ".ts"), code_mb * 1_000_000, root=NODE_MODULES) if NODE_MODULES.is_dir() else []
    old_js = js[: max(1, len(js) // (4 if quick else 10))]

    cols: dict[str, dict[str, Any]] = {}
    missed_now: list[str] = []
    for name in names:
        make = makes[name]
        total, caught, observed, observed_caught, missed = _recall(make)
        if name == "now":
            missed_now = missed
        sample = code if name == "now" else old_code
        fp, cpu, chars = _scan(make, sample)
        fp_js, _, js_chars = _scan(make, js if name == "now" else old_js) if js else (0, 0.0, 0)
        fp_text, _, text_chars = _scan(make, text)
        fp_dna, _, dna_chars = _scan(make, dna)
        cols[name] = {
            "recall": f"{caught}/{total} = {100 * caught / total:.1f}%",
            "observed": f"{observed_caught}/{observed}",
            "fp_code": f"{fp * 1e7 / chars:.1f} ({fp} in {chars / 1e6:.1f} MB)",
            "fp_js": f"{fp_js * 1e7 / js_chars:.1f} ({fp_js} in {js_chars / 1e6:.1f} MB)" if js_chars else "-",
            "fp_text": f"{fp_text} in {text_chars / 1e6:.1f} MB; {fp_dna} in {dna_chars / 1e6:.1f} MB",
            "mbs": round(chars / 1e6 / cpu, 2),
        }
    for name, us in _keystroke_us(makes, 16_000 if quick else 80_000).items():
        cols[name]["key"] = round(us, 2)
    for name, make in makes.items():
        cols[name]["viewport"], cols[name]["screen"] = _per_event_us(make().finder)

    files, size = (2_000, 6_900_000) if quick else (20_000, 69_000_000)
    with tempfile.TemporaryDirectory(prefix="crowd-bench-snap-") as tmp:
        root = Path(tmp) / "ws"
        rels = _workspace(root, _real_files((".py",), 20_000_000, seed=3), files, size)
        total_s, scrub_s = _first_snapshot_s(makes["now"], root, rels, Path(tmp) / "rec-now")
        cols["now"]["snap"] = f"{total_s:.1f} s"
        cols["now"]["scrub"] = f"{scrub_s:.1f} s"
        shutil.rmtree(Path(tmp) / "rec-now", ignore_errors=True)
        loose_s, _ = _first_snapshot_s(makes["now"], root, rels, Path(tmp) / "rec-loose", packed=False)
        cols["now"]["loose"] = f"{loose_s:.1f} s"
        cols[names[0]]["loose"] = "-"
        shutil.rmtree(Path(tmp) / "rec-loose", ignore_errors=True)
        part = rels[: len(rels) // 20]
        old_total, old_scrub = _first_snapshot_s(makes[names[0]], root, part, Path(tmp) / "rec-old")
        cols[names[0]]["snap"] = f"~{old_total * 20:.0f} s (1/20 of it: {old_total:.1f} s, x20)"
        cols[names[0]]["scrub"] = f"~{old_scrub * 20:.0f} s (x20)"
        disk = _disk_files_per_s(Path(tmp) / "disk")

    rows = [
        ["recall, planted corpus (items)", *(cols[n]["recall"] for n in names), ">= 99%"],
        ["observed leaks of issue 16 caught", *(cols[n]["observed"] for n in names), "all"],
        ["false positives per 10 MB, real code", *(cols[n]["fp_code"] for n in names), "<= 1"],
        ["findings per 10 MB, JS/TS (editor-bridge/node_modules)", *(cols[n]["fp_js"] for n in names), "-"],
        ["findings in text / DNA-like lines", *(cols[n]["fp_text"] for n in names), "-"],
        ["MB/s, one core (real code)", *(cols[n]["mbs"] for n in names), ">= 50"],
        ["per keystroke, us (scrub_event + guard)", *(cols[n]["key"] for n in names), "<= before"],
        [f"first snapshot on disk, {files:,} files / {size / 1e6:.0f} MB",
         *(cols[n]["snap"] for n in names), "<= 5 s (69 MB)"],
        ["  of which scrubbing (the detector, CPU s)", *(cols[n]["scrub"] for n in names), "-"],
        ["  same, one file per blob (the store before packs)", *(cols[n]["loose"] for n in names), "-"],
        ["viewport of 40 code lines after a key, us", *(cols[n]["viewport"] for n in names), "-"],
        ["terminal screen 50x120, us", *(cols[n]["screen"] for n in names), "-"],
    ]
    notes = [f"code: {len(code)} .py files of the virtualenv without tests ({code_mb} MB; the old detector "
             f"reads {len(old_code)} of them)",
             f"machine load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
             "(MB/s is CPU time of this process, so other load inflates it less than wall time)",
             f"this disk creates {disk:,.0f} small files/s (temp + rename, as the store writes each blob): "
             f"{files:,} blobs alone take {files / disk:.1f} s one file each; the store writes one pack "
             "per snapshot (and its index)"]
    if missed_now:
        notes.append("missed now: " + ", ".join(missed_now[:20]))
    return [Table("privacy: secret detection, before and now (issue 16)", ["what", *names, "target"], rows, notes)]


if __name__ == "__main__":
    for table in run("--quick" in sys.argv):
        print(table.render(), "\n")
