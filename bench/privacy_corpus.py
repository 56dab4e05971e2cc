"""The planted-secret corpus of issue 16: 50+ kinds in the contexts where secrets leaked.

Every secret is generated at run time from its format (a prefix, an alphabet, a length), so
the repository holds no credential-shaped literal. Each ``Item`` is one secret in one
context, ready to be put through a redactor the way a recorder would:

- ``text``: a string scrubbed alone (code in several languages, config, dotenv, shell, a
  2,000+ character minified JSON line, curl headers, printed output);
- ``screen``: terminal rows of a given width, with the secret wrapped across two rows;
- ``paste``: two adjacent edits (or two terminal inputs), each holding half the secret;
- ``event``: a header event (``session/start`` settings and ``uploadUrl``, file names, the
  ``phase``/``reason``/``agent`` fields).

An item leaks when any 8 characters of its secret (all of a shorter one) are in the
concatenation of the strings it produced, in order, so a secret wrapped across rows or
split across edits counts as leaked unless each piece was replaced.
"""
from __future__ import annotations

import base64
import random
import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

AL = string.ascii_letters + string.digits
UP = string.ascii_uppercase + string.digits
LO = string.ascii_lowercase + string.digits
HEX = "0123456789abcdef"
URLSAFE = AL + "_-"
B64 = AL + "+/"


@dataclass
class Item:
    kind: str
    context: str
    secret: str
    payload: str | list[str] | dict[str, Any] | list[dict[str, Any]]
    observed: bool = False                     # one of the leaks listed in issue 16
    cols: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class Gen:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def s(self, alphabet: str, n: int) -> str:
        while True:
            out = "".join(self.rng.choice(alphabet) for _ in range(n))
            # a generated key has both cases and digits where its alphabet allows
            if alphabet is not AL and alphabet is not URLSAFE and alphabet is not B64:
                return out
            if any(c.isdigit() for c in out) and any(c.isupper() for c in out) and any(c.islower() for c in out):
                return out


