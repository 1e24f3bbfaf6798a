"""Write indexer/data/authorities.csv, the project's register of English local authorities, from la_lookup.csv.

    python scripts/make_authority_register.py [../shared/reference/la_lookup.csv]

Source: the Data to Insight (D2I) Ofsted ILACS scrape tool's la_lookup.csv (MIT licence), which compiles
public DfE, ONS and Ofsted data. Canonical names are the ones Ofsted's reports use once the council's
kind is taken off ("Bristol", "Kingston upon Hull", "Bedford"); the aliases are the other names people
and papers use. Run it again when the source changes; the output is committed.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT.parent / "shared" / "reference" / "la_lookup.csv"
TARGET = ROOT / "indexer" / "data" / "authorities.csv"

# ONS name -> the name Ofsted's reports use
CANONICAL = {
    "Bristol, City of": "Bristol",
    "Kingston Upon Hull, City of": "Kingston upon Hull",
    "Bedford Borough": "Bedford",
    "St. Helens": "St Helens",
    "Herefordshire, County of": "Herefordshire",
}
# Other names in common use: short forms, council names that differ from the place, acronyms.
# "X Council", "X County Council", "London Borough of X" and the like need no entry: the name is in them.
ALIASES = {
    "Barking and Dagenham": ["Barking & Dagenham", "LBBD", "Barking"],
    "Bath and North East Somerset": ["Bath & North East Somerset", "BANES", "B&NES", "Bath"],
    "Blackburn with Darwen": ["Blackburn"],
    "Bournemouth, Christchurch and Poole": ["BCP", "Bournemouth, Christchurch & Poole", "Bournemouth Christchurch and Poole"],
    "Bracknell Forest": ["Bracknell"],
    "Brighton and Hove": ["Brighton & Hove", "Brighton"],
    "Bristol": ["City of Bristol"],
    "Buckinghamshire": ["Bucks"],
    "Cambridgeshire": ["Cambs"],
    "Cheshire East": ["Cheshire East Unitary Authority"],
    "Cheshire West and Chester": ["Cheshire West & Chester", "Cheshire West", "CWAC"],
    "City of London": ["London Corporation", "Corporation of London", "City of London Corporation"],
    "Durham": ["County Durham"],
    "East Riding of Yorkshire": ["East Riding"],
    "Gloucestershire": ["Glos"],
    "Hammersmith and Fulham": ["Hammersmith & Fulham", "Hammersmith", "LBHF", "H&F"],
    "Hampshire": ["Hants"],
    "Hertfordshire": ["Herts"],
    "Isle of Wight": ["IoW"],
    "Isles of Scilly": ["Council of the Isles of Scilly", "Scilly"],
    "Kensington and Chelsea": ["Kensington & Chelsea", "RBKC", "Kensington"],
    "Kingston upon Hull": ["Hull", "Kingston Upon Hull"],
    "Kingston upon Thames": ["Kingston"],
    "Lancashire": ["Lancs"],
    "Leicestershire": ["Leics"],
    "Lincolnshire": ["Lincs"],
    "Milton Keynes": ["MK"],
    "Newcastle upon Tyne": ["Newcastle"],
    "North East Lincolnshire": ["NE Lincolnshire", "NE Lincs"],
    "North Lincolnshire": ["North Lincs"],
    "North Yorkshire": ["North Yorks"],
    "Nottinghamshire": ["Notts"],
    "Oxfordshire": ["Oxon"],
    "Redcar and Cleveland": ["Redcar & Cleveland", "Redcar"],
    "Richmond upon Thames": ["Richmond"],
    "South Gloucestershire": ["South Glos", "S Glos"],
    "Southend-on-Sea": ["Southend", "Southend on Sea"],
    "Staffordshire": ["Staffs"],
    "Stockton-on-Tees": ["Stockton", "Stockton on Tees"],
    "Stoke-on-Trent": ["Stoke", "Stoke on Trent"],
    "St Helens": ["St. Helens", "Saint Helens"],
    "Telford and Wrekin": ["Telford & Wrekin", "Telford"],
    "Tower Hamlets": ["LBTH"],
    "Waltham Forest": ["LBWF"],
    "Warwickshire": ["Warks"],
    "West Berkshire": ["West Berks"],
    "Wiltshire": ["Wilts"],
    "Windsor and Maidenhead": ["Windsor & Maidenhead", "RBWM", "Windsor"],
    "Worcestershire": ["Worcs"],
}
# Reorganised authorities: the former name, for questions about their reports, and what replaced it.
SUCCESSORS = {
    "Cumbria": ["Cumberland", "Westmorland and Furness"],
    "Northamptonshire": ["North Northamptonshire", "West Northamptonshire"],
    "Poole": ["Bournemouth, Christchurch and Poole"],
}


def main() -> int:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE
    with open(source, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_code = {}
    records = []
    for row in rows:
        name = CANONICAL.get(row["local_authority_ons_name"], row["local_authority_ons_name"]).strip()
        aliases = [alias.strip() for alias in row["also_known_as"].strip("[] ").split(",") if alias.strip()]
        aliases += ALIASES.get(name, [])
        if row["local_authority_ons_name"] != name:
            aliases.append(row["local_authority_ons_name"])
        aliases = [alias for alias in dict.fromkeys(aliases) if alias.lower() != name.lower()]
        record = {
            "name": name, "ons_code": row["la_code_new"].strip(), "dfe_code": row["la_code"].strip(),
            "ofsted_urn": row["urn"].strip(), "region": row["region_name"].strip(), "type": row["ons_la_type"].strip(),
            "aliases": "; ".join(aliases),
            "statistical_neighbours": "; ".join(code.strip() for code in row["stat_neighbours_la_code"].split(",")
                                                if code.strip()),
            "successors": "",
        }
        by_code[record["ons_code"]] = record
        records.append(record)
    names = {record["name"]: record for record in records}
    for former, successors in SUCCESSORS.items():
        missing = [name for name in successors if name not in names]
        if missing:
            raise SystemExit(f"{former}: successors {missing} are not in {source}")
        if former in names:
            names[former]["successors"] = "; ".join(successors)
    for name in ALIASES:
        if name not in names:
            raise SystemExit(f"alias list names {name!r}, which is not in {source}")
    records.sort(key=lambda record: record["name"])
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    with open(TARGET, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    print(f"wrote {len(records)} authorities to {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
