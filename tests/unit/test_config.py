"""tandem.toml loading: defaults without a file, clear errors naming the key with one."""

from pathlib import Path

import pytest

from adapters.bootstrap import Settings
from adapters.config import ConfigurationError, TandemConfig, load_config


def test_no_file_means_the_built_in_defaults() -> None:
    assert load_config(None) == TandemConfig()


def test_the_path_comes_from_tandem_config(tmp_path: Path) -> None:
    settings = Settings.from_environment({"TANDEM_CONFIG": str(tmp_path / "tandem.toml")})
    assert settings.config_path == tmp_path / "tandem.toml"
    assert Settings.from_environment({}).config_path is None


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"TANDEM_CONFIG: .*missing\.toml does not exist"):
        load_config(tmp_path / "missing.toml")


def test_broken_toml_is_refused_with_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "tandem.toml"
    path.write_text("[sla\n")
    with pytest.raises(ConfigurationError, match=r"tandem\.toml: not valid TOML"):
        load_config(path)


def test_an_unknown_section_is_named(tmp_path: Path) -> None:
    path = tmp_path / "tandem.toml"
    path.write_text("[slaa]\nx = 1\n")
    with pytest.raises(ConfigurationError, match="slaa: Extra inputs are not permitted"):
        load_config(path)
