"""stage(): grouping, the three modes, read-back of async outcomes, keying, fallback, timeout."""

from __future__ import annotations

import pytest

from zbsn.core.clock import OffsetClock
from zbsn.core.servicenow.errors import ServiceNowConfigError, ServiceNowStagingTimeout
from zbsn.core.servicenow.models import StagingRow, StagingStatus

from .fake_imports import FakeImports
from .fakes import FakeInstance, make_client

LABELS = {"stage_a": {"u_key": "Key", "u_cc": "Cost center"}, "stage_b": {"u_key": "Key"}}


def rows() -> list[StagingRow]:
    """Interleaved rows of two tables; the third carries an unknown cost center."""
    return [
        StagingRow(table="stage_a", values={"u_key": "A1", "u_cc": "CC1"}, source_ref="a1"),
        StagingRow(table="stage_b", values={"u_key": "B1"}, source_ref="b1"),
        StagingRow(table="stage_a", values={"u_key": "A2", "u_cc": "BAD"}, source_ref="a2"),
        StagingRow(table="stage_a", values={"u_key": "A3", "u_cc": "CC3"}, source_ref="a3"),
    ]


async def test_async_outcomes_are_read_back_and_mapped_to_their_rows() -> None:
    imports = FakeImports(async_polls_until_done=2)
    sleeps: list[float] = []
    async with make_client(FakeInstance(api=imports), labels=LABELS, batch_size=2, sleeps=sleeps) as client:
        outcomes = await client.stage(rows())
    assert [o.source_ref for o in outcomes] == ["a1", "b1", "a2", "a3"]
    assert [o.status for o in outcomes] == [
        StagingStatus.INSERTED,
        StagingStatus.INSERTED,
        StagingStatus.ERROR,
        StagingStatus.INSERTED,
    ]
    assert outcomes[2].message == "Cost center BAD not found"
    assert outcomes[2].target_sys_id is None
    assert outcomes[2].target_table is None
    assert outcomes[0].target_table == "target_a"
    assert outcomes[0].target_sys_id == f"tgt-{outcomes[0].staging_sys_id}"
    # stage_a went first (two batches, read back together), then stage_b; labels key the records
    paths = [path for path, _body in imports.posted]
    assert paths == ["/api/now/import/stage_a/insertMultiple"] * 2 + [
        "/api/now/import/stage_b/insertMultiple"
    ]
    assert imports.posted[0][1] == {
        "records": [{"Key": "A1", "Cost center": "CC1"}, {"Key": "A2", "Cost center": "BAD"}]
    }
    # stage_a: a wait before each poll, stretching by half; two counts still see pending rows, the third
    # sees none and the rows are read once; stage_b: done at its first count, then read
    assert sleeps == pytest.approx([0.05, 0.075, 0.1125, 0.05])
    assert imports.polls == 6
    assert client.request_count == 1 + 3 + 6  # token, three POSTs, four counts and two reads


async def stage_one_and_collect_polls(imports: FakeImports) -> list[dict[str, str]]:
    """Stage one row through `imports`, check it was inserted, and return each import-set poll's query."""
    fake = FakeInstance(api=imports)
    async with make_client(fake, labels=LABELS) as client:
        outcomes = await client.stage(rows()[:1])
    assert [o.status for o in outcomes] == [StagingStatus.INSERTED]
    queries = [dict(request.url.params) for request in fake.api_requests()]
    return [q for q in queries if q.get("sysparm_query", "").startswith("sys_import_set")]


async def test_rows_are_read_only_once_the_count_of_pending_rows_is_zero() -> None:
    polls = await stage_one_and_collect_polls(FakeImports(async_polls_until_done=3))
    counts, reads = polls[:-1], polls[-1]
    assert len(counts) == 4  # three see a pending row, the fourth none
    for count in counts:
        assert count["sysparm_limit"] == "1"
        assert count["sysparm_fields"] == "sys_id"
        assert "^sys_import_stateINloading,pending,processing" in count["sysparm_query"]
    assert "sys_import_state" not in reads["sysparm_query"]
    assert "sys_import_state" in reads["sysparm_fields"]