# kind -> (generator, keyword-ish name used in assignments)
def _formats(g: Gen) -> dict[str, tuple[Callable[[], str], str]]:
    s = g.s
    return {
        "aws_access_key": (lambda: "AKIA" + s(UP, 16), "aws_access_key_id"),
        "aws_secret_key": (lambda: s(B64, 40), "aws_secret_access_key"),
        "github_token": (lambda: "ghp_" + s(AL, 36), "github_token"),
        "github_fine_grained": (lambda: "github_pat_" + s(AL, 22) + "_" + s(AL, 59), "gh_pat"),
        "gitlab_token": (lambda: "glpat-" + s(URLSAFE, 20), "gitlab_token"),
        "slack_token": (lambda: "xoxb-" + s(string.digits, 12) + "-" + s(string.digits, 12) + "-" + s(AL, 24),
                        "slack_bot_token"),
        "slack_webhook": (lambda: "https://hooks.slack.com/services/T" + s(UP, 8) + "/B" + s(UP, 8) + "/" + s(AL, 24),
                          "webhook_url"),
        "stripe_key": (lambda: "sk_live_" + s(AL, 24), "stripe_secret_key"),
        "stripe_webhook_secret": (lambda: "whsec_" + s(AL, 32), "stripe_webhook_secret"),
        "openai_key": (lambda: "sk-proj-" + s(URLSAFE, 48), "openai_api_key"),
        "anthropic_key": (lambda: "sk-ant-api03-" + s(URLSAFE, 93) + "AA", "anthropic_api_key"),
        "google_api_key": (lambda: "AIza" + s(URLSAFE, 35), "google_api_key"),
        "google_oauth_secret": (lambda: "GOCSPX-" + s(URLSAFE, 28), "client_secret"),
        "huggingface_token": (lambda: "hf_" + s(AL, 34), "hf_token"),
        "npm_token": (lambda: "npm_" + s(AL, 36), "npm_token"),
        "pypi_token": (lambda: "pypi-AgEIcHlwaS5vcmc" + s(URLSAFE, 60), "pypi_token"),
        "sendgrid_key": (lambda: "SG." + s(URLSAFE, 22) + "." + s(URLSAFE, 43), "sendgrid_api_key"),
        "twilio_api_key": (lambda: "SK" + s(HEX, 32), "twilio_api_key"),
        "mailgun_key": (lambda: "key-" + s(AL, 32), "mailgun_api_key"),
        "mailchimp_key": (lambda: s(HEX, 32) + "-us" + str(g.rng.randint(1, 20)), "mailchimp_key"),
        "shopify_token": (lambda: "shpat_" + s(HEX, 32), "shopify_token"),
        "digitalocean_token": (lambda: "dop_v1_" + s(HEX, 64), "do_token"),
        "databricks_token": (lambda: "dapi" + s(HEX, 32), "databricks_token"),
        "discord_bot_token": (lambda: "M" + s(AL, 25) + "." + s(URLSAFE, 6) + "." + s(URLSAFE, 38), "discord_token"),
        "telegram_bot_token": (lambda: str(g.rng.randint(10**8, 10**9)) + ":AA" + s(URLSAFE, 33), "telegram_token"),
        "jwt": (lambda: "eyJ" + s(URLSAFE, 30) + ".eyJ" + s(URLSAFE, 60) + "." + s(URLSAFE, 43), "session_jwt"),
        "azure_storage_key": (lambda: "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + s(B64, 86) + "==",
                              "azure_storage"),
        "linear_key": (lambda: "lin_api_" + s(AL, 40), "linear_api_key"),
        "notion_token": (lambda: "ntn_" + s(string.digits, 11) + s(AL, 35), "notion_token"),
        "figma_token": (lambda: "figd_" + s(URLSAFE, 40), "figma_token"),
        "postman_key": (lambda: "PMAK-" + s(HEX, 24) + "-" + s(HEX, 34), "postman_api_key"),
        "grafana_token": (lambda: "glsa_" + s(AL, 32) + "_" + s(HEX, 8), "grafana_token"),
        "newrelic_key": (lambda: "NRAK-" + s(UP, 27), "newrelic_key"),
        "sentry_token": (lambda: "sntrys_" + s(B64, 60), "sentry_auth_token"),
        "vault_token": (lambda: "hvs." + s(URLSAFE, 90), "vault_token"),
        "doppler_token": (lambda: "dp.pt." + s(AL, 43), "doppler_token"),
        "pulumi_token": (lambda: "pul-" + s(HEX, 40), "pulumi_access_token"),
        "dockerhub_token": (lambda: "dckr_pat_" + s(URLSAFE, 27), "docker_token"),
        "rubygems_token": (lambda: "rubygems_" + s(HEX, 48), "gem_host_api_key"),
        "age_secret_key": (lambda: "AGE-SECRET-KEY-1" + s("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58), "age_key"),
        "groq_key": (lambda: "gsk_" + s(AL, 52), "groq_api_key"),
        "replicate_token": (lambda: "r8_" + s(AL, 37), "replicate_api_token"),
        "supabase_token": (lambda: "sbp_" + s(HEX, 40), "supabase_token"),
        "planetscale_token": (lambda: "pscale_tkn_" + s(URLSAFE, 43), "planetscale_token"),
        "square_token": (lambda: "sq0atp-" + s(URLSAFE, 22), "square_access_token"),
        "alibaba_access_key": (lambda: "LTAI" + s(AL, 20), "alibaba_key"),
        "dynatrace_token": (lambda: "dt0c01." + s(UP, 24) + "." + s(UP, 64), "dt_api_token"),
        "atlassian_token": (lambda: "ATATT3" + s(URLSAFE, 186), "jira_api_token"),
    }


# contexts for a secret of a known format: (name, builder(name, secret) -> text)
TEXT_CONTEXTS: list[tuple[str, Callable[[str, str], str]]] = [
    ("python", lambda n, v: f'import os\n\n{n} = "{v}"\nclient = Client({n})\n'),
    ("javascript", lambda n, v: f"const {_camel(n)} = '{v}';\nexport default {{ {_camel(n)} }};\n"),
    ("yaml", lambda n, v: f"service:\n  name: api\n  {n}: {v}\n  replicas: 2\n"),
    ("json", lambda n, v: f'{{\n  "name": "api",\n  "{_camel(n)}": "{v}",\n  "port": 8080\n}}\n'),
    ("dotenv_text", lambda n, v: f"DEBUG=false\n{n.upper()}={v}\nPORT=8000\n"),
    ("shell", lambda n, v: f"$ export {n.upper()}={v}\n$ ./deploy.sh\n"),
    ("printed", lambda n, v: f"Created credential for ci-bot:\n  {v}\nStore it now, it will not be shown again.\n"),
    ("long_line", lambda n, v: _minified(n, v)),
]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _minified(name: str, value: str) -> str:
    rng = random.Random(len(value) * 7919 + len(name))
    pairs = [f'"k{i}":"{"".join(rng.choice(string.ascii_lowercase) for _ in range(12))}"' for i in range(120)]
    pairs.insert(rng.randrange(60, 110), f'"{_camel(name)}":"{value}"')
    return "{" + ",".join(pairs) + "}"


# keyword secrets: random values whose only sign is the name they are assigned to
def _keyword_items(g: Gen) -> Iterator[Item]:
    s = g.s
    cases: list[tuple[str, str, str, bool]] = [
        # (kind, text template with {v}, secret, observed)
        ("keyword_token", 'api_token = "{v}"', s(AL, 16), True),
        ("keyword_token", "token: {v}", s(AL, 20), True),
        ("keyword_token", 'const token = "{v}";', s(AL, 24), True),
        ("keyword_hex", 'twilio_auth_token = "{v}"', s(HEX, 32), True),
        ("keyword_hex", 'token = "{v}"', s(HEX, 40), True),
        ("keyword_password", 'db_password = "{v}"', s(AL + "!#%", 14), False),
        ("keyword_password", "password: {v}", s(AL, 12), False),
        ("keyword_password", "spring.datasource.password={v}", s(AL, 12), False),
        ("keyword_password", "<password>{v}</password>", s(AL, 14), False),
        ("keyword_password", "mysql -u root --password={v} app", s(AL, 12), False),
        ("keyword_password", 'conn = connect(host="db", user="app", password="{v}")', s(AL, 13), False),
        ("keyword_secret", 'SECRET_KEY = "{v}"', s(AL + "!@#$%^&*(-_=+)", 50), False),
        ("keyword_secret", "secret_key_base: {v}", s(HEX, 128), False),
        ("keyword_secret", "client_secret={v}", s(URLSAFE, 32), False),
        ("salt", "APP_SIGNING_SALT={v}", s(AL, 16), True),
        ("salt", "define( 'AUTH_SALT', '{v}' );", s(AL + "!@#$%^&*()-_[]{}<>~+=,.;:/?|", 64), False),
        ("salt", 'config.cookie_secret = "{v}"', s(AL, 32), False),
        ("keyword_apikey", "X-Api-Key: {v}", s(AL, 32), False),
        ("keyword_apikey", "apiKey: '{v}',", s(AL, 28), False),
        ("bearer_token", "curl -H 'Authorization: Bearer {v}' https://api.example.com/v1/me", s(URLSAFE, 40), False),
        ("basic_auth", "Authorization: Basic {v}", base64.b64encode(f"deploy:{s(AL, 14)}".encode()).decode(), False),
    ]
    for i in range(3):      # the long-line case of issue 16, several times
        cases.append(("keyword_password", _minified("db_password", "{v}"), s(AL, 14), True))
    for kind, template, secret, observed in cases:
        yield Item(kind, "assignment", secret, template.replace("{v}", secret), observed)
    for user in ("", "app", "admin"):
        pw = s(AL, 14)
        yield Item("url_password", "url", pw, f"REDIS_URL=redis://{user}:{pw}@cache.internal:6379/0", observed=user == "")
        pw = s(AL, 12)
        yield Item("url_password", "url", pw, f"git clone https://{user or 'bot'}:{pw}@git.example.com/team/app.git")


def _pem(g: Gen, label: str) -> tuple[str, str]:
    body = "\n".join(g.s(B64, 64) for _ in range(12)) + "\n" + g.s(B64, 40) + "=="
    return body, f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


def _key_items(g: Gen) -> Iterator[Item]:
    for label in ("RSA PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY"):
        body, pem = _pem(g, label)
        yield Item("private_key", "pem", body.splitlines()[3], f"$ cat deploy_key\n{pem}$ ")
        yield Item("private_key", "json_escaped", body.splitlines()[5],
                   '{"type": "service_account", "private_key": "' + pem.replace("\n", "\\n") + '"}')
    body, _ = _pem(g, "RSA PRIVATE KEY")
    yield Item("key_material", "scrolled_body", body.splitlines()[4], "\n".join(body.splitlines()[2:9]))


def _encoded_items(g: Gen, formats: dict[str, tuple[Callable[[], str], str]]) -> Iterator[Item]:
    for kind in ("github_token", "anthropic_key", "aws_access_key", "slack_token", "gitlab_token", "npm_token"):
        secret = formats[kind][0]()
        for lead in ("", "=", ": "):        # three byte alignments
            plain = f"{lead}{secret}"
            enc = base64.b64encode(plain.encode()).decode()
            yield Item("base64_" + kind, "base64", enc, f"$ echo {enc} | base64 -d", observed=True)
    pw = g.s(AL, 16)
    enc = base64.b64encode(f'{{"auths":{{"r.io":{{"password":"{pw}"}}}}}}'.encode()).decode()
    yield Item("base64_docker", "base64", enc, f"data:\n  .dockerconfigjson: {enc}\n", observed=True)


def _secret_part(value: str) -> str:
    """The part of a value that is secret: a webhook's path, a connection string's key."""
    for public in ("/services/", "AccountKey="):
        if public in value:
            return value.split(public, 1)[1]
    return value


def _screen(g: Gen, kind: str, secret: str, cols: int, name: str) -> Item:
    """A command whose secret starts half its length before the right edge: it wraps."""
    head = f"export {name.upper()}="
    gap = max(1, cols - len(secret) // 2 - len(head) - 1)
    cmd = "$" + " " * gap + head + secret + " && ./deploy.sh"
    rows = [cmd[i:i + cols] for i in range(0, len(cmd), cols)] + ["$ "]
    return Item(kind, f"terminal_{cols}", _secret_part(secret), rows, cols=cols)


def _split(kind: str, secret: str, name: str, where: str) -> Item:
    cut = len(secret) // 2
    if where == "edit":
        first = f'{name} = "{secret[:cut]}'
        edits = [{"type": "action", "kind": "edit", "file": "app/settings.py", "source": "user",
                  "changes": [{"offset": 120, "length": 0, "text": first}]},
                 {"type": "action", "kind": "edit", "file": "app/settings.py", "source": "user",
                  "changes": [{"offset": 120 + len(first), "length": 0, "text": secret[cut:] + '"\n'}]}]
    else:
        first = f"export {name.upper()}={secret[:cut]}"
        edits = [{"type": "action", "kind": "terminal_input", "terminal": "1", "data": first, "paste": True},
                 {"type": "action", "kind": "terminal_input", "terminal": "1", "data": secret[cut:], "paste": True}]
    return Item(kind, f"split_{where}", _secret_part(secret), edits, observed=True)


def _header_items(g: Gen) -> Iterator[Item]:
    hexes = [g.s(HEX, 40) for _ in range(3)]
    yield Item("settings_hex", "session_start", hexes[0],
               {"type": "session", "kind": "start", "session_id": "s1",
                "settings": {"uploadUrl": f"https://ingest.example.com/v1/put/u/f?exp=1700000000&sig={hexes[0]}",
                             "redact": True}}, observed=True)
    yield Item("settings_hex", "session_start", hexes[1],
               {"type": "session", "kind": "start", "session_id": "s2",
                "settings": {"uploadToken": hexes[1], "shareConsent": True}}, observed=True)
    yield Item("settings_hex", "session_start", hexes[2],
               {"type": "session", "kind": "start", "session_id": "s3", "uploadUrl":
                f"https://ingest.example.com/v1/presign?token={hexes[2]}"}, observed=True)
    for field_name in ("phase", "reason", "agent"):
        secret = "ghp_" + g.s(AL, 36)
        yield Item("header_field", field_name, secret,
                   {"type": "action", "kind": "agent_edit", "file": "src/a.py", field_name: f"run with {secret}"},
                   observed=True)
    secret = "sk-proj-" + g.s(URLSAFE, 48)
    yield Item("file_name", "file", secret, {"type": "action", "kind": "open", "file": f"notes/{secret}.txt"},
               observed=True)


def corpus(seed: int = 16) -> list[Item]:
    """Every planted item (about 500, 60+ kinds)."""
    g = Gen(seed)
    formats = _formats(g)
    items: list[Item] = []
    for kind, (make, name) in formats.items():
        for context, build in TEXT_CONTEXTS:
            value = make()
            items.append(Item(kind, context, _secret_part(value), build(name, value), observed=context == "long_line"))
        for cols in (80, 100, 132):
            items.append(_screen(g, kind, make(), cols, name))
        items.append(_split(kind, make(), name, "edit" if len(items) % 2 else "terminal"))
    items.extend(_keyword_items(g))
    for kind in ("keyword_token", "keyword_password"):
        items.append(_split(kind, g.s(AL, 24), "api_token" if kind == "keyword_token" else "db_password", "edit"))
    pw = g.s(AL, 14)
    url = f"redis://:{pw}@cache.internal:6379/0"
    cmd = "$ redis-cli -u " + url
    for cols in (20, 24, 30):
        rows = [cmd[i:i + cols] for i in range(0, len(cmd), cols)] + ["$ "]
        items.append(Item("url_password", f"terminal_{cols}", pw, rows, observed=True, cols=cols))
    items.extend(_key_items(g))
    items.extend(_encoded_items(g, formats))
    items.extend(_header_items(g))
    return items


def outputs(item: Item, scrub_event: Callable[[dict[str, Any]], Any],
            scrub_text: Callable[[str], str]) -> str:
    """What a recorder would write for ``item``, concatenated in order (no separators)."""
    import copy
    if isinstance(item.payload, str):
        return scrub_text(item.payload)
    if isinstance(item.payload, dict):
        ev = copy.deepcopy(item.payload)
        scrub_event(ev)
        return _strings(ev)
    if item.payload and isinstance(item.payload[0], str):
        ev = {"type": "observation", "kind": "terminal_screen", "terminal": "1", "rows": len(item.payload),
              "cols": item.cols, "lines": list(item.payload)}
        scrub_event(ev)
        return "".join(ev["lines"])
    out = []
    for edit in item.payload:
        ev = copy.deepcopy(edit)
        scrub_event(ev)
        out.append(ev["changes"][0]["text"] if ev["kind"] == "edit" else ev["data"])
    return "".join(out)


def _strings(node: Any) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, dict):
        return "".join(_strings(v) for v in node.values())
    if isinstance(node, list):
        return "".join(_strings(v) for v in node)
    return ""


_MARKER = re.compile(r"\[REDACTED:[a-z0-9_]+\]")


def leaked(item: Item, written: str) -> bool:
    """Any 8 characters of the secret (all of a shorter one) in what was written; markers
    are removed first (a kind such as ``rubygems_token`` spells the secret's prefix)."""
    written = _MARKER.sub("\x00", written)
    w = min(8, len(item.secret))
    secret = item.secret
    return any(secret[i:i + w] in written for i in range(0, len(secret) - w + 1))
