"""The [alerts] and [recurrence] sections of tandem.toml: defaults, overrides, errors."""

from datetime import timedelta
from pathlib import Path

import pytest

from adapters.config import ConfigurationError, load_config


def test_defaults_without_a_file() -> None:
    config = load_config(None)
    rules = config.alerts.rules()
    assert rules.reopen_window == timedelta(hours=1)
    assert (rules.levels("CRITICAL").impact, rules.levels("critical").urgency) == (1, 1)
    assert (rules.levels("page").impact, rules.levels("page").urgency) == (3, 2)
    assert config.recurrence.problem_candidates is True
    assert [(t.incidents, t.within_hours) for t in config.recurrence.thresholds] == [
        (3, 168), (5, 24)]


def test_a_file_overrides_the_sections(tmp_path: Path) -> None:
    path = tmp_path / "tandem.toml"
    path.write_text("""
[alerts]
reopen_window_minutes = 15
flush_interval_seconds = 2.5

[alerts.severities]
Page = { impact = 1, urgency = 2 }

[recurrence]
problem_candidates = false
thresholds = [{ incidents = 4, within_hours = 12 }]
""")
    config = load_config(path)
    rules = config.alerts.rules()
    assert rules.reopen_window == timedelta(minutes=15)
    assert config.alerts.flush_interval_seconds == 2.5
    assert (rules.levels("page").impact, rules.levels("page").urgency) == (1, 2)
    assert rules.levels("critical") == rules.unknown_severity  # the table was replaced
    assert config.recurrence.problem_candidates is False


@pytest.mark.parametrize(("toml", "key"), [
    ("[alerts.severities]\npage = { impact = 4, urgency = 1 }", "alerts.severities.page.impact"),
    ("[alerts]\nreopen_window_minutes = 0", "alerts.reopen_window_minutes"),
    ("[alerts]\nflush_every = 3", "alerts.flush_every"),
    ("[recurrence]\nthresholds = [{ incidents = 1, within_hours = 24 }]",
     "recurrence.thresholds.0.incidents"),
])
def test_a_bad_setting_is_refused_naming_its_key(tmp_path: Path, toml: str, key: str) -> None:
    path = tmp_path / "tandem.toml"
    path.write_text(toml)
    with pytest.raises(ConfigurationError, match=rf"{key}: "):
        load_config(path)
