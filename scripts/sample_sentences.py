"""Draw candidate sentences from the findings of the ILACS reports, for hand-labelling as strength / weakness / neutral.

Each PDF is read, described and split with the project's own reader and splitter (as a build does), and its
sentences are taken with the answer block's sentence splitter (indexer.answers.sentence_spans) from the
passages whose kind is "finding" or "summary". From each report up to --per-report sentences are drawn, each
from a different passage, with a random generator seeded by --seed and the file name, so a report's sample
does not depend on which other files are in the folder. Sentences under --min-words words are skipped.

Each candidate carries the split its authority falls in: the authorities (folded names) are shuffled with
--split-seed and the first --heldout-share of them are `heldout`, the rest `dev`, so every sentence of an
authority is in the same split.

    HF_HUB_OFFLINE=1 /work/main/.venv/bin/python scripts/sample_sentences.py \
        --corpus /work/shared/corpus/ofsted-ilacs --out /tmp/sentence_candidates.jsonl

Writes JSONL, one candidate a line, in file order: id, text, doc, authority, date, passage_kind, section,
judgement_area, grades, overall_grade, passage_id, paragraph, page, start, end (the sentence's span in
the passage text), split. --context adds the passage text (`passage_text`) for reading a sentence in its place.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer.answers import sentence_spans  # noqa: E402
from indexer.authorities import fold  # noqa: E402
from indexer.errors import DocumentError  # noqa: E402
from indexer.metadata import describe_document  # noqa: E402
from indexer.reading import read_document  # noqa: E402
from indexer.splitting import split_passages  # noqa: E402

KINDS = ("finding", "summary")
SEED = 20261215
SPLIT_SEED = 20261216


def report_candidates(path: Path, min_words: int) -> tuple[object, list[tuple[object, int, int]]]:
    """The document and every (passage, start, end) sentence of its finding and summary passages."""
    document = describe_document(read_document(path))
    sentences = []
    for passage in split_passages(document):
        if passage.kind not in KINDS:
            continue
        for start, end in sentence_spans(passage.text):
            if len(passage.text[start:end].split()) >= min_words:
                sentences.append((passage, start, end))
    return document, sentences


def draw(sentences: list, per_report: int, rng: random.Random) -> list:
    """Up to `per_report` sentences, each from a different passage while passages last, in document order."""
    pools: dict[str, list] = {}
    for item in sentences:
        pools.setdefault(item[0].passage_id, []).append(item)
    order = sorted(pools)
    rng.shuffle(order)
    for passage_id in order:
        rng.shuffle(pools[passage_id])
    chosen: list = []
    while len(chosen) < per_report and any(pools.values()):
        for passage_id in order:
            if pools[passage_id] and len(chosen) < per_report:
                chosen.append(pools[passage_id].pop())
    return sorted(chosen, key=lambda item: (item[0].start, item[1]))


def heldout_authorities(authorities: set[str], share: float, seed: int) -> set[str]:
    names = sorted(authorities)
    random.Random(seed).shuffle(names)
    return set(names[:round(len(names) * share)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("/work/shared/corpus/ofsted-ilacs"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--per-report", type=int, default=2)
    parser.add_argument("--min-words", type=int, default=6)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--split-seed", type=int, default=SPLIT_SEED)
    parser.add_argument("--heldout-share", type=float, default=0.6)
    parser.add_argument("--context", action="store_true", help="add the passage text to each candidate")
    args = parser.parse_args(argv)

    rows = []
    for path in sorted(args.corpus.glob("*.pdf")):
        try:
            document, sentences = report_candidates(path, args.min_words)
        except DocumentError as error:
            print(f"skipped {error}", file=sys.stderr)
            continue
        rng = random.Random(f"{args.seed}:{path.name}")
        grades = dict(document.grades or {})
        for passage, start, end in draw(sentences, args.per_report, rng):
            row = {
                "text": passage.text[start:end],
                "doc": path.name,
                "authority": document.authority,
                "date": document.date,
                "passage_kind": passage.kind,
                "section": passage.section,
                "judgement_area": passage.judgement_area,
                "grades": grades,
                "overall_grade": grades.get("overall effectiveness"),
                "passage_id": passage.passage_id,
                "paragraph": passage.paragraph,
                "page": passage.page,
                "start": start,
                "end": end,
            }
            if args.context:
                row["passage_text"] = passage.text
            rows.append(row)
        print(f"{path.name}: {len(sentences)} sentences", file=sys.stderr)

    heldout = heldout_authorities({fold(row["authority"] or row["doc"]) for row in rows},
                                  args.heldout_share, args.split_seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as out:
        for number, row in enumerate(rows, 1):
            row = {"id": f"s{number:04d}", **row,
                   "split": "heldout" if fold(row["authority"] or row["doc"]) in heldout else "dev"}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} sentences from {len({row['doc'] for row in rows})} reports, "
          f"{len({fold(row['authority'] or row['doc']) for row in rows})} authorities -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
