"""Issue 12, item 8: sweeps through an executor — a process pool by default, a
``dask.distributed`` LocalCluster on this machine for programs that outgrow one —
with identical results whatever the executor."""

from __future__ import annotations

import pandas as pd
import pytest

import coachmatch
from coachmatch import Program, Scenario, audit, audit_schedule, compare, load_program
from coachmatch.datasets import synthetic
from tests.conftest import EXAMPLE

distributed = pytest.importorskip("distributed")


def twenty_scenarios(program: Program) -> list[Scenario]:
    """The questions program leaders ask, twenty of them."""
    sites = sorted({c.site_id for c in program.coaches})
    busiest = max(sites, key=lambda s: sum(c.site_id == s for c in program.coaches))
    leaving = [c.coach_id for c in program.coaches if c.site_id == busiest][:3]
    scenarios = [Scenario(f"caps {cap}", lambda p, cap=cap: p.with_caps(cap)) for cap in (4, 5, 6)]
    scenarios += [
        Scenario(f"prefer bonus {b}", lambda p, b=b: p.with_policy(prefer_bonus=b))
        for b in (0, 10, 30)
    ]
    scenarios += [
        Scenario("min load 1", lambda p: p.with_min_loads(1)),
        Scenario("committee recuse", lambda p: p.with_policy(not_own_decision="recuse")),
        Scenario("committee off", lambda p: p.with_policy(not_own_decision="off")),
        Scenario("supervisors allowed", lambda p: p.with_policy(no_supervisor=False)),
        Scenario("no continuity", lambda p: p.with_policy(keep_current=False)),
        Scenario("total fit", lambda p: p.with_policy(fairness="total")),
        Scenario("never virtual", lambda p: p.with_policy(virtual="never")),
        Scenario(f"3 leave {busiest}", lambda p: p.deactivate(*leaving)),
        Scenario("caps 3 (too few places)", lambda p: p.with_caps(3)),
        Scenario("meet when unable", lambda p: p.with_policy(must_meet=False)),
        Scenario("unmatched allowed", match_options={"allow_unmatched": True}),
        Scenario("caps 5, recuse", lambda p: p.with_caps(5).with_policy(not_own_decision="recuse")),
        Scenario("caps 6, no continuity", lambda p: p.with_caps(6).with_policy(keep_current=False)),
        Scenario("prefer 50, caps 5", lambda p: p.with_caps(5).with_policy(prefer_bonus=50)),
    ]
    assert len(scenarios) == 20
    return scenarios


@pytest.fixture(scope="module")
def client() -> object:
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    with distributed.Client(cluster) as connected:
        yield connected
    cluster.close()


def test_twenty_scenarios_on_a_local_cluster_and_a_process_pool_agree(client: object) -> None:
    program = load_program(EXAMPLE)
    scenarios = twenty_scenarios(program)
    on_cluster = compare(program, scenarios, executor=client.get_executor())  # type: ignore[attr-defined]
    pooled = compare(program, scenarios)
    pd.testing.assert_frame_equal(on_cluster.table, pooled.table)
    assert len(pooled.table) == 21
    assert pooled.table.loc["caps 3 (too few places)", "status"] == "infeasible"
    for name, matching in on_cluster.matchings.items():
        other = pooled.matchings[name]
        if matching is None:
            assert other is None
            continue
        assert other is not None
        pd.testing.assert_frame_equal(matching.pairs, other.pairs)
        allow = name == "unmatched allowed"
        assert audit(matching.program, matching.pairs, allow_unmatched=allow) == [], name


def test_a_schedule_on_a_local_cluster_is_the_schedule(client: object) -> None:
    program = synthetic("small")
    matching = coachmatch.match(program)
    on_cluster = coachmatch.schedule(program, matching, executor=client.get_executor())  # type: ignore[attr-defined]
    local = coachmatch.schedule(program, matching)
    pd.testing.assert_frame_equal(on_cluster.meetings, local.meetings)
    assert on_cluster.status == local.status
    assert audit_schedule(program, on_cluster.meetings) == []
