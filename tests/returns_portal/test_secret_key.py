"""Production refuses any SECRET_KEY written in the code base; compose needs one of yours."""

import re
import secrets

import pytest
import yaml
from django.core.exceptions import ImproperlyConfigured

from returns_portal.secret_keys import check_secret_key
from tests.returns_portal.test_settings import ROOT, run_manage

# docker-compose.yml's fallback before it was removed: long, varied, and public.
OLD_COMPOSE_DEFAULT = "change-me-to-a-long-random-value-of-at-least-fifty-characters-0123456789"


def random_key() -> str:
    return secrets.token_urlsafe(64)


@pytest.mark.parametrize(
    "path",
    ["docs/deploy.md", ".env.example", "docker-compose.yml", "returns_portal/settings/base.py"],
)
def test_a_key_written_in_any_project_file_is_refused(tmp_path, path):
    key = random_key()
    (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / path).write_text(f"SECRET_KEY={key}\n")
    with pytest.raises(ImproperlyConfigured, match=re.escape(path)) as refused:
        check_secret_key(key, root=tmp_path)
    assert key not in str(refused.value), "the message never repeats the key"


@pytest.mark.parametrize("path", [".env", ".venv/lib/site.py", ".git/objects/ab", "media/x.txt"])
def test_the_operators_env_file_and_tool_directories_do_not_count(tmp_path, path):
    key = random_key()
    (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / path).write_text(f"SECRET_KEY={key}\n")
    check_secret_key(key, root=tmp_path)


def test_skipped_paths_such_as_media_root_do_not_count(tmp_path):
    key = random_key()
    (tmp_path / "uploads").mkdir()
    (tmp_path / "uploads" / "note.txt").write_text(key)
    with pytest.raises(ImproperlyConfigured):
        check_secret_key(key, root=tmp_path)
    check_secret_key(key, root=tmp_path, skip=[tmp_path / "uploads"])


@pytest.mark.parametrize("key", ["", "short", "a" * 80, "insecure-" + "k" * 60])
def test_short_or_uniform_keys_are_refused(tmp_path, key):
    with pytest.raises(ImproperlyConfigured, match="at least 50 characters"):
        check_secret_key(key, root=tmp_path)


def a_line_of_the_readme() -> str:
    """A long line of README.md: text anyone can read, used as a key."""
    for line in (ROOT / "README.md").read_text().splitlines():
        if len(line) >= 60 and len(set(line)) > 10:
            return line
    raise AssertionError("README.md has no long line")


@pytest.mark.parametrize(
    "key",
    [OLD_COMPOSE_DEFAULT, "insecure-local-development-key-change-me", a_line_of_the_readme()],
    ids=["old-compose-default", "local-default", "readme-line"],
)
def test_production_refuses_to_start_with_a_key_from_the_repository(key):
    result = run_manage("check", SECRET_KEY=key, ALLOWED_HOSTS="returns.example.com")
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY" in result.stderr


def test_production_refuses_a_public_fallback_key():
    result = run_manage(
        "check",
        SECRET_KEY=random_key(),
        SECRET_KEY_FALLBACKS=OLD_COMPOSE_DEFAULT,
        ALLOWED_HOSTS="returns.example.com",
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY_FALLBACKS" in result.stderr


def test_production_starts_with_a_fresh_random_key_and_fallback():
    result = run_manage(
        "check",
        SECRET_KEY=random_key(),
        SECRET_KEY_FALLBACKS=random_key(),
        ALLOWED_HOSTS="returns.example.com",
    )
    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_start_without_a_secret_key():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    app_services = [
        name
        for name, service in compose["services"].items()
        if "SECRET_KEY" in (service.get("environment") or {})
    ]
    assert {"web", "worker", "beat", "migrate"} <= set(app_services)
    for name in app_services:
        value = compose["services"][name]["environment"]["SECRET_KEY"]
        # ${VAR:?message}: compose stops with the message when VAR is unset or empty; no
        # default value anywhere.
        assert re.fullmatch(r"\$\{SECRET_KEY:\?[^}]+\}", value), (name, value)
