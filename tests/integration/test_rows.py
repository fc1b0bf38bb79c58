"""`Rows`, the batch view projections write through: deletes, on both stores."""

from collections.abc import Callable

from projections.projection import Rows, Table
from projections.store import ReadStore

THINGS = Table(name="things", columns=(("id", "TEXT"), ("value", "TEXT")), key=("id",))


def test_deleted_rows_are_gone_whatever_the_batch_did_with_them_before_or_after(
        read_stores: Callable[[], ReadStore]) -> None:
    store = read_stores()
    with store.transaction() as cursor:
        cursor.execute(THINGS.create(1))
        earlier = Rows(THINGS, 1, cursor)
        for key in ("a", "b", "c"):
            earlier.add({"id": key, "value": "1"})
        earlier.flush()

    with store.transaction() as cursor:
        rows = Rows(THINGS, 1, cursor)
        rows.delete("a")  # an earlier batch's row
        rows.add({"id": "d", "value": "1"})
        rows.delete("d")  # added and deleted in the batch: never written
        rows.put({"id": "b", "value": "2"})
        rows.delete("b")  # changed, then deleted
        rows.delete("c")
        rows.put({"id": "c", "value": "3"})  # deleted, then written again (a reopening)
        assert (rows.get("a"), rows.get("c")) == (None, {"id": "c", "value": "3"})
        rows.flush()

    with store.reading() as cursor:
        cursor.execute(f"SELECT id, value FROM {THINGS.physical(1)} ORDER BY id")
        assert [tuple(row) for row in cursor.fetchall()] == [("c", "3")]
