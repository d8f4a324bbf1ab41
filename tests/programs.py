"""Program edits that tests share."""

from __future__ import annotations

from coachmatch import Program


def without(program: Program, *people: str) -> Program:
    """The program after these coaches and residents left: their rows gone, and every
    reference to them (current coaches, requests, survey, availability, busy time,
    rotations) with them."""
    gone = set(people)
    return program.replace(
        coaches=tuple(c for c in program.coaches if c.coach_id not in gone),
        residents=tuple(
            r.model_copy(update={"current_coach_id": None}) if r.current_coach_id in gone else r
            for r in program.residents
            if r.resident_id not in gone
        ),
        requests=tuple(
            q for q in program.requests if q.coach_id not in gone and q.resident_id not in gone
        ),
        survey=tuple(a for a in program.survey if a.person_id not in gone),
        affinity=tuple(
            s for s in program.affinity if s.coach_id not in gone and s.resident_id not in gone
        ),
        availability=tuple(w for w in program.availability if w.person_id not in gone),
        busy=tuple(b for b in program.busy if b.person_id not in gone),
        rotations=tuple(r for r in program.rotations if r.resident_id not in gone),
    )
