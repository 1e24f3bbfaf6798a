"""The register of English local authorities: canonical names, aliases, codes, regions, neighbours (indexer/data).

Built by scripts/make_authority_register.py from Data to Insight's la_lookup.csv (MIT licence), which
compiles public DfE, ONS and Ofsted data.
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import IndexerError

REGISTER = Path(__file__).resolve().parent / "data" / "authorities.csv"
# Names that are also ordinary English words: recognised in a question only when capitalised.
WORDLIKE = {"reading", "bury", "bath", "stoke", "barking", "poole"}


@dataclass(frozen=True)
class Authority:
    """One local authority as the register has it."""

    name: str
    ons_code: str
    dfe_code: str
    ofsted_urn: str
    region: str
    type: str
    aliases: tuple[str, ...]
    statistical_neighbours: tuple[str, ...]  # ONS codes, nearest first
    successors: tuple[str, ...]  # names of the authorities that replaced it, for one reorganised


def fold(name: str) -> str:
    """A name compared without case, punctuation or "&" vs "and": "Stoke-on-Trent" == "stoke on trent"."""
    name = name.lower().replace("&", " and ").replace("’", "'")
    return " ".join(re.sub(r"[^a-z0-9']+", " ", name).split())


@lru_cache(maxsize=1)
def load_register(path: Path = REGISTER) -> tuple[Authority, ...]:
    """Every authority in the register."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))

    def split(value: str) -> tuple[str, ...]:
        return tuple(part.strip() for part in value.split(";") if part.strip())

    return tuple(Authority(row["name"], row["ons_code"], row["dfe_code"], row["ofsted_urn"], row["region"],
                           row["type"], split(row["aliases"]), split(row["statistical_neighbours"]),
                           split(row["successors"])) for row in rows)


def names_for(indexed: set[str]) -> dict[str, tuple[str, ...]]:
    """Every name a question may use (folded) -> the authorities as `indexed` spells them.

    `indexed` are the authority names the documents carry. A register name or alias means its
    authority; a reorganised authority's former name means its successors too. Names in `indexed` that
    the register lacks still mean themselves.
    """
    by_fold = {fold(name): name for name in indexed}
    found: dict[str, list[str]] = {}

    def add(alias: str, targets: list[str]) -> None:
        targets = [by_fold[fold(target)] for target in targets if fold(target) in by_fold]
        if targets:
            found.setdefault(fold(alias), [])
            found[fold(alias)] += [target for target in targets if target not in found[fold(alias)]]

    register = load_register()
    for authority in register:
        for alias in (authority.name, *authority.aliases):
            add(alias, [authority.name])
            if authority.successors:
                add(alias, list(authority.successors))
    for name in indexed:
        add(name, [name])
    return {alias: tuple(targets) for alias, targets in found.items()}


def absent_names(indexed: set[str]) -> dict[str, str]:
    """Every name or alias (folded) of a register authority that no indexed document belongs to -> its name."""
    present = set(names_for(indexed))
    absent: dict[str, str] = {}
    for authority in load_register():
        for alias in (authority.name, *authority.aliases):
            if fold(alias) not in present:
                absent.setdefault(fold(alias), authority.name)
    return absent


def find_authority(name: str) -> Authority:
    """The register authority a name or alias means ("Hull", "LBBD"); an unknown name says the nearest ones."""
    by_name = {}
    for authority in load_register():
        for alias in (authority.name, *authority.aliases):
            by_name.setdefault(fold(alias), authority)
    if fold(name) in by_name:
        return by_name[fold(name)]
    nearest = difflib.get_close_matches(fold(name), list(by_name), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(dict.fromkeys(by_name[near].name for near in nearest))}?" if nearest else ""
    raise IndexerError(f"no English local authority is called {name!r}{hint}")


def authorities_in_region(region: str) -> tuple[Authority, ...]:
    """Every authority in one of the nine English regions ("North West", "london"); a typo says the nearest."""
    regions = {fold(authority.region): authority.region for authority in load_register() if authority.region}
    if fold(region) not in regions:
        nearest = difflib.get_close_matches(fold(region), list(regions), n=1, cutoff=0.5)
        hint = f"did you mean {regions[nearest[0]]}? " if nearest else ""
        raise IndexerError(f"no English region is called {region!r}: {hint}the regions are "
                           f"{', '.join(sorted(regions.values()))}")
    return tuple(authority for authority in load_register() if fold(authority.region) == fold(region))


