"""Settings: arguments → environment → .env → defaults, validation, no secret in repr."""

from __future__ import annotations

import os

import pytest

import bt_explore
from bt_explore.errors import ConfigurationError
from bt_explore.settings import DEFAULT_API_URL, DEFAULT_AUTH_URL, ENV_VARS, Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No BOOKINGTIME_* variable and no .env from the developer's machine leaks in."""
    for var in ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)


def write_env(path, **values):
    path.write_text("".join(f"{ENV_VARS[k]}={v}\n" for k, v in values.items()))
    return path


def test_defaults():
    s = Settings(client_id="23abc")
    assert s.auth_url == DEFAULT_AUTH_URL == "https://auth.bookingtime.com/oauth/token"
    assert s.api_url == DEFAULT_API_URL == "https://api.bookingtime.com/module/v3/"
    assert s.locale == "en"
    assert s.timeout == (5.0, 30.0)
    assert s.client_secret == ""
    assert s.organization_id is None
    assert s.sources["locale"] == "default"


def test_argument_beats_environment_beats_env_file_beats_default(monkeypatch, tmp_path):
    write_env(tmp_path / ".env", client_id="23file", organization_id="f6file", locale="de")
    monkeypatch.setenv("BOOKINGTIME_CLIENT_ID", "23env")
    monkeypatch.setenv("BOOKINGTIME_ORGANIZATION_ID", "f6env")
    s = Settings(client_id="23arg")
    assert (s.client_id, s.organization_id, s.locale, s.auth_url) == (
        "23arg",
        "f6env",
        "de",
        DEFAULT_AUTH_URL,
    )
    assert s.sources["client_id"] == "argument"
    assert s.sources["organization_id"] == "environment"
    assert s.sources["locale"].endswith(".env")
    assert s.sources["auth_url"] == "default"


def test_env_file_is_read_without_touching_os_environ(tmp_path):
    env = write_env(tmp_path / "creds.env", client_id="23file", client_secret="s3cret")
    s = Settings(env_file=env)
    assert (s.client_id, s.client_secret) == ("23file", "s3cret")
    assert "BOOKINGTIME_CLIENT_ID" not in os.environ
    assert Settings(env_file=None).client_id is None
    assert Settings(env_file=tmp_path / "missing.env").client_id is None


def test_empty_secret_is_a_value_not_a_missing_one(monkeypatch, tmp_path):
    write_env(tmp_path / ".env", client_id="23file", client_secret="from-file")
    monkeypatch.setenv("BOOKINGTIME_CLIENT_SECRET", "")
    assert Settings().client_secret == ""
    monkeypatch.setenv("BOOKINGTIME_CLIENT_SECRET", "from-env")
    assert Settings(client_secret="").client_secret == ""
    assert Settings().client_secret == "from-env"


def test_empty_values_elsewhere_fall_through(monkeypatch, tmp_path):
    write_env(tmp_path / ".env", locale="de")
    monkeypatch.setenv("BOOKINGTIME_LOCALE", "")
    assert Settings().locale == "de"


def test_missing_client_id_names_argument_and_variable():
    s = Settings()
    assert s.client_id is None  # constructing is fine: connect() falls back to the sandbox
    with pytest.raises(ConfigurationError) as info:
        s.require()
    assert "client_id" in str(info.value)
    assert "BOOKINGTIME_CLIENT_ID" in str(info.value)


def test_missing_organization_names_argument_and_variable():
    with pytest.raises(ConfigurationError, match="organization_id.*BOOKINGTIME_ORGANIZATION_ID"):
        Settings(client_id="23abc").require_organization()
    assert Settings(client_id="23abc").require_organization("f6x") == "f6x"


@pytest.mark.parametrize(
    "field,value",
    [("auth_url", "auth.bookingtime.com/oauth/token"), ("api_url", "ftp://x/"), ("api_url", "x")],
)
def test_bad_urls_are_refused_naming_the_setting(field, value):
    with pytest.raises(ConfigurationError, match=field):
        Settings(client_id="23abc", **{field: value})


def test_bad_url_from_environment_names_the_variable(monkeypatch):
    monkeypatch.setenv("BOOKINGTIME_API_URL", "not a url")
    with pytest.raises(ConfigurationError, match="BOOKINGTIME_API_URL"):
        Settings()


def test_api_url_gets_a_trailing_slash():
    assert (
        Settings(api_url="http://127.0.0.1:9/module/v3").api_url == "http://127.0.0.1:9/module/v3/"
    )


