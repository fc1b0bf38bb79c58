"""Known-error suggestions for an incident: ranked by symptom similarity and service match."""

from typing import Any

from rapidfuzz import fuzz, utils

from projections import queries
from projections.fingerprint import fingerprint
from projections.store import ReadStore

SERVICE_WEIGHT = 20.0
"""Points for a known error recorded on the incident's own service; similarity gives 0-80."""
MINIMUM_SCORE = 25.0
LIMIT = 5


def suggestions(store: ReadStore, *, service: str, text: str,
                limit: int = LIMIT) -> list[dict[str, Any]]:
    """Active known errors for an incident (its title and description in `text`), best first.

    Both texts are compared as fingerprints (numbers, hosts, ids masked, as for recurrence),
    with rapidfuzz's WRatio; a known error on the same service gains SERVICE_WEIGHT.
    """
    symptom = fingerprint(text)
    ranked = []
    for row in queries.known_errors(store):
        similarity = fuzz.WRatio(symptom, fingerprint(row["symptom"]),
                                 processor=utils.default_process)
        same_service = row["service"] == service
        score = round(similarity * (100 - SERVICE_WEIGHT) / 100
                      + (SERVICE_WEIGHT if same_service else 0.0), 1)
        if score >= MINIMUM_SCORE:
            ranked.append({"problem": row["number"], "score": score,
                           "similarity": round(similarity, 1), "same_service": same_service,
                           "service": row["service"], "symptom": row["symptom"],
                           "workaround": row["workaround"], "root_cause": row["root_cause"]})
    ranked.sort(key=lambda s: (-s["score"], s["problem"]))
    return ranked[:limit]
