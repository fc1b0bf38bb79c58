"""`tandem token new`: the printed entry, appended to tandem.toml, admits the printed token."""

from pathlib import Path

from adapters.config import load_config
from adapters.http.access import Access, Permission, Role
from tests.e2e.conftest import Cli


def test_a_new_token_works_once_its_entry_is_in_tandem_toml(cli: Cli, tmp_path: Path) -> None:
    made = cli("token", "new", 'Dana "the" Agent', "--role", "agent", "--role", "auditor")
    assert made.code == 0
    token = made.err.strip().rsplit(" ", 1)[1]
    config = tmp_path / "tandem.toml"
    config.write_text(made.out)
    access = Access(load_config(config).auth.principals, admin_hashes=[])
    principal = access.principal(token)
    assert principal is not None
    assert (principal.name, principal.roles) == ('Dana "the" Agent',
                                                 frozenset({Role.AGENT, Role.AUDITOR}))
    assert token not in made.out


def test_a_monitor_token_may_post_alerts_and_nothing_else(cli: Cli, tmp_path: Path) -> None:
    made = cli("token", "new", "alertmanager-eu", "--role", "monitor")
    assert made.code == 0
    config = tmp_path / "tandem.toml"
    config.write_text(made.out)
    principal = Access(load_config(config).auth.principals, admin_hashes=[]).principal(
        made.err.strip().rsplit(" ", 1)[1])
    assert principal is not None
    assert [p for p in Permission if principal.may(p)] == [Permission.POST_ALERTS]
    assert "stands alone" in cli.refused("token", "new", "x", "--role", "monitor", "--role",
                                         "agent")


def test_a_role_that_does_not_exist_is_refused(cli: Cli) -> None:
    assert "boss" in cli.refused("token", "new", "dana", "--role", "boss")
    assert "NAME" in cli.refused("token", "new", " dana", "--role", "agent")