# What councils and Ofsted put around a name: "London Borough of Hackney", "Kingston upon Hull City Council",
# "Cheshire East Unitary Authority", "Bristol, City of", "Council of the Isles of Scilly".
_AROUND_NAME = re.compile(
    r"^(?:the )?(?:(?:london borough|royal borough|metropolitan borough|borough|city|county|council) of (?:the )?)?"
    r"(?P<name>.+?)"
    r"(?: (?:metropolitan borough|borough|city|county|district)? ?council| unitary authority| city of| council)?$")


@lru_cache(maxsize=1)
def _by_alias() -> dict[str, Authority]:
    found: dict[str, Authority] = {}
    for authority in load_register():
        for alias in (authority.name, *authority.aliases):
            found.setdefault(fold(alias), authority)
    return found


def resolve(name: str | None) -> Authority | None:
    """The register entry a name means, however it is spelled ("Hull", "Bristol, City of", "Cheshire East
    Unitary Authority", "Council of the Isles of Scilly"); None for a name the register does not know."""
    if not name:
        return None
    by_alias = _by_alias()
    folded = fold(name)
    if folded in by_alias:
        return by_alias[folded]
    match = _AROUND_NAME.match(folded)
    return by_alias.get(match.group("name")) if match else None


def successors(name: str) -> tuple[str, ...]:
    """The authorities that replaced a reorganised one (Cumbria: Cumberland, Westmorland and Furness), by name."""
    authority = resolve(name)
    return authority.successors if authority else ()


def predecessors(name: str) -> tuple[str, ...]:
    """The authorities `name` replaced, and theirs in turn (Cumberland: Cumbria), by name."""
    found: list[str] = []
    wanted = [fold(name)]
    while wanted:
        folded = wanted.pop()
        for authority in load_register():
            if authority.name not in found and any(fold(after) == folded for after in authority.successors):
                found.append(authority.name)
                wanted.append(fold(authority.name))
    return tuple(found)


def by_code(ons_code: str) -> Authority | None:
    """The authority with this ONS code."""
    return next((authority for authority in load_register() if authority.ons_code == ons_code), None)


def neighbours_of(name: str) -> tuple[Authority, ...]:
    """An authority's ten statistical neighbours (DfE children's services benchmarking), nearest first."""
    authority = find_authority(name)
    return tuple(found for code in authority.statistical_neighbours if (found := by_code(code)) is not None)


def regions() -> tuple[str, ...]:
    """The nine English regions, as the register spells them."""
    return tuple(sorted({authority.region for authority in load_register() if authority.region}))


def authority_types() -> tuple[str, ...]:
    """County, London Borough, Metropolitan District, Unitary Authority."""
    return tuple(sorted({authority.type for authority in load_register() if authority.type}))


def in_scope(authorities=(), regions_named=(), types=(), neighbours_of_named=()) -> list[str] | None:
    """The authorities every given group allows: named ones, those of regions, of types, and an authority with its
    statistical neighbours. None when no group is given (no restriction)."""
    groups = []
    if authorities:
        groups.append(list(authorities))
    if regions_named:
        groups.append([a.name for region in regions_named for a in authorities_in_region(region)])
    if types:
        known = {fold(kind): kind for kind in authority_types()}
        for kind in types:
            if fold(kind) not in known:
                nearest = difflib.get_close_matches(fold(kind), list(known), n=1, cutoff=0.5)
                hint = f"did you mean {known[nearest[0]]}? " if nearest else ""
                raise IndexerError(f"no authority type is called {kind!r}: {hint}the types are "
                                   f"{', '.join(authority_types())}")
        wanted = {fold(kind) for kind in types}
        groups.append([a.name for a in load_register() if fold(a.type) in wanted])
    if neighbours_of_named:
        groups.append([a.name for name in neighbours_of_named for a in (find_authority(name), *neighbours_of(name))])
    if not groups:
        return None
    return list(dict.fromkeys(name for name in groups[0] if all(name in group for group in groups[1:])))
