"""Which workspace files are secret stores and must never be read.

A secret file is excluded *by name*, before its bytes are opened: detection inside the text
could miss a credential format, but a file called ``.env`` or ``id_rsa`` exists to hold
secrets, so the watcher, the workspace cache and the snapshot store consult
``is_secret_path`` and skip the file entirely (no content, no diff, no snapshot blob).
The decision is fail-closed: every ``.env*`` variant counts, including ``.env.example``.
The families (docs/privacy.md, "Secret files"): dotenv in every spelling, private keys and
key stores, credential stores of common tools, framework secrets files (``secrets.toml``,
Rails ``credentials.yml.enc``/``master.key``), Terraform state (``*.tfstate``: every
resource's attributes in clear), Vault tokens, and config files whose purpose is to hold
credentials (``wp-config.php``, ``local_settings.py``, ``appsettings.*.json``,
``database.yml``). A workspace that wants one of them recorded removes it with its own
policy (``SecretPathPolicy(use_defaults=False)`` plus the globs it keeps).
"""
from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from functools import lru_cache

from crowd.privacy.detect import SecretFinder

# Patterns without "/" match the file's base name; patterns with "/" match the tail of the
# workspace-relative path (so ".aws/credentials" matches "home/.aws/credentials" too).
DEFAULT_SECRET_GLOBS: tuple[str, ...] = (
    # dotenv files in every spelling (.env.local, .env-local, .env_prod, env.production) and direnv
    ".env", ".env.*", ".env-*", ".env_*", "*.env", ".envrc", "env.local*", "env.dev*", "env.prod*",
    "env.stag*", "env.test*", "env.qa*", "env.uat*",
    # private keys and key stores
    "id_rsa", "id_rsa.*", "id_dsa", "id_dsa.*", "id_ecdsa", "id_ecdsa.*",
    "id_ed25519", "id_ed25519.*", "*.pem", "*.key", "*.p12", "*.pfx", "*.jks",
    "*.keystore", "*.kdbx", "*.ppk", "*.gpg", "*.asc", "*.age",
    # credential stores of common tools
    ".netrc", "_netrc", ".npmrc", ".yarnrc.yml", ".pypirc", ".pgpass", ".git-credentials",
    ".htpasswd", ".boto", ".s3cfg", "credentials.json", "client_secret*.json",
    "service-account*.json", "*.tfvars", "secrets.yml", "secrets.yaml", "secrets.json",
    ".aws/credentials", ".aws/config", ".docker/config.json", ".kube/config",
    ".config/gh/hosts.yml", ".ssh/*", ".gnupg/*",
    # secrets files of frameworks and tools (Streamlit, Rails, .NET user secrets, Jenkins...)
    "secrets.toml", "secrets.ini", "secrets.env", "secrets.*.y*ml", "secrets.*.json", "credentials.y*ml",
    "credentials.yml.enc", "credentials.toml", "credentials.xml", "master.key", "secrets.xml",
    # infrastructure state and tokens: Terraform state holds every resource's secrets in clear
    "*.tfstate", "*.tfstate.*", ".terraformrc", "terraform.rc", ".vault-token", ".vault_token",
    # framework config files whose job is to hold credentials
    "wp-config.php", "wp-config-*.php", "local_settings.py", "settings_local.py", "appsettings.*.json",
    "database.yml", "parameters.yml", "config.inc.php", "LocalSettings.php", "configuration.php",
    # more tools' credential stores
    ".my.cnf", ".mylogin.cnf", ".dockercfg", "auth.json", ".cargo/credentials", ".cargo/credentials.toml",
    ".gem/credentials", ".config/hub", "rclone.conf", ".git-credentials*", "kubeconfig", "*.kubeconfig",
    "*.ovpn", "firebase-adminsdk*.json", "*-firebase-adminsdk-*.json", ".pgpass*",
)

# Public halves of key pairs are not secret; they are allowed even under .ssh/.
PUBLIC_KEY_SUFFIXES = (".pub",)


def _match(rel: str, patterns: Iterable[str]) -> bool:
    rel = rel.replace(os.sep, "/").lstrip("./") if rel.startswith("./") else rel.replace(os.sep, "/")
    base = rel.rsplit("/", 1)[-1]
    if base.endswith(PUBLIC_KEY_SUFFIXES) and not base.startswith(".env"):
        return False
    for pattern in patterns:
        if "/" in pattern:
            if fnmatch.fnmatchcase(rel, pattern) or fnmatch.fnmatchcase(rel, "*/" + pattern):
                return True
        elif fnmatch.fnmatchcase(base, pattern) or fnmatch.fnmatchcase(base.lower(), pattern):
            return True
    return False


class SecretPathPolicy:
    """The default secret-file globs plus the user's own (settings ``privacy.secret_globs``)."""

    def __init__(self, extra_globs: Iterable[str] = (), *, use_defaults: bool = True) -> None:
        self.globs: tuple[str, ...] = (DEFAULT_SECRET_GLOBS if use_defaults else ()) + tuple(extra_globs)

    def is_secret(self, rel: str) -> bool:
        return _cached(rel, self.globs)


@lru_cache(maxsize=16384)
def _cached(rel: str, globs: tuple[str, ...]) -> bool:
    return _match(rel, globs) or names_a_secret(rel)


@lru_cache(maxsize=1)
def _finder() -> SecretFinder:
    return SecretFinder()      # built on first use: importing crowd.privacy compiles nothing


@lru_cache(maxsize=16384)
def names_a_secret(rel: str) -> bool:
    """A path that holds a credential in its own name (``notes/ghp_....txt``): such a file is
    treated as a secret file, since its name would otherwise be written wherever paths are
    (snapshot manifests, file events) and a snapshot path cannot be a marker."""
    return bool(_finder().find(rel))


_DEFAULT = SecretPathPolicy()


def is_secret_path(rel: str, extra_globs: Iterable[str] = ()) -> bool:
    """True when the workspace-relative path names a secret store that must never be read."""
    if extra_globs:
        return SecretPathPolicy(extra_globs).is_secret(rel)
    return _DEFAULT.is_secret(rel)
