"""The secret kinds we recognise by their own shape: one ``Rule`` per credential format.

WHY a table of our own: detect-secrets (the previous detector) knew about 25 kinds and read
0.3-1 MB/s; the public scanners (gitleaks, trufflehog) show which credential formats are out
there. These rules are written here from the formats the vendors publish (a fixed prefix, a
body alphabet and a length), not copied from those projects. Every rule is compiled twice:
into one Hyperscan database (matcher.py) that finds candidates in a single pass over the
text, and as a Python regex that confirms a candidate and gives the secret's span (group
``s``; the whole match when absent). A rule's ``check`` looks at the value after the match
(entropy, character classes), so a prefix alone is never enough where it is a common word.

The contextual detectors (keyword assignments, URL passwords, private key blocks, encoded
secrets, bare high-entropy tokens) live in context.py; this table is the "known prefix"
half.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from crowd.privacy.checks import looks_random


@dataclass(frozen=True)
class Rule:
    kind: str
    pattern: str                 # Python regex; group "s" is the secret (whole match when absent)
    hs: str = ""                 # Hyperscan expression (a superset); the pattern when empty
    caseless: bool = False
    check: Callable[[str], bool] | None = None
    judge: Callable[[re.Match[str]], tuple[int, int] | None] | None = None   # replaces group "s" + check
    before: int = 300            # how far before the candidate's end the match may start
    after: int = 0               # how far after the candidate's end the match may go on
    multiline: bool = False      # the match may cross lines
    open_end: str = ""           # the format's start running to the end of a text (a pasted first half)
    leftmost: bool = False       # the matcher reports where the match starts (detect.py judges it directly)
    examples: tuple[str, ...] = field(default=(), compare=False)   # only for the docs


_B = r"(?<![A-Za-z0-9_])"        # no word character before a prefix
_E = r"(?![A-Za-z0-9_])"          # none after a body


def token(kind: str, prefix: str, body: str, lo: int, hi: int | None = None, *, end: str = _E,
          check: Callable[[str], bool] | None = None, caseless: bool = False) -> Rule:
    """``prefix`` + ``lo``..``hi`` characters of class ``body``; Hyperscan sees the prefix and
    the shortest body, Python confirms the whole token and its boundaries."""
    count = f"{{{lo},}}" if hi is None else f"{{{lo},{hi}}}"
    return Rule(kind, f"{_B}{prefix}{body}{count}{end}", hs=f"{prefix}{body}{{{lo}}}",
                caseless=caseless, check=check, before=len(prefix) + lo + 40, after=(hi or 400) - lo + 200,
                open_end=f"{_B}{prefix}{body}{{1,{hi or 400}}}\\Z")


def _aws_key_id(value: str) -> bool:
    """DNA (``ACCA`` + bases) and the documentation's ``...EXAMPLE`` id are not key ids. (Not
    "has a digit": 1 in 28 real ids, base32, has none.)"""
    body = value[4:]
    return len(set(body)) > 6 and not set(body) <= set("ACGTN") and not value.endswith("EXAMPLE")


_AN = "[A-Za-z0-9]"
_AN_ = "[A-Za-z0-9_]"
_ANH = "[A-Za-z0-9_-]"
_HEX = "[a-f0-9]"
_HEXI = "[A-Fa-f0-9]"
_B64 = "[A-Za-z0-9+/]"

PREFIX_RULES: tuple[Rule, ...] = (
    # cloud providers
    Rule("aws_access_key", rf"{_B}(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{{16}}{_E}",
         hs=r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}",
         open_end=rf"{_B}(?:AKIA|ASIA)[A-Z0-9]{{1,16}}\Z", check=_aws_key_id),
    token("google_api_key", "AIza", _ANH, 35, 35),
    token("google_oauth_secret", "GOCSPX-", _ANH, 28, 28),
    token("google_oauth_token", r"ya29\.", _ANH, 30),
    Rule("azure_storage_key", r"(?i:AccountKey)=(?P<s>[A-Za-z0-9+/]{86}==)", hs=r"AccountKey=[A-Za-z0-9+/]{86}==",
         caseless=True),
    Rule("azure_sas_key", r"(?i:SharedAccess(?:Key|Signature))=(?P<s>[A-Za-z0-9+/%]{30,}=*)",
         hs=r"SharedAccess(?:Key|Signature)=[A-Za-z0-9+/%]{30}", caseless=True, after=120),
    Rule("azure_client_secret", rf"{_B}[A-Za-z0-9_~.]{{3}}\dQ~[A-Za-z0-9_~.-]{{31,34}}{_E}",
         hs=r"[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31}", after=5),
    token("alibaba_access_key", "LTAI", _AN, 20, 24),
    token("digitalocean_token", "do[por]_v1_", _HEX, 64, 64),
    # source hosting and package registries
    token("github_token", "gh[pousr]_", _AN, 36, 255),
    token("github_token", "github_pat_", _AN_, 60, 255),
    token("gitlab_token", "gl(?:pat|dt|rt|ptt|cbt|ft|soat|imt|agent|oas)-", _ANH, 20, 80),
    token("bitbucket_token", "ATBB", _AN, 28, 64),
    token("atlassian_token", "ATATT3", "[A-Za-z0-9_=-]", 150),
    token("npm_token", "npm_", _AN, 36, 36),
    token("pypi_token", "pypi-AgE", _ANH, 50),
    token("rubygems_token", "rubygems_", _HEX, 48, 48),
    token("dockerhub_token", "dckr_pat_", _ANH, 27, 40),
    token("clojars_token", "CLOJARS_", "[a-z0-9]", 60, 60),
    token("nuget_key", "oy2", "[a-z0-9]", 43, 43),
    # messaging and SaaS
    token("slack_token", "xox[abposrce]-", "[A-Za-z0-9-]", 10, 250),
    token("slack_app_token", "xapp-", "[A-Za-z0-9-]", 20, 250),
    Rule("slack_webhook", r"https://hooks\.slack\.com/(?:services|workflows|triggers)/(?P<s>[A-Za-z0-9+/_-]{20,})",
         hs=r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20}", after=120),
    Rule("discord_webhook", r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/(?P<s>[A-Za-z0-9_-]{60,})",
         hs=r"discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_-]{60}", after=40),
    Rule("discord_bot_token", rf"{_B}[MNO][A-Za-z0-9_-]{{23,27}}\.[A-Za-z0-9_-]{{6}}\.[A-Za-z0-9_-]{{27,40}}{_E}",
         hs=r"[MNO][A-Za-z0-9_-]{23}[A-Za-z0-9_-]{0,4}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27}", after=14,
         check=looks_random),
    Rule("telegram_bot_token", rf"{_B}\d{{8,10}}:AA[A-Za-z0-9_-]{{33}}{_E}", hs=r"\d{8}:AA[A-Za-z0-9_-]{33}", after=2),
    Rule("twilio_api_key", rf"{_B}SK[0-9a-fA-F]{{32}}{_E}", hs=r"SK[0-9a-fA-F]{32}", check=looks_random),
    token("sendgrid_key", r"SG\.", _ANH, 22, 22, end=r"\.[A-Za-z0-9_-]{43}" + _E),
    Rule("mailgun_key", rf"{_B}key-[0-9a-zA-Z]{{32}}{_E}", hs=r"key-[0-9a-zA-Z]{32}", check=looks_random),
    Rule("mailchimp_key", rf"{_B}[0-9a-f]{{32}}-us\d{{1,2}}{_E}", hs=r"[0-9a-f]{32}-us\d"),
    token("postman_key", "PMAK-", _HEX, 24, 24, end=r"-[a-f0-9]{34}" + _E),
    token("linear_key", "lin_api_", _AN, 40, 40),
    token("notion_token", "ntn_", _AN, 40, 60),
    token("notion_token", "secret_", _AN, 43, 43, check=looks_random),
    token("figma_token", "figd_", _ANH, 40, 60),
    token("shopify_token", "shp(?:at|ca|pa|ss)_", _HEXI, 32, 32),
    token("square_token", "sq0(?:atp|csp)-", _ANH, 22, 43),
    token("square_token", "EAAA", _ANH, 60, 60, check=looks_random),
    token("facebook_token", "EAACEdEose0cBA", _AN, 20),
    token("stripe_key", "(?:sk|rk|pk)_(?:live|test)_", _AN, 20, 255),
    token("stripe_webhook_secret", "whsec_", _AN, 32, 64),
    token("paypal_braintree_token", r"access_token\$production\$", "[a-z0-9$]", 40, 80),
    # AI providers
    token("anthropic_key", "sk-ant-(?:api|admin|sid)[0-9]{2}-", _ANH, 20, 200),
    token("openai_key", "sk-(?:proj|svcacct|admin|None)-", _ANH, 20, 250),
    Rule("openai_key", rf"{_B}sk-[A-Za-z0-9]{{20}}T3BlbkFJ[A-Za-z0-9]{{20}}{_E}", hs=r"T3BlbkFJ[A-Za-z0-9]{20}", before=40),
    token("api_key", "sk-", _AN, 32, 200, check=looks_random),
    token("huggingface_token", "hf_", _AN, 30, 40),
    token("huggingface_token", "api_org_", _AN, 30, 40),
    token("replicate_token", "r8_", _AN, 37, 40),
    token("groq_key", "gsk_", _AN, 48, 56),
    token("xai_key", "xai-", _AN, 70, 90),
    token("perplexity_key", "pplx-", _AN, 40, 56),
    # infrastructure, monitoring, databases
    token("vault_token", r"hv[sbr]\.", _ANH, 24, 200),
    Rule("terraform_token", rf"{_B}[A-Za-z0-9]{{14}}\.atlasv1\.[A-Za-z0-9_=-]{{60,}}", hs=r"\.atlasv1\.[A-Za-z0-9_=-]{60}",
         before=40, after=200),
    token("pulumi_token", "pul-", _HEX, 40, 40),
    token("doppler_token", r"dp\.(?:pt|st|sa|ct|scim|audit)\.", _AN, 40, 44),
    token("databricks_token", "dapi", _HEX, 32, 32, end=r"(?:-\d)?" + _E),
    token("grafana_token", "glsa_", _AN, 32, 32, end=r"_[A-Fa-f0-9]{8}" + _E),
    token("grafana_token", "glc_", "[A-Za-z0-9+/]", 32, 400, end="={0,2}"),
    token("newrelic_key", "NRAK-", "[A-Z0-9]", 27, 27),
    token("sentry_token", "sntry[su]_", "[A-Za-z0-9+/=_]", 40, 400),
    token("dynatrace_token", r"dt0c01\.", "[A-Z0-9]", 24, 24, end=r"\.[A-Z0-9]{64}" + _E),
    token("planetscale_token", "pscale_(?:tkn|pw|oauth)_", r"[A-Za-z0-9_.=-]", 32, 64),
    token("flyio_token", "fo1_", _ANH, 40, 50),
    token("supabase_token", "sbp_", _HEX, 40, 40),
    token("age_secret_key", "AGE-SECRET-KEY-1", "[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]", 58, 58),
    token("cloudflare_origin_key", r"v1\.0-", _HEX, 24, 24, end=r"-[a-f0-9]{146}" + _E),
    Rule("jwt", rf"{_B}eyJ[A-Za-z0-9_-]{{8,}}\.eyJ[A-Za-z0-9_-]{{8,}}\.[A-Za-z0-9_-]{{8,}}",
         hs=r"eyJ[A-Za-z0-9_-]{8}[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]{8}", after=2000),
)
