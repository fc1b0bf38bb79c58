"""Access rules: the `[auth]` section, token hashes, and what each role may do."""

from pathlib import Path

import pytest

from adapters.config import ConfigurationError, load_config
from adapters.http.access import ADMIN, Access, Permission, PrincipalConfig, Role, token_hash

ALICE = token_hash("alice-token")


def test_auth_principals_load_from_tandem_toml(tmp_path: Path) -> None:
    path = tmp_path / "tandem.toml"
    path.write_text(f'[[auth.principals]]\nname = "alice"\nroles = ["agent", "auditor"]\n'
                    f'token_sha256 = "{ALICE}"\n')
    principal = load_config(path).auth.principals[0]
    assert (principal.name, principal.roles) == ("alice", [Role.AGENT, Role.AUDITOR])


@pytest.mark.parametrize(("entry", "named"), [
    ('name = "a"\nroles = ["agent"]\ntoken_sha256 = "alice-token"', "auth.principals.0."
     "token_sha256: Value error, must be the 64 lower-case hex digits"),
    (f'name = "a"\nroles = ["boss"]\ntoken_sha256 = "{ALICE}"', "auth.principals.0.roles.0"),
    (f'name = "a"\nroles = []\ntoken_sha256 = "{ALICE}"', "auth.principals.0.roles"),
    (f'name = "a"\nroles = ["agent"]\ntoken = "x"\ntoken_sha256 = "{ALICE}"',
     "auth.principals.0.token"),
    (f'name = "a"\nroles = ["monitor", "agent"]\ntoken_sha256 = "{ALICE}"',
     "auth.principals.0.roles: Value error, the monitor role stands alone"),
])
def test_a_bad_principal_is_refused_naming_its_key(tmp_path: Path, entry: str,
                                                   named: str) -> None:
    path = tmp_path / "tandem.toml"
    path.write_text(f"[[auth.principals]]\n{entry}\n")
    with pytest.raises(ConfigurationError, match=named):
        load_config(path)


def test_two_principals_cannot_share_a_name_or_a_token(tmp_path: Path) -> None:
    path = tmp_path / "tandem.toml"
    path.write_text("".join(f'[[auth.principals]]\nname = "{name}"\nroles = ["agent"]\n'
                            f'token_sha256 = "{ALICE}"\n' for name in ("a", "b")))
    with pytest.raises(ConfigurationError, match="share one token"):
        load_config(path)


def test_a_token_maps_to_its_principal_and_an_unknown_one_to_none() -> None:
    access = Access([PrincipalConfig(name="alice", roles=[Role.AGENT], token_sha256=ALICE)],
                    admin_hashes=[token_hash("root")])
    alice, admin = access.principal("alice-token"), access.principal("root")
    assert alice is not None
    assert admin is not None
    assert (alice.name, admin.name) == ("alice", ADMIN)
    assert access.principal("alice-token ") is None
    assert access.principal("") is None


def test_the_auditor_reads_everything_and_changes_nothing() -> None:
    auditor = Access([PrincipalConfig(name="audrey", roles=[Role.AUDITOR], token_sha256=ALICE)],
                     admin_hashes=[]).principal("alice-token")
    assert auditor is not None
    readable = {p for p in Permission if p.value.startswith("read")}
    assert {p for p in Permission if auditor.may(p)} == readable
