"""Check evaluation questions against an index: every gold snippet verbatim, inside one passage, specific.

    python eval/check_gold.py eval/national.jsonl --index DIR [--only ID ...] [--show]

For each question it checks that
- every gold snippet occurs (after eval's normalisation) inside one passage of the index;
- it occurs in no document outside the question's `docs`, and in only one passage of each document;
- it is 5 to 25 words long;
- a `paraphrase` question shares no content word with its snippets (words compared on their first five
  letters, as eval/README.md describes);
- a `compare` question's `gold_by_authority` snippets come from that authority's documents only.
Problems are printed per question; the exit status is 1 when any snippet is missing or outside its documents.
`--show` prints the passage each snippet was found in.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer.answers import STOPWORDS  # noqa: E402
from indexer.evaluation import normalise  # noqa: E402
from indexer.store import current_build  # noqa: E402

KINDS = ("authority", "authority-time", "paraphrase", "lexical", "precedent", "acronym", "compare")


def load_passages(index: Path) -> tuple[list[dict], dict[str, str]]:
    """Passages of the index's current build, and doc_id -> file name."""
    build = current_build(index)
    if build is None:
        sys.exit(f"no index in {index}")
    files = {}
    with open(build / "documents.jsonl", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            files[record["doc_id"]] = Path(record["path"]).name
    passages = []
    with open(build / "passages.jsonl", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            passages.append({"doc": files[record["doc_id"]], "text": record["text"], "page": record["page"],
                             "paragraph": record["paragraph"], "folded": normalise(record["text"])})
    return passages, files


def content_words(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+", normalise(text))
    return {word[:5] for word in words if word not in STOPWORDS and len(word) > 2}


def check(question: dict, passages: list[dict], show: bool) -> tuple[list[str], list[str]]:
    """(errors, warnings) for one question."""
    errors, warnings = [], []
    for field in ("id", "q", "gold", "kind", "split", "docs"):
        if not question.get(field):
            errors.append(f"missing field {field!r}")
    if errors:
        return errors, warnings
    if question["kind"] not in KINDS:
        errors.append(f"kind {question['kind']!r}; valid: {', '.join(KINDS)}")
    if question["split"] not in ("dev", "heldout"):
        errors.append(f"split {question['split']!r}; valid: dev, heldout")
    docs = set(question["docs"])
    owner = {}
    if question["kind"] == "compare":
        by_authority = question.get("gold_by_authority") or {}
        if len(by_authority) < 2:
            errors.append("a compare question needs gold_by_authority for at least two authorities")
        for authority, snippets in by_authority.items():
            for snippet in snippets:
                owner[normalise(snippet)] = authority
                if snippet not in question["gold"]:
                    errors.append(f"gold_by_authority snippet not in gold: {snippet!r}")
    question_words = content_words(question["q"])
    for snippet in question["gold"]:
        folded = normalise(snippet)
        words = len(folded.split())
        if not 5 <= words <= 25:
            warnings.append(f"{words} words (want 5-25): {snippet!r}")
        found = [p for p in passages if folded in p["folded"]]
        if not found:
            errors.append(f"not inside any one passage (misspelt, or across a paragraph or page break?): {snippet!r}")
            continue
        outside = sorted({p["doc"] for p in found} - docs)
        if outside:
            errors.append(f"also in documents not in docs {outside}: make it more specific, or add them: {snippet!r}")
        per_doc = defaultdict(int)
        for p in found:
            per_doc[p["doc"]] += 1
        for doc, n in per_doc.items():
            if n > 1:
                warnings.append(f"in {n} passages of {doc}: {snippet!r}")
        if question["kind"] == "paraphrase":
            shared = question_words & content_words(snippet)
            if shared:
                warnings.append(f"paraphrase shares words {sorted(shared)} with {snippet!r}")
        authority = owner.get(folded)
        if authority:
            slug = re.sub(r"[^a-z0-9]+", "-", authority.lower()).strip("-")
            if not all(p["doc"].startswith(slug) for p in found):
                warnings.append(f"gold_by_authority[{authority!r}] snippet found in {sorted({p['doc'] for p in found})}")
        if show:
            for p in found:
                print(f"    {p['doc']} p.{p['page']} para {p['paragraph']}: {p['text'][:160]!r}")
    return errors, warnings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("questions", nargs="+")
    parser.add_argument("--index", required=True, help="an index over corpus/ and the 266 PDFs")
    parser.add_argument("--only", nargs="*", help="question ids to check")
    parser.add_argument("--show", action="store_true", help="print where each snippet was found")
    args = parser.parse_args()
    passages, _ = load_passages(Path(args.index))
    failed = 0
    seen_ids = set()
    total = 0
    for path in args.questions:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    question = json.loads(line)
                except ValueError as error:
                    print(f"{path}:{number}: not JSON: {error}")
                    failed += 1
                    continue
                if args.only and question.get("id") not in args.only:
                    continue
                total += 1
                if question.get("id") in seen_ids:
                    print(f"{path}:{number}: duplicate id {question.get('id')}")
                    failed += 1
                seen_ids.add(question.get("id"))
                if args.show:
                    print(f"{question.get('id')}: {question.get('q')}")
                errors, warnings = check(question, passages, args.show)
                for message in errors:
                    print(f"{path}:{number} {question.get('id')} ERROR {message}")
                for message in warnings:
                    print(f"{path}:{number} {question.get('id')} warning {message}")
                failed += bool(errors)
    print(f"checked {total} questions: {failed} with errors")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
