"""The line cache of SecretFinder.find gives exactly what scanning the whole text gives."""
from __future__ import annotations

import random
import string

import pytest

from tests.privacy.secrets_fixture import pem, planted

from crowd.privacy.detect import SecretFinder

S = planted()
AL = string.ascii_letters + string.digits
WORDS = "self value items result index count name data config path error return import user token cache".split()


def _secret_line(rng: random.Random) -> str:
    rand = lambda n: "".join(rng.choice(AL) for _ in range(n))  # noqa: E731
    return rng.choice([
        f'password = "{S["password"]}"', f"export GH_TOKEN={S['github']}", f"key = {S['aws']}",
        f"curl -H 'Authorization: Bearer {S['github'][4:]}'", f"git clone https://bob:{S['url_password']}@x.com/r.git",
        f"    token: {S['slack']}", f"  x = '{rand(30)}'", rand(40), f"aws_secret_access_key = {rand(40)}",
        f"db = connect(password='{S['url_password']}')", f"--password {S['password']}", f"api_key: {S['anthropic']}",
        "sha256-" + rand(44), f"seen again {S['github']} here", "Authorization: Bearer", "  --token",
        f"    {rand(64)}", S["pem_body"], pem(S["pem_body"]),
    ])


def _code_line(rng: random.Random) -> str:
    return f"    {rng.choice(WORDS)}_{rng.randrange(1000)} = {rng.choice(WORDS)}({rng.choice(WORDS)}, {rng.randrange(100)})"


@pytest.mark.parametrize("seed", range(3))
def test_line_cached_find_equals_whole_text_scan(seed):
    rng = random.Random(seed)
    finder = SecretFinder()
    checked_with_findings = 0
    for _ in range(120):
        lines = [_secret_line(rng) if rng.random() < 0.25 else _code_line(rng) for _ in range(rng.randint(1, 25))]
        text = "\n".join(lines)
        for filename in ("src/a.py", "conf/x.yaml", None):
            cached = finder.find(text, filename)
            assert cached == finder._find_whole(text, filename), text
            assert finder.find(text, filename) == cached          # second time: from the cache
            checked_with_findings += bool(cached)
    assert checked_with_findings > 100


def test_a_keyword_ending_a_line_is_scanned_across_the_line_break():
    finder = SecretFinder()
    text = f"curl -H 'Authorization: Bearer\n{S['github'][4:]}'\nnext line here"
    assert [text[f.start:f.end] for f in finder.find(text)] == [S["github"][4:]]
