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
import re
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer.answers import STOPWORDS  # noqa: E402
from indexer.errors import IndexerError  # noqa: E402
from indexer.evaluation import Question, load_questions, normalise  # noqa: E402
from indexer.settings import Settings  # noqa: E402
from indexer.store import load_index  # noqa: E402

KINDS = ("authority", "authority-time", "paraphrase", "lexical", "precedent", "acronym", "compare")


def load_passages(index: Path) -> list[dict]:
    """Every passage of the index, with the file name of its document and its text folded for matching."""
    loaded = load_index(index, Settings.from_env(index=index))
    files = {doc_id: Path(record["path"]).name for doc_id, record in loaded.documents.items()}
    return [{"doc": files[passage.doc_id], "text": passage.text, "page": passage.page,
             "paragraph": passage.paragraph, "folded": normalise(passage.text)} for passage in loaded.passages]


def content_words(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+", normalise(text))
    return {word[:5] for word in words if word not in STOPWORDS and len(word) > 2}


def check(question: Question, passages: list[dict], show: bool) -> tuple[list[str], list[str]]:
    """(errors, warnings) for one question."""
    errors, warnings = [], []
    for field in ("kind", "split", "docs"):
        if not getattr(question, field):
            errors.append(f"missing field {field!r}")
    if errors:
        return errors, warnings
    if question.kind not in KINDS:
        errors.append(f"kind {question.kind!r}; valid: {', '.join(KINDS)}")
    if question.split not in ("dev", "heldout"):
        errors.append(f"split {question.split!r}; valid: dev, heldout")
    docs = set(question.docs)
    owner = {}
    if question.kind == "compare":
        if len(question.gold_by_authority) < 2:
            errors.append("a compare question needs gold_by_authority for at least two authorities")
        for authority, snippets in question.gold_by_authority:
            for snippet in snippets:
                owner[normalise(snippet)] = authority
                if snippet not in question.gold:
                    errors.append(f"gold_by_authority snippet not in gold: {snippet!r}")
    question_words = content_words(question.q)
    for snippet in question.gold:
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
        if question.kind == "paraphrase":
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
    try:
        passages = load_passages(Path(args.index))
        files = {path: load_questions(path) for path in args.questions}
    except IndexerError as error:
        print(error)
        return 1
    failed = 0
    seen_ids = set()
    total = 0
    for path, questions in files.items():
        for question in questions:
            if args.only and question.id not in args.only:
                continue
            total += 1
            if question.id in seen_ids:
                print(f"{path} {question.id}: duplicate id")
                failed += 1
            seen_ids.add(question.id)
            if args.show:
                print(f"{question.id}: {question.q}")
            errors, warnings = check(question, passages, args.show)
            for message in errors:
                print(f"{path} {question.id} ERROR {message}")
            for message in warnings:
                print(f"{path} {question.id} warning {message}")
            failed += bool(errors)
    print(f"checked {total} questions: {failed} with errors")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
