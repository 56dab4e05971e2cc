"""Append-only teacher forcing with the real Qwen tokenizer, on real recordings."""
from __future__ import annotations

import random
from pathlib import Path

from crowd.serializer.dataset.next_action import Renderer, sequence_chunks
from crowd.serializer.interop.load import load_events
from crowd.serializer.replay.state import ReplayState

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "interop"


def _assert_append_only(events, tokenizer, max_tokens, samples, seed=0):
    rng = random.Random(seed)
    ks = sorted(rng.sample(range(1, len(events)), min(samples, len(events) - 1)))
    for k in ks:
        a = sequence_chunks(events[:k], tokenizer, max_tokens)
        b = sequence_chunks(events[:k + 1], tokenizer, max_tokens)
        assert len(b) in (len(a), len(a) + 1), k
        for x, y in zip(a[:-1], b):
            assert x["input_ids"] == y["input_ids"] and x["loss_mask"] == y["loss_mask"], k
        if a:
            last, same = a[-1], b[len(a) - 1]
            assert same["input_ids"][:len(last["input_ids"])] == last["input_ids"], k
            assert same["loss_mask"][:len(last["loss_mask"])] == last["loss_mask"], k


def test_tokens_of_k_events_prefix_of_k_plus_1(recording, qwen):
    events = load_events(recording).events[:2500]
    _assert_append_only(events, qwen, 8192, samples=12)
    _assert_append_only(events, qwen, 600, samples=12, seed=1)  # with many overflows and keyframes


def test_append_only_on_imports(qwen):
    for src in (FIX / "cc2" / "crowd-code-5f0c2a1e-2025_06_02-14.03.11", FIX / "cc1" / "session.csv"):
        events = load_events(src).events
        _assert_append_only(events, qwen, 300, samples=len(events) - 1)


def test_keyframes_are_reproducible_from_state_and_mask_covers_user_actions_only(recording, qwen):
    events = load_events(recording).events[:3000]
    chunks = sequence_chunks(events, qwen, 700)
    assert len(chunks) > 5
    by_seq = {e["seq"]: i for i, e in enumerate(events)}
    for ch in chunks:
        assert len(ch["input_ids"]) <= 700 and len(ch["input_ids"]) == len(ch["loss_mask"])
        # rebuild the keyframe independently: replay up to the chunk's first event, render it
        start = by_seq[ch["first_seq"]]
        state, renderer = ReplayState(), Renderer()
        goal = ""
        from crowd.serializer.dataset.signals import find_markers

        marks = {m.index: m.text for m in find_markers(events) if m.kind in ("prompt", "commit")}
        for i, ev in enumerate(events[:start]):
            renderer.render(ev, state)
            goal = marks.get(i, goal)
            state.apply(ev)
        goal = marks.get(start, goal)
        key = qwen.encode(renderer.keyframe(state, goal))
        assert ch["input_ids"][:ch["keyframe_tokens"]] == key
        assert sum(ch["loss_mask"][:ch["keyframe_tokens"]]) == 0
    # the mask is 1 exactly on tokens of user actions
    ch = chunks[1]
    start = by_seq[ch["first_seq"]]
    rendered = [e for e in events[start:] if e["seq"] <= ch["last_seq"]]
    starts = ch["event_starts"] + [len(ch["input_ids"])]
    state = ReplayState()
    renderer = Renderer()
    for ev in events[:start]:
        renderer.render(ev, state)
        state.apply(ev)
    spans = []
    for ev in rendered:
        if renderer.render(ev, state):
            spans.append(ev)
        state.apply(ev)
    assert len(spans) == len(ch["event_starts"])
    users = 0
    for ev, a, b in zip(spans, starts, starts[1:]):
        want = 1 if ev["type"] == "action" and ev.get("source") == "user" else 0
        assert set(ch["loss_mask"][a:b]) == {want}
        users += want
    assert 0 < users < len(spans)
    text = qwen.decode(ch["input_ids"])
    assert "@edit" in text and "@keyframe" in text


def test_hf_conversion_of_the_vocabulary_tokenises_identically(recording, qwen):
    """``hf_tokenizer()`` (TikTokenConverter) gives the same ids as the tiktoken encoding used."""
    from crowd.serializer.dataset.next_action import Renderer
    from crowd.serializer.dataset.tokenizer import hf_tokenizer

    tok = hf_tokenizer()
    state, renderer = ReplayState(), Renderer()
    texts = []
    for ev in load_events(recording).events[:1500]:
        text = renderer.render(ev, state)
        if text:
            texts.append(text)
        state.apply(ev)
    texts.append(renderer.keyframe(state, "goal with emoji 😀 and 漢字"))
    for text in texts[::7]:
        assert tok.encode(text, add_special_tokens=False).ids == qwen.encode(text)
