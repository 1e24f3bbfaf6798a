"""Draw candidate sentences from the findings of the ILACS reports, for hand-labelling as strength / weakness / neutral.

Each PDF is read, described and split with the project's own reader and splitter (as a build does), and its
sentences are taken with the answer block's sentence splitter (indexer.answers.sentence_spans) from the
passages whose kind is "finding" or "summary". From each report up to --per-report sentences are drawn, each
from a different passage, with a random generator seeded by --seed and the file name, so a report's sample
does not depend on which other files are in the folder. Sentences under --min-words words are skipped.

An additional sample, disjoint from earlier ones, is drawn with --exclude (a labelled JSONL file, repeatable):
its sentences, matched on passage_id + start or on text, are taken out of each report's pool before the draw
(except the lines of the draw being made, by their `sample`, so a draw re-run against the file it was
appended to comes out the same).
--only-grades / --skip-grades keep or leave out the reports with one of the given grades, in the overall
effectiveness judgement (--grades-of overall) or in any judgement (--grades-of any, the default); a report
with no grades read has none of them. --sample names the draw on every line (`natural` by default) and
--first-id numbers its lines on from an existing file.

Each candidate carries the split its authority falls in: the authorities (folded names) are shuffled with
--split-seed and the first --heldout-share of them are `heldout`, the rest `dev`, so every sentence of an
authority is in the same split.

    HF_HUB_OFFLINE=1 /work/main/.venv/bin/python scripts/sample_sentences.py \
        --corpus /work/shared/corpus/ofsted-ilacs --out /tmp/sentence_candidates.jsonl
    HF_HUB_OFFLINE=1 /work/main/.venv/bin/python scripts/sample_sentences.py \
        --per-report 3 --only-grades "requires improvement,inadequate" --exclude eval/sentences.jsonl \
        --seed 20261217 --sample weaker-reports --first-id 533 --out /tmp/weaker.jsonl
    HF_HUB_OFFLINE=1 /work/main/.venv/bin/python scripts/sample_sentences.py \
        --per-report 2 --skip-grades "requires improvement,inadequate" --exclude eval/sentences.jsonl \
        --seed 20261218 --sample more-per-report --first-id 902 --out /tmp/more.jsonl

Writes JSONL, one candidate a line, in file order: id, text, doc, authority, date, passage_kind, section,
judgement_area, grades, overall_grade, passage_id, paragraph, page, start, end (the sentence's span in
the passage text), split, sample. --context adds the passage text (`passage_text`) for reading a sentence in its place.
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


def report_candidates(path: Path, min_words: int, excluded: tuple[set, set] = (set(), set()),
                      ) -> tuple[object, list[tuple[object, int, int]]]:
    """The document and every (passage, start, end) sentence of its finding and summary passages, less the
    excluded ones (a set of (passage_id, start) and a set of texts)."""
    document = describe_document(read_document(path))
    spans, texts = excluded
    sentences = []
    for passage in split_passages(document):
        if passage.kind not in KINDS:
            continue
        for start, end in sentence_spans(passage.text):
            text = passage.text[start:end]
            if len(text.split()) < min_words or (passage.passage_id, start) in spans or text in texts:
                continue
            sentences.append((passage, start, end))
    return document, sentences


def read_excluded(paths: list[Path], sample: str) -> tuple[set, set]:
    """(passage_id, start) pairs and texts of the sentences in other samples than `sample` (a line with no
    `sample` field is `natural`): a draw's own lines are not excluded, so it can be re-run against the file it
    was appended to."""
    spans, texts = set(), set()
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                if row.get("sample", "natural") == sample:
                    continue
                spans.add((row["passage_id"], row["start"]))
                texts.add(row["text"])
    return spans, texts


def grade_list(value: str | None) -> set[str]:
    return {grade.strip().lower() for grade in (value or "").split(",") if grade.strip()}


def report_grades(grades: dict, scope: str) -> set[str]:
    """The grades a report is filtered by: its overall effectiveness, or every judgement's."""
    if scope == "overall":
        return {grades["overall effectiveness"]} if grades.get("overall effectiveness") else set()
    return {grade for grade in grades.values() if grade}


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
    parser.add_argument("--exclude", type=Path, action="append", default=[],
                        help="a JSONL sample whose sentences (passage_id + start, or text) are never drawn; repeatable")
    parser.add_argument("--only-grades", help="comma-separated grades: draw only from reports with one of them")
    parser.add_argument("--skip-grades", help="comma-separated grades: draw only from reports with none of them")
    parser.add_argument("--grades-of", choices=("any", "overall"), default="any",
                        help="which judgements --only-grades / --skip-grades look at (default any)")
    parser.add_argument("--sample", default="natural", help="the draw's name, on every line (default natural)")
    parser.add_argument("--first-id", type=int, default=1, help="number of the first line's id (default 1)")
    args = parser.parse_args(argv)
    only, skip = grade_list(args.only_grades), grade_list(args.skip_grades)
    excluded = read_excluded(args.exclude, args.sample)

    rows = []
    authorities = set()  # every report's, drawn from or not, so the split does not depend on the filters
    for path in sorted(args.corpus.glob("*.pdf")):
        try:
            document, sentences = report_candidates(path, args.min_words, excluded)
        except DocumentError as error:
            print(f"skipped {error}", file=sys.stderr)
            continue
        authorities.add(fold(document.authority or path.name))
        grades = dict(document.grades or {})
        have = report_grades(grades, args.grades_of)
        if (only and not have & only) or (skip and have & skip):
            continue
        rng = random.Random(f"{args.seed}:{path.name}")
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

    heldout = heldout_authorities(authorities, args.heldout_share, args.split_seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as out:
        for number, row in enumerate(rows, args.first_id):
            row = {"id": f"s{number:04d}", **row,
                   "split": "heldout" if fold(row["authority"] or row["doc"]) in heldout else "dev",
                   "sample": args.sample}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} sentences from {len({row['doc'] for row in rows})} reports, "
          f"{len({fold(row['authority'] or row['doc']) for row in rows})} authorities -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
