"""Completeness of export and erasure (G5, G6): every store and object prefix of the data map is claimed by
exactly one holder of personal data, which says how it is exported and how it is erased."""

from __future__ import annotations

from collections.abc import Sequence

from dreamina.domain.privacy.datamap import DataMap
from dreamina.domain.privacy.vocabulary import RetentionAction
from dreamina.ports.data_rights import PersonalDataHolder


def coverage_gaps(data_map: DataMap, holders: Sequence[PersonalDataHolder]) -> list[str]:
    """Every problem found, as readable lines; empty when export and erasure are complete."""
    problems: list[str] = []
    claims: dict[tuple[str, str], list[str]] = {}
    for holder in holders:
        for cover in holder.coverage:
            claims.setdefault((cover.kind, cover.name), []).append(holder.name)
            if not cover.export.strip() or not cover.erasure.strip():
                problems.append(f"{holder.name}: {cover.kind} {cover.name} does not say how it is exported and erased")
            if cover.pseudonymised_legal_hold and cover.kind == "store":
                store = data_map.stores.get(cover.name)
                linking = [] if store is None else [f for f in store.fields.values() if f.links_subject]
                if not linking or any(f.retention.action is not RetentionAction.ANONYMISE for f in linking):
                    problems.append(
                        f"{holder.name}: {cover.name} is kept as a legal hold but the data map does not declare its "
                        "subject-linking fields as pseudonymised (retention action anonymise)"
                    )
    expected = {("store", name) for name in data_map.stores} | {("prefix", p.prefix) for p in data_map.object_prefixes}
    for kind, name in sorted(expected):
        holders_of = claims.get((kind, name), [])
        if not holders_of:
            problems.append(f"{kind} {name} is claimed by no holder: nobody exports or erases it")
        elif len(holders_of) > 1:
            problems.append(f"{kind} {name} is claimed by several holders: {', '.join(holders_of)}")
    for kind, name in sorted(set(claims) - expected):
        problems.append(f"{kind} {name} is claimed by {', '.join(claims[(kind, name)])} but not in the data map")
    return problems