@pytest.mark.parametrize("locale", ["en", "de", "de_DE", "en_EN"])
def test_good_locales(locale):
    assert Settings(locale=locale).locale == locale


@pytest.mark.parametrize("locale", ["english", "EN", "de-DE", "d"])
def test_bad_locales(locale):
    with pytest.raises(ConfigurationError, match="locale"):
        Settings(locale=locale)


@pytest.mark.parametrize(
    "raw,expected",
    [(10, (10.0, 10.0)), ("7", (7.0, 7.0)), ("3, 20", (3.0, 20.0)), ((1, 2.5), (1.0, 2.5))],
)
def test_timeouts(raw, expected):
    assert Settings(timeout=raw).timeout == expected


def test_timeout_from_environment(monkeypatch):
    monkeypatch.setenv("BOOKINGTIME_TIMEOUT", "2,9")
    assert Settings().timeout == (2.0, 9.0)
    monkeypatch.setenv("BOOKINGTIME_TIMEOUT", "soon")
    with pytest.raises(ConfigurationError, match="BOOKINGTIME_TIMEOUT"):
        Settings()


@pytest.mark.parametrize("raw", [0, -1, "1,2,3", (1, 2, 3), "a,b"])
def test_bad_timeouts(raw):
    with pytest.raises(ConfigurationError, match="timeout"):
        Settings(timeout=raw)


def test_repr_hides_the_secret():
    s = Settings(client_id="23abc", client_secret="hunter2-very-secret")
    assert "hunter2" not in repr(s)
    assert "hunter2" not in str(s.as_dict())
    assert "client_secret='***'" in repr(s)


def test_read_only_and_replace():
    s = Settings(client_id="23abc", client_secret="sec", organization_id="f6a")
    with pytest.raises(AttributeError, match="replace"):
        s.locale = "de"
    t = s.replace(organization_id="f6b", locale="de")
    assert (t.organization_id, t.locale, t.client_secret) == ("f6b", "de", "sec")
    assert s.organization_id == "f6a"
    assert t != s and s == s.replace()
    with pytest.raises(TypeError, match="colour"):
        s.replace(colour="red")


def test_a_parent_folder_s_env_file_is_never_read(tmp_path, monkeypatch):
    """A .env somewhere above must not silently turn an offline run live."""
    (tmp_path / ".env").write_text("BOOKINGTIME_CLIENT_ID=23fromparentenvfile\n")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    assert Settings().client_id is None
    assert Settings(env_file="../.env").client_id == "23fromparentenvfile"  # said explicitly
    assert Settings(env_file=tmp_path / ".env").client_id == "23fromparentenvfile"


# -- one table of configuration -----------------------------------------------------------------


def _variable_literals() -> dict[str, set[str]]:
    """Every ``BOOKINGTIME_*`` / ``BT_EXPLORE_*`` name written as a string in the package ->
    the modules that write it."""
    import ast
    import re
    from pathlib import Path

    package = Path(bt_explore.__file__).parent
    found: dict[str, set[str]] = {}
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if re.fullmatch(r"(BOOKINGTIME|BT_EXPLORE)_[A-Z_]+", node.value):
                    found.setdefault(node.value, set()).add(path.name)
    return found


def test_every_environment_variable_the_package_names_is_in_the_table():
    from bt_explore.settings import VARIABLES

    assert set(_variable_literals()) == set(VARIABLES)


def test_an_undeclared_variable_cannot_be_read():
    from bt_explore.settings import env

    with pytest.raises(ValueError, match="BT_EXPLORE_MOOD is not one of"):
        env("BT_EXPLORE_MOOD")


def test_settings_read_exactly_the_table_s_bookingtime_variables(monkeypatch):
    from bt_explore.settings import ENV_VARS, VARIABLES

    assert set(ENV_VARS.values()) == {n for n in VARIABLES if n.startswith("BOOKINGTIME_")}
    monkeypatch.setenv("BOOKINGTIME_LOCALE", "de")
    monkeypatch.setenv("BOOKINGTIME_TIMEOUT", "2,9")
    s = Settings(client_id="23x", env_file=None)
    assert (s.locale, s.timeout, s.sources["locale"]) == ("de", (2.0, 9.0), "environment")


def test_the_docs_list_of_variables_is_generated_from_the_table():
    from _docs import block, read

    from bt_explore.settings import variables_markdown

    assert block(read("client"), "variables").lstrip("\n") == variables_markdown(), (
        "docs/client.md's environment variables are out of date: "
        "run `python -m tools.variables_table --write-docs`"
    )
