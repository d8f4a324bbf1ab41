"""Issue 12: what-if analysis — editing programs, scenarios, diffs, re-matching,
explanations as data, names in tables, plots and Excel."""

from __future__ import annotations

import warnings
from datetime import date
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import coachmatch
from coachmatch import (
    Answer,
    AvailabilityWindow,
    Coach,
    InfeasibleError,
    Program,
    ProgramError,
    ProgramWarning,
    Request,
    Resident,
    Scenario,
    Site,
    audit,
    compare,
    load_program,
    match,
    rematch,
)
from coachmatch.constraints import exclusions
from coachmatch.datasets import synthetic
from coachmatch.io.excel import to_excel
from coachmatch.plotting import (
    plot_affinity,
    plot_caseloads,
    plot_comparison,
    plot_meetings,
    plot_travel,
)
from coachmatch.scenarios import InlineExecutor
from tests.conftest import EXAMPLE

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def example() -> Program:
    return load_program(EXAMPLE)


@pytest.fixture(scope="module")
def small() -> Program:
    return synthetic("small")


def _said(action: object) -> tuple[object, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = action()  # type: ignore[operator]
    return result, [str(w.message) for w in caught if issubclass(w.category, ProgramWarning)]


# -- editing ------------------------------------------------------------------


def test_with_caps_sets_every_coach_and_leaves_the_original(example: Program) -> None:
    own = [c for c in example.coaches if c.capacity is not None]
    assert own, "the example has coaches with a cap of their own"
    capped = example.with_caps(3)
    assert {capped.capacity(c) for c in capped.coaches} == {3}
    assert capped.policy.max_caseload == 3
    assert [c.capacity for c in example.coaches if c.capacity is not None] == [
        c.capacity for c in own
    ]
    some = example.with_caps(6, coaches=[own[0].coach_id])
    assert some.capacity(some.coaches[some.index.coach[own[0].coach_id]]) == 6
    assert some.policy == example.policy
    loaded = example.with_min_loads(1)
    assert {loaded.min_load(c) for c in loaded.coaches} == {1}
    with pytest.raises(ValueError, match="The 'cap' parameter must be an int"):
        example.with_caps(-1)
    with pytest.raises(KeyError, match=r"unknown coach 'C001'; did you mean 'C\d+'"):
        example.with_caps(3, coaches=["C001"])


def test_a_shadowed_policy_default_is_said(example: Program, small: Program) -> None:
    edited, said = _said(lambda: example.with_policy(max_caseload=3))
    assert isinstance(edited, Program)
    assert len(said) == 1
    shadowed = sum(c.capacity is not None for c in example.coaches if c.active)
    assert f"{shadowed} coaches keep theirs" in said[0] and "with_caps(3)" in said[0]
    # a coach still above 3: exactly what the warning warns about
    assert max(edited.capacity(c) for c in edited.coaches if c.active) > 3
    _, quiet = _said(lambda: small.with_policy(cadence_days=(35, 49)))
    assert quiet == []


def test_a_misspelt_policy_key_gets_did_you_mean(example: Program) -> None:
    with pytest.raises(ProgramError) as error:
        example.with_policy(max_caseloads=5, keep_curent=False)
    text = str(error.value)
    assert "did you mean 'max_caseload'?" in text and "did you mean 'keep_current'?" in text
    with pytest.raises(ProgramError, match="max_caseload"):
        example.with_policy(max_caseload="many")


def test_adding_coaches_with_and_without_survey_and_availability(example: Program) -> None:
    site = "sunnybrook"
    new = pd.DataFrame(
        {
            "coach_id": ["N1", "N2", "N3"],
            "name": ["Dr. New One", "Dr. New Two", "Dr. New Three"],
            "site_id": [site] * 3,
            "capacity": [4, 4, 4],
        }
    )
    bare, said = _said(lambda: example.add_coaches(new))
    assert isinstance(bare, Program)
    assert len(bare.coaches) == len(example.coaches) + 3
    assert any("3 added coaches answered no survey question (N1, N2, N3)" in s for s in said)
    assert any("have no availability windows (N1, N2, N3)" in s for s in said)
    survey = pd.DataFrame(
        {
            "person_id": ["N1", "N2", "N3"],
            "question_id": ["career"] * 3,
            "answer": ["research", "education", "research;education"],
        }
    )
    availability = pd.DataFrame(
        {
            "person_id": ["N1", "N2", "N3"],
            "weekday": ["tue"] * 3,
            "start": ["08:00"] * 3,
            "end": ["17:00"] * 3,
        }
    )
    full, said = _said(lambda: example.add_coaches(new, survey=survey, availability=availability))
    assert said == []
    assert isinstance(full, Program)
    assert {a.person_id for a in full.survey} >= {"N1", "N2", "N3"}
    assert len(example.coaches) == 55  # the original is untouched
    matched = match(full)
    assert matched.caseloads.set_index("coach_id").loc[["N1", "N2", "N3"], "caseload"].sum() > 0


def test_added_rows_are_located_by_frame_row_and_column(example: Program) -> None:
    new = pd.DataFrame(
        {
            "coach_id": ["N1", "N2", "C0001"],
            "name": ["Dr. A", "Dr. B", "Dr. C"],
            "site_id": ["nowhere", "sunnybrook", "tgh"],
            "capacity": [4, -1, 2],
        }
    )
    with pytest.raises(ProgramError) as error:
        example.add_coaches(new)
    text = str(error.value)
    assert "added coaches row 1, column site_id: unknown site 'nowhere'" in text
    assert "added coaches row 2, column capacity" in text
    assert "added coaches row 3, column coach_id: duplicate coach_id 'C0001'" in text
    with pytest.raises(TypeError, match="did you mean 'coaches'"):
        example.extend(coachs=new)


def test_residents_added_deactivated_and_rotations_changed(example: Program) -> None:
    new = pd.DataFrame({"resident_id": ["RN1"], "name": ["Pat New"], "program": ["psychiatry"]})
    added, said = _said(lambda: example.add_residents(new))
    assert isinstance(added, Program)
    assert any("answered no survey question (RN1)" in s for s in said)
    assert match(added).coach_of("RN1") is not None
    coach = example.coaches[0].coach_id
    resident = example.residents[0].resident_id
    off = example.deactivate(coach, resident)
    assert not off.coaches[0].active and not off.residents[0].active
    assert match(off).coach_of(resident) is None
    with pytest.raises(KeyError, match=r"unknown coach or resident 'R001'; did you mean 'R\d+'"):
        example.deactivate("R001")
    first = next(r for r in example.rotations if r.resident_id == resident)
    elsewhere = next(s.site_id for s in example.sites if s.site_id != first.site_id)
    moved = pd.DataFrame(
        {
            "resident_id": [resident],
            "start": [example.start.isoformat()],
            "end": [example.end.isoformat()],
            "site_id": [elsewhere],
            "service": ["Outpatient"],
        }
    )
    changed = example.with_rotations(moved)
    mine = [r for r in changed.rotations if r.resident_id == resident]
    assert [(r.site_id, r.start, r.end) for r in mine] == [(elsewhere, example.start, example.end)]
    others = [r for r in example.rotations if r.resident_id != resident]
    assert [r for r in changed.rotations if r.resident_id != resident] == others
    asks = pd.DataFrame({"resident_id": [resident], "kind": ["change"], "reason": ["fresh"]})
    assert example.add_requests(asks).requests[-1].kind == "change"


# -- scenarios --------------------------------------------------------------


def _scenarios() -> list[Scenario]:
    return [
        Scenario("caps 3", lambda p: p.with_caps(3)),
        Scenario("caps 5", lambda p: p.with_caps(5)),
        Scenario("recuse", lambda p: p.with_policy(not_own_decision="recuse")),
        Scenario("no continuity", lambda p: p.with_policy(keep_current=False)),
    ]


def test_compare_gives_a_row_per_scenario_and_is_truthful(example: Program) -> None:
    result = compare(example, _scenarios(), executor=InlineExecutor())
    table = result.table
    assert table.index.tolist() == ["baseline", "caps 3", "caps 5", "recuse", "no continuity"]
    assert table.loc["baseline", "changed"] == 0
    # caps of 3 cannot hold 190 residents with 55 coaches: said, not hidden
    assert table.loc["caps 3", "status"] == "infeasible"
    assert "short of the 190 active residents" in table.loc["caps 3", "note"]
    assert pd.isna(table.loc["caps 3", "kept"]) and result.matchings["caps 3"] is None
    base = result.matchings["baseline"]
    for name in ("caps 5", "recuse", "no continuity"):
        matching = result.matchings[name]
        assert matching is not None
        assert audit(matching.program, matching.pairs) == []
        assert table.loc[name, "changed"] == len(matching.diff(base))
        assert table.loc[name, "kept"] == matching.levels["continuity"]
        answered = matching.program.respondents()
        fit = matching.pairs[matching.pairs["resident_id"].isin(answered)]["affinity"]
        assert table.loc[name, "min_affinity"] == fit.min()
        assert table.loc[name, "below_40"] == int((fit < 40).sum())
    assert table.loc["caps 5", "caseload_max"] <= 5
    assert table.loc["no continuity", "mean_affinity"] >= table.loc["baseline", "mean_affinity"]
    html = result._repr_html_()
    assert "<table" in html and "caps 3: total capacity" in html
    with pytest.raises(ValueError, match="repeated: caps 5"):
        compare(example, [*_scenarios(), Scenario("caps 5")])


def test_compare_with_schedules_counts_travel_and_unplanned(small: Program) -> None:
    result = compare(
        small,
        [
            Scenario("cadence 35-49", lambda p: p.with_policy(cadence_days=(35, 49))),
            Scenario("virtual only", lambda p: p.with_policy(virtual="only")),
        ],
        schedule=True,
        executor=InlineExecutor(),
    )
    table = result.table
    for name in ("baseline", "cadence 35-49"):
        plan = result.schedules[name]
        assert plan is not None
        assert table.loc[name, "schedule_status"] == plan.status
        assert table.loc[name, "travel_total"] == plan.travel_total
        assert table.loc[name, "unplanned_pairs"] == len(plan.unplanned)
        assert table.loc[name, "meetings"] == len(plan.scheduled)
    assert table.loc["cadence 35-49", "meetings"] > table.loc["baseline", "meetings"]
    # coaches who do not meet virtually cannot coach anyone: no matching, no schedule
    assert table.loc["virtual only", "status"] == "infeasible"
    assert result.schedules["virtual only"] is None
    assert pd.isna(table.loc["virtual only", "travel_total"])


def test_the_executor_does_not_change_the_results(example: Program) -> None:
    inline = compare(example, _scenarios(), executor=InlineExecutor()).table
    pooled = compare(example, _scenarios()).table  # the default process pool
    pd.testing.assert_frame_equal(inline, pooled)


# -- diffs and re-matching ---------------------------------------------------


def test_rematch_moves_only_the_named_resident(example: Program) -> None:
    first = match(example)
    resident = "R0012"
    again = rematch(example, first, residents=[resident], reason="wants a fresh start")
    assert again.kept_others
    assert again.changes["resident_id"].tolist() == [resident]
    row = again.changes.iloc[0]
    assert row["from_coach_id"] == first.coach_of(resident) != row["to_coach_id"]
    assert row["reason"] == "asked for a new coach (wants a fresh start)"
    names = {c.coach_id: c.name for c in example.coaches}
    assert row["to_coach_name"] == names[row["to_coach_id"]]
    new = again.matching
    assert audit(new.program, new.pairs) == []
    kept = first.pairs[first.pairs["resident_id"] != resident][["resident_id", "coach_id"]]
    after = new.pairs[new.pairs["resident_id"] != resident][["resident_id", "coach_id"]]
    pd.testing.assert_frame_equal(kept.reset_index(drop=True), after.reset_index(drop=True))
    with pytest.raises(KeyError, match=r"unknown resident 'R012'; did you mean 'R\d+'"):
        rematch(example, first, residents=["R012"])


def test_rematch_after_a_coach_leaves(example: Program) -> None:
    first = match(example)
    coach = str(first.pairs["coach_id"].iloc[0])
    coachees = set(first.pairs[first.pairs["coach_id"] == coach]["resident_id"])
    again = rematch(example, first, coaches=[coach])
    assert again.kept_others
    assert set(again.changes["resident_id"]) == coachees
    assert set(again.changes["reason"]) == {f"{coach} left (inactive)"}
    assert coach not in set(again.matching.pairs["coach_id"])


def test_rematch_when_every_other_pair_cannot_stay() -> None:
    # two coaches, both full: a resident who wants a change needs someone to swap
    program = Program(
        name="Two full coaches",
        timezone="America/Toronto",
        start=date(2026, 7, 1),
        end=date(2027, 6, 30),
        sites=[Site(site_id="tgh", name="Toronto General")],
        coaches=[
            Coach(coach_id=c, name=f"Dr. {c}", site_id="tgh", capacity=2) for c in ("C1", "C2")
        ],
        residents=[Resident(resident_id=f"R{k}", name=f"Res {k}") for k in range(1, 5)],
    )
    first = match(program)
    resident = "R1"
    again = rematch(program, first, residents=[resident])
    assert not again.kept_others
    moved = again.changes.set_index("resident_id")
    assert resident in moved.index and len(moved) == 2
    other = next(r for r in moved.index if r != resident)
    assert moved.loc[other, "reason"].startswith("moved to make room")
    assert audit(again.matching.program, again.matching.pairs) == []
    # with one coach left, four residents cannot fit two places however they move
    with pytest.raises(InfeasibleError):
        rematch(program, first, coaches=["C2"])


def test_diff_names_arrivals_and_departures(small: Program) -> None:
    first = match(small)
    gone = small.residents[0].resident_id
    arrival = coachmatch.Resident(
        resident_id="RX", name="Xi New", program=small.residents[1].program
    )
    later, _ = _said(lambda: small.deactivate(gone).add_residents([arrival]))
    assert isinstance(later, Program)
    table = match(later).diff(first).set_index("resident_id")
    assert table.loc[gone, "to_coach_id"] == "" and table.loc[gone, "reason"] == "no longer active"
    assert table.loc["RX", "from_coach_id"] == "" and table.loc["RX", "reason"] == "new resident"
    assert table.loc["RX", "resident_name"] == "Xi New"


# -- explanations as data ------------------------------------------------------


def test_explain_frame_agrees_with_the_rules_and_the_affinity(example: Program) -> None:
    matching = match(example)
    resident = "R0012"
    frame = matching.explain_frame(resident)
    assert len(frame) == len(example.coaches)
    assert frame["chosen"].iloc[0] and frame["coach_id"].iloc[0] == matching.coach_of(resident)
    for row in frame.itertuples(index=False):
        reasons = exclusions(example, resident, row.coach_id)
        assert row.allowed == (not reasons), row.coach_id
        assert bool(row.reason) == bool(reasons)
    # the similarities and weights reproduce each allowed coach's affinity (SPEC §3)
    weights = frame.attrs["weights"]
    columns = [f"similarity:{q}" for q in weights]
    w = np.array(list(weights.values()))
    expected = np.floor(100 * (frame[columns].to_numpy() @ w) / w.sum() + 0.5 + 1e-9)
    preferred = {q.coach_id for q in example.requests if q.resident_id == resident}
    plain = ~frame["coach_id"].isin(preferred)
    assert (frame.loc[plain, "affinity"].to_numpy() == expected[plain.to_numpy()]).all()
    chosen = frame["affinity"].iloc[0]
    assert (frame["versus_chosen"] == frame["affinity"] - chosen).all()
    text = matching.explain(resident)
    excluded = frame[frame["reason"] != ""]
    assert f"  {excluded['coach_id'].iloc[0]}: excluded — {excluded['reason'].iloc[0]}" in text


def test_low_fit_lists_causes(example: Program) -> None:
    matching = match(example)
    table = matching.low_fit()
    silent = {r.resident_id for r in example.residents if r.active} - example.respondents()
    listed = set(table["resident_id"])
    assert silent <= listed
    for row in table.itertuples(index=False):
        if row.resident_id in silent:
            assert row.cause.startswith("answered no survey question")
        else:
            assert row.best_affinity - row.affinity >= 25
            assert row.cause, row.resident_id
    kept = table[table["cause"].str.startswith("kept their current coach")]
    assert len(kept)
    pairs = matching.pairs.set_index("resident_id")
    assert pairs.loc[kept["resident_id"], "kept"].all()


def test_tables_carry_names_and_sites(small: Program) -> None:
    matching = match(small)
    coaches = {c.coach_id: c for c in small.coaches}
    for row in matching.pairs.itertuples(index=False):
        assert row.coach_name == coaches[row.coach_id].name
        assert row.site_id == coaches[row.coach_id].site_id


# -- plots and Excel -------------------------------------------------------------


def test_plots_draw_what_the_results_hold(small: Program) -> None:
    matching = match(small)
    plan = coachmatch.schedule(small, matching)
    ax = plot_caseloads(matching, ax=Figure().subplots())
    counts = matching.caseloads["caseload"].value_counts()
    assert [p.get_height() for p in ax.patches] == [
        counts.get(k, 0) for k in range(len(ax.patches))
    ]
    assert sum(p.get_height() for p in plot_affinity(matching).patches) == len(matching.pairs)
    per_site = plot_travel(plan, by="site")
    assert sum(p.get_height() for p in per_site.patches) == plan.travel_total
    months = plot_meetings(plan)
    assert sum(p.get_height() for p in months.patches) == len(plan.scheduled)
    assert len(months.patches) == 12
    comparison = compare(
        small, [Scenario("caps 2", lambda p: p.with_caps(2))], executor=InlineExecutor()
    )
    bars = plot_comparison(comparison, "kept").patches
    assert [p.get_width() for p in bars] == [
        0.0 if pd.isna(v) else float(v) for v in comparison.table["kept"]
    ]
    with pytest.raises(KeyError, match="did you mean 'kept'"):
        plot_comparison(comparison, "kep")
    with pytest.raises(ValueError, match="'by' parameter"):
        plot_travel(plan, by="coach")  # type: ignore[arg-type]


def test_excel_workbook_of_a_run(small: Program, tmp_path: Path) -> None:
    pytest.importorskip("openpyxl")
    named = small.replace(
        residents=(
            small.residents[0].model_copy(update={"name": '=HYPERLINK("http://x")'}),
            *small.residents[1:],
        )
    )
    matching = match(named)
    plan = coachmatch.schedule(named, matching)
    book = to_excel(tmp_path / "run.xlsx", matching, plan)
    sheets = pd.read_excel(book, sheet_name=None)
    assert {"pairs", "caseloads", "meetings", "per_coach", "per_pair", "unplanned"} <= set(sheets)
    assert len(sheets["meetings"]) == len(plan.meetings)
    # openpyxl would store a text starting with "=" as a formula: neutralized as in CSVs
    assert '\'=HYPERLINK("http://x")' in set(sheets["pairs"]["resident_name"])
    assert [p.name for p in tmp_path.iterdir()] == ["run.xlsx"]


def test_a_coach_row_model_can_be_added(small: Program) -> None:
    coach = Coach(coach_id="CN", name="Dr. N", site_id=small.sites[0].site_id)
    answer = Answer(person_id="CN", question_id=small.questions[0].question_id, answer="x")
    window = AvailabilityWindow(person_id="CN", weekday="mon", start="09:00", end="12:00")
    bigger, said = _said(lambda: small.add_coaches([coach], survey=[answer], availability=[window]))
    assert isinstance(bigger, Program) and said == []
    assert bigger.coaches[-1] == coach
    with pytest.raises(TypeError, match="must all be Coach"):
        small.add_coaches([coach, Request(resident_id="R0001", kind="change")])


# -- bring your own scores ---------------------------------------------------------


def test_a_labelled_matrix_of_scores_becomes_the_programs_affinity(
    small: Program, tmp_path: Path
) -> None:
    from coachmatch.affinity import affinity_matrix

    residents = [r.resident_id for r in small.residents[:5]]
    coaches = [c.coach_id for c in small.coaches[:4]]
    values = np.arange(20, dtype=float).reshape(5, 4) * 5
    values[0, 0] = np.nan  # no score of the program's for that pair
    matrix = pd.DataFrame(values, index=residents, columns=coaches)
    scored = small.with_affinity(matrix)
    assert len(scored.affinity) == 19 and small.affinity == ()
    table = affinity_matrix(scored)
    survey = affinity_matrix(small)
    assert table[0, 0] == survey[0, 0]  # the empty cell keeps the survey's affinity
    preferred = {(q.resident_id, q.coach_id) for q in small.requests if q.kind == "prefer"}
    for i, r in enumerate(residents):
        for j, c in enumerate(coaches):
            if (i, j) != (0, 0) and (r, c) not in preferred:
                assert table[i, j] == values[i, j]
    # the same scores as a long table give the same program
    long = (
        matrix.rename_axis("resident_id")
        .reset_index()
        .melt(id_vars="resident_id", var_name="coach_id", value_name="affinity")
        .dropna()
        .sort_values(["resident_id", "coach_id"])  # the matrix's order, row by row
    )
    assert small.with_affinity(long) == scored
    # a later call replaces those pairs' scores and keeps the others
    again = scored.with_affinity(
        pd.DataFrame({"resident_id": [residents[1]], "coach_id": [coaches[1]], "affinity": [99]})
    )
    assert len(again.affinity) == 19 and affinity_matrix(again)[1, 1] == min(
        100, 99 + (small.policy.prefer_bonus if (residents[1], coaches[1]) in preferred else 0)
    )
    # it is the folder's affinity.csv: written and loaded back equal, and matched
    assert load_program(coachmatch.write_program(scored, tmp_path / "p")) == scored
    matching = match(scored)
    assert audit(scored, matching.pairs) == []
    assert set(residents) <= scored.respondents()


def test_bad_scores_are_all_reported_with_row_and_column(small: Program) -> None:
    matrix = pd.DataFrame(
        [[50, 101], [2.5, 40], [10, 20]],
        index=["R0001", "R0002", "R9999"],
        columns=["C0001", "C0X02"],
    )
    with pytest.raises(ProgramError) as error:
        small.with_affinity(matrix)
    text = str(error.value)
    assert "unknown resident 'R9999'" in text and "unknown coach 'C0X02'" in text
    assert "row 1, column C0X02: affinity must be a whole number from 0 to 100" in text
    assert "row 2, column C0001: affinity must be a whole number from 0 to 100" in text
    long = pd.DataFrame(
        {"resident_id": ["R0001", "R0001"], "coach_id": ["C0001", "C0001"], "affinity": [1, 2]}
    )
    with pytest.raises(ProgramError, match=r"row 2, column coach_id: duplicate pair"):
        small.with_affinity(long)
    twice = pd.DataFrame([[1], [2]], index=["R0001", "R0001"], columns=["C0001"])
    with pytest.raises(ProgramError, match=r"row 2, column coach_id: duplicate pair"):
        small.with_affinity(twice)
    with pytest.raises(TypeError, match="scores must be a DataFrame"):
        small.with_affinity([[1, 2]])
