"""Planted secrets, built at run time so the repository holds no credential-shaped literal."""
from __future__ import annotations

import random
import string


def _rand(alphabet: str, n: int, rng: random.Random) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def planted(seed: int = 7) -> dict[str, str]:
    rng = random.Random(seed)
    up, al = string.ascii_uppercase + string.digits, string.ascii_letters + string.digits
    body = "\n".join(_rand(string.ascii_letters + string.digits + "+/", 64, rng) for _ in range(6))
    return {
        "aws": "AKIA" + _rand(up, 16, rng),
        "github": "ghp_" + _rand(al, 36, rng),
        "anthropic": "sk-ant-api03-" + _rand(al, 40, rng),
        "url_password": "Pw" + _rand(al, 14, rng),
        "password": "hunter" + _rand(string.ascii_lowercase + string.digits, 10, rng),
        "pem_body": body,
        "slack": "xoxb-" + _rand(string.digits, 12, rng) + "-" + _rand(al, 24, rng),
    }


def pem(body: str) -> str:
    return "-----BEGIN RSA PRIVATE KEY-----\n" + body + "\n-----END RSA PRIVATE KEY-----\n"


def needles(secrets: dict[str, str]) -> list[str]:
    """Substrings that must appear nowhere: each secret and (for keys) each body line."""
    out = [v for k, v in secrets.items() if k != "pem_body"]
    out += secrets["pem_body"].splitlines()
    return out
