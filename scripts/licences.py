"""Print the licence of every package the default install brings in (ofsted-search's dependencies, recursively).

    .venv/bin/python scripts/licences.py            # a Markdown table, as in README.md
    .venv/bin/python scripts/licences.py --extra test

The licence is the package's own word: its License-Expression, else its licence classifiers, else the
first line of its License field.
"""

from __future__ import annotations

import argparse
import re
from importlib import metadata

from packaging.requirements import Requirement


def licence(dist: metadata.Distribution) -> str:
    meta = dist.metadata
    if meta.get("License-Expression"):
        return meta["License-Expression"]
    classifiers = [c.split(" :: ")[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    if classifiers:
        return "; ".join(dict.fromkeys(classifiers))
    text = (meta.get("License") or "").strip().splitlines()
    return text[0][:60] if text else "(not stated)"


def closure(root: str, extras: set[str]) -> dict[str, metadata.Distribution]:
    """Every installed distribution `root` needs (with `extras`), by normalised name."""
    found: dict[str, metadata.Distribution] = {}
    todo = [(root, extras)]
    while todo:
        name, wanted = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        found[key] = dist
        for raw in dist.requires or ():
            requirement = Requirement(raw)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": extra}) for extra in wanted | {""}):
                todo.append((requirement.name, set(requirement.extras)))
    return found


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--extra", action="append", default=[], help="include an extra, e.g. test")
    args = options.parse_args()
    found = closure("ofsted-search", set(args.extra))
    found.pop("ofsted-search", None)
    print("| package | version | licence |\n| --- | --- | --- |")
    for key in sorted(found):
        dist = found[key]
        print(f"| {dist.metadata['Name']} | {dist.version} | {licence(dist)} |")


if __name__ == "__main__":
    main()
