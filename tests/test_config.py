"""Settings: defaults, the TOML file, the environment and explicit overrides, in that order."""

from __future__ import annotations

from pathlib import Path

import pytest

from papertide.config import DEV_SECRET_KEY, ConfigError, Settings, load_settings

SECRET = "a-real-production-secret-of-some-length"


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "papertide.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults() -> None:
    settings = load_settings()
    assert settings.mode == "development"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.secret_key == DEV_SECRET_KEY
    assert settings.load_demo is True
    assert settings.data_dir == Path("papertide-data")


def test_production_refuses_the_default_secret_key() -> None:
    with pytest.raises(ConfigError, match="PAPERTIDE_SECRET_KEY") as error:
        load_settings(mode="production")
    assert "development default" in str(error.value)


def test_production_with_a_real_secret_key() -> None:
    settings = load_settings(mode="production", secret_key=SECRET)
    assert (settings.mode, settings.secret_key) == ("production", SECRET)


def test_short_secret_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERTIDE_SECRET_KEY", "short")
    with pytest.raises(ConfigError, match="PAPERTIDE_SECRET_KEY must be at least 16"):
        load_settings()


def test_toml_values_are_read(tmp_path: Path) -> None:
    path = _toml(
        tmp_path,
        f'port = 9001\nsite_name = "Lab papers"\nsecret_key = "{SECRET}"\n'
        'mode = "production"\nload_demo = false\n',
    )
    settings = load_settings(path)
    assert (settings.port, settings.site_name, settings.mode) == (9001, "Lab papers", "production")
    assert settings.load_demo is False


def test_environment_beats_file_and_overrides_beat_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _toml(tmp_path, 'port = 9001\nhost = "0.0.0.0"\nsite_name = "From file"\n')
    monkeypatch.setenv("PAPERTIDE_PORT", "9002")
    monkeypatch.setenv("PAPERTIDE_SITE_NAME", "From env")
    settings = load_settings(path, site_name="Explicit", host=None)
    assert settings.port == 9002  # environment over file
    assert settings.site_name == "Explicit"  # explicit over environment
    assert settings.host == "0.0.0.0"  # file, since None means "not given"


def test_unknown_key_in_toml_is_an_error(tmp_path: Path) -> None:
    path = _toml(tmp_path, "port = 9001\ndatabase = 'sqlite://'\n")
    with pytest.raises(ConfigError, match=r"unknown settings: \['database'\]"):
        load_settings(path)


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_settings(_toml(tmp_path, "port = = 3"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nowhere.toml")


def test_invalid_value_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="port"):
        load_settings(_toml(tmp_path, "port = 70000\n"))
    with pytest.raises(ConfigError, match="mode"):
        load_settings(mode="staging")


def test_resolved_database_url_defaults_into_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PAPERTIDE_DATABASE_URL", raising=False)  # set on a PostgreSQL run
    settings = load_settings(data_dir=tmp_path / "data")
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'data' / 'papertide.db'}"
    relative = Settings(data_dir=Path("rel"))
    assert relative.resolved_database_url == f"sqlite:///{Path('rel').resolve() / 'papertide.db'}"
    explicit = load_settings(data_dir=tmp_path, database_url="postgresql://db/papers")
    assert explicit.resolved_database_url == "postgresql://db/papers"


def test_settings_survive_the_trip_to_worker_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """`serve --workers N` hands settings to its workers as PAPERTIDE_* variables."""
    from papertide.config import Settings, settings_environment

    original = Settings(arxiv_categories=["cs.LG", "stat.ML"], port=8123, load_demo=False)
    for name, value in settings_environment(original).items():
        monkeypatch.setenv(name, value)
    assert Settings() == original


def test_a_claim_lease_shorter_than_one_message_is_refused() -> None:
    """Issue #10: a sender's lease must outlast its slowest message, or a second sender could
    take a message over while it is being sent."""
    with pytest.raises(ConfigError, match="PAPERTIDE_DIGEST_CLAIM_LEASE_S is 3 s") as refused:
        load_settings(digest_claim_lease_s=3, smtp_timeout_s=1, digest_max_per_second=0)
    assert "worst case of 19 s (9 SMTP steps x PAPERTIDE_SMTP_TIMEOUT_S 1 s" in str(refused.value)
    shortest = load_settings(digest_claim_lease_s=19, smtp_timeout_s=1, digest_max_per_second=0)
    assert shortest.claim_lease_s == 19


def test_the_default_claim_lease_covers_the_slowest_smtp_setup() -> None:
    plain = load_settings()  # 9 steps x 30 s + 4 threads / 100 per second + 10 s to record
    assert (plain.send_worst_case_s, plain.claim_lease_s) == (280.04, 300.0)
    secured = load_settings(smtp_security="starttls", smtp_username="digest")  # 12 + 4 steps
    assert secured.claim_lease_s == secured.send_worst_case_s == 16 * 30 + 0.04 + 10
    with pytest.raises(ConfigError, match="PAPERTIDE_DIGEST_CLAIM_LEASE_S is 300 s"):
        load_settings(smtp_security="starttls", smtp_username="digest", digest_claim_lease_s=300)


def test_the_ehlo_name_is_set_never_looked_up() -> None:
    assert load_settings().ehlo_name == "localhost"  # papertide@localhost
    assert load_settings(mail_from="Digest <news@Papers.Example.org>").ehlo_name == (
        "Papers.Example.org"
    )
    assert load_settings(mail_from="x@bücher.example").ehlo_name == "xn--bcher-kva.example"
    assert load_settings(smtp_local_hostname="mx1.example.org").ehlo_name == "mx1.example.org"
    assert load_settings(smtp_local_hostname="[192.0.2.1]").ehlo_name == "[192.0.2.1]"
    for bad in ("mx1.example.org\r\nRCPT TO:<x@y>", "two words", "-dash.example"):
        with pytest.raises(ConfigError, match="PAPERTIDE_SMTP_LOCAL_HOSTNAME"):
            load_settings(smtp_local_hostname=bad)
