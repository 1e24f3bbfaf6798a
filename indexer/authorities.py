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
