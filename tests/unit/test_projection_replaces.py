"""Which serving generations an automatic refresh rebuilds: older ones, never newer ones."""

from adapters.config import TandemConfig
from projections.incidents import IncidentSummaries
from projections.sla_clocks import CODE_VERSION, DIGEST_SPACE, SlaClocks


def test_a_projection_replaces_only_an_older_version() -> None:
    incidents = IncidentSummaries()
    assert incidents.replaces(incidents.version - 1)
    assert not incidents.replaces(incidents.version)
    assert not incidents.replaces(incidents.version + 1)


def test_the_sla_clocks_replace_older_code_and_another_configuration_but_not_newer_code() -> None:
    sla = TandemConfig().sla
    clocks = SlaClocks(sla.rules(), config_digest=sla.digest)
    other_digest = (clocks.version + 1) % DIGEST_SPACE

    assert not clocks.replaces(clocks.version)
    assert clocks.replaces(CODE_VERSION * DIGEST_SPACE + other_digest)
    assert clocks.replaces((CODE_VERSION - 1) * DIGEST_SPACE + clocks.version % DIGEST_SPACE)
    assert not clocks.replaces((CODE_VERSION + 1) * DIGEST_SPACE + other_digest)