async def test_without_a_total_count_every_poll_reads_the_rows() -> None:
    polls = await stage_one_and_collect_polls(FakeImports(async_polls_until_done=2, total_count_header=False))
    # no count comes back, so each count is followed by a full read; the second read finds the row done
    assert [q["sysparm_fields"] == "sys_id" for q in polls] == [True, False] * 2


async def test_column_keying_sends_column_names() -> None:
    imports = FakeImports(async_polls_until_done=0)
    async with make_client(FakeInstance(api=imports), key_by="column") as client:
        await client.stage([StagingRow(table="stage_x", values={"u_any": "1"}, source_ref="x")])
    assert imports.posted[0][1] == {"records": [{"u_any": "1"}]}


async def test_a_column_without_a_label_is_refused_before_anything_is_sent() -> None:
    fake = FakeInstance(api=FakeImports())
    async with make_client(fake, labels=LABELS) as client:
        with pytest.raises(ServiceNowConfigError, match="u_unknown"):
            await client.stage([StagingRow(table="stage_a", values={"u_unknown": "1"}, source_ref="x")])
    assert fake.requests == []


async def test_sync_multiple_uses_the_per_row_results() -> None:
    imports = FakeImports(sync=True)
    async with make_client(FakeInstance(api=imports), labels=LABELS, stage_mode="sync_multiple") as client:
        outcomes = await client.stage(rows())
    assert [o.status for o in outcomes] == [
        StagingStatus.INSERTED,
        StagingStatus.INSERTED,
        StagingStatus.ERROR,
        StagingStatus.INSERTED,
    ]
    assert outcomes[2].message == "Cost center BAD not found"
    assert imports.polls == 0


async def test_sync_multiple_reads_back_when_the_table_answers_asynchronously() -> None:
    imports = FakeImports(sync=False, async_polls_until_done=0)
    async with make_client(FakeInstance(api=imports), labels=LABELS, stage_mode="sync_multiple") as client:
        outcomes = await client.stage(rows()[:1])
    assert outcomes[0].status is StagingStatus.INSERTED
    assert imports.polls == 2  # the count of pending rows (none), then the rows


async def test_single_mode_posts_column_names_row_by_row() -> None:
    imports = FakeImports()
    async with make_client(FakeInstance(api=imports), stage_mode="single") as client:
        outcomes = await client.stage(rows())
    assert [p for p, _ in imports.posted] == ["/api/now/import/stage_a"] * 3 + ["/api/now/import/stage_b"]
    assert imports.posted[0][1] == {"u_key": "A1", "u_cc": "CC1"}
    assert outcomes[2].status is StagingStatus.ERROR
    assert outcomes[2].staging_sys_id is not None
    assert outcomes[2].message == "Cost center BAD not found"
    assert outcomes[0].import_set == "ISET0010001"


async def test_insert_multiple_refused_falls_back_to_single_rows() -> None:
    imports = FakeImports(insert_multiple_status=404)
    async with make_client(FakeInstance(api=imports), labels=LABELS, batch_size=2) as client:
        outcomes = await client.stage(rows())
    assert [o.status for o in outcomes][2] is StagingStatus.ERROR
    paths = [p for p, _ in imports.posted]
    # one refused insertMultiple per table, then single rows only
    assert paths == [
        "/api/now/import/stage_a/insertMultiple",
        "/api/now/import/stage_a",
        "/api/now/import/stage_a",
        "/api/now/import/stage_a",
        "/api/now/import/stage_b/insertMultiple",
        "/api/now/import/stage_b",
    ]


async def test_rows_still_pending_at_the_timeout_are_not_reported_staged() -> None:
    clock = OffsetClock()
    imports = FakeImports(async_polls_until_done=10_000)
    client = make_client(FakeInstance(api=imports), clock=clock, labels=LABELS, poll_timeout_s=5)
    async with client:
        with pytest.raises(ServiceNowStagingTimeout) as caught:
            await client.stage(rows())
    assert caught.value.pending_refs == ["a1", "a2", "a3"]
    assert caught.value.known == []
    assert "NOT reported staged" in str(caught.value)


async def test_source_refs_must_be_distinct() -> None:
    async with make_client(FakeInstance()) as client:
        with pytest.raises(ValueError, match="source_ref"):
            await client.stage([rows()[0], rows()[0]])
