"""If-Match and page cursors: what the API accepts, and the field it names when it does not."""

import pytest
from starlette.requests import Request

from adapters.http import paging
from adapters.http.commands import etag, expected_version
from adapters.http.errors import ApiError


def _request(if_match: str | None) -> Request:
    headers = [(b"if-match", if_match.encode())] if if_match is not None else []
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers})


@pytest.mark.parametrize(("header", "version"), [
    ('"7"', 7), ("7", 7), ('W/"7"', 7), (' "12" ', 12), (None, None), ("*", None)])
def test_if_match_takes_the_etag_quoted_or_bare(header: str | None,
                                                version: int | None) -> None:
    assert expected_version(_request(header)) == version


@pytest.mark.parametrize("header", ['"7", "8"', "seven", '"-1"', '""', "7.0"])
def test_anything_else_in_if_match_is_refused_naming_the_header(header: str) -> None:
    with pytest.raises(ApiError) as refused:
        expected_version(_request(header))
    assert (refused.value.status, refused.value.field) == (422, "If-Match")


def test_an_etag_is_the_quoted_version() -> None:
    assert etag(3) == '"3"'
    assert expected_version(_request(etag(3))) == 3


def test_a_cursor_round_trips_its_key_and_a_forged_one_is_refused() -> None:
    key = ("P1", 0, "2026-03-02T10:00:00Z", "2026-03-01T09:00:00Z", "INC0000042")
    cursor = paging.encode(key)
    assert cursor is not None
    assert paging.decode(cursor) == key
    assert paging.encode(None) is None
    for forged in ("%%%", "bnVsbA", "W10", "W3RydWVd"):  # junk, null, [], [true]
        with pytest.raises(ApiError) as refused:
            paging.decode(forged)
        assert refused.value.field == "cursor"
