"""The secret-file policy of issue 16: every family that leaked is never read, code is."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowd.privacy import SecretPathPolicy, is_secret_path

LEAKED = [".env-local", "env.production", "config/.env_prod", "secrets.toml", "terraform.tfstate", ".vault-token",
          "wp-config.php"]
FAMILIES = [
    ".env", "api/.env.local", ".env.example", "deploy/.env_staging", "env.local", "prod.env", ".envrc",
    ".streamlit/secrets.toml", "config/credentials.yml.enc", "config/master.key", "infra/prod.tfstate",
    "infra/terraform.tfstate.backup", "home/.vault-token", "web/wp-config.php", "app/local_settings.py",
    "Api/appsettings.Production.json", "config/database.yml", "home/.my.cnf", "home/.cargo/credentials.toml",
    "kubeconfig", "vpn/office.ovpn", "keys/app-firebase-adminsdk-x1.json", "home/.aws/credentials",
]
CODE = ["src/env.py", "src/env.ts", "types/env.d.ts", "config/environment.rb", "src/auth.py", "secrets_test.go",
        "docs/secrets.md", "app/settings.py", "appsettings.json", "terraform/main.tf", "vault/policy.hcl",
        "src/credentials_form.tsx", "id_rsa.pub", "README.md"]


@pytest.mark.parametrize("rel", LEAKED + FAMILIES)
def test_secret_files_are_recognised(rel):
    assert is_secret_path(rel)


@pytest.mark.parametrize("rel", CODE)
def test_code_is_not_a_secret_file(rel):
    assert not is_secret_path(rel)


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(LEAKED + FAMILIES), st.lists(st.from_regex(r"[a-z0-9_-]{1,8}", fullmatch=True), max_size=3))
def test_secret_files_anywhere_in_the_workspace(rel, folders):
    assert is_secret_path("/".join([*folders, rel]))


def test_a_workspace_can_keep_its_own_list():
    policy = SecretPathPolicy(["*.secret"], use_defaults=False)
    assert policy.is_secret("a/b.secret") and not policy.is_secret("wp-config.php")


def test_a_file_whose_name_holds_a_secret_is_a_secret_file():
    token = "ghp_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3hJ5"
    assert is_secret_path(f"notes/{token}.txt") and is_secret_path(f"keys/{token}/README.md")
    for rel in ("src/app/main.py", "static/main.3f2a9c1d0e8b7a6f.js", "node_modules/.bin/tsc",
                ".next/static/V1StGXR8_Z5jdHi6B-myT/_buildManifest.js"):
        assert not is_secret_path(rel), rel
