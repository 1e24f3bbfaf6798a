"""`python -m indexer build|search|stats|documents|fetch`: the command line, the only place errors become messages."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path

from .errors import IndexerError
from .settings import PROJECT_ROOT, Settings


def _settings(args) -> Settings:
    return Settings.from_env(index=Path(args.index) if getattr(args, "index", None) else None)


def command_build(args) -> int:
    """Build (or refresh) the index from the corpus folders."""
    from .building import build_lock, plan_from_manifest, stale_reasons

    settings = _settings(args)
    with build_lock(settings.index, wait=args.wait):  # planned under the lock: from the index the last writer left
        plan = plan_from_manifest(args.corpus, settings.index, settings.corpus, settings)
        if args.if_stale:
            reasons = stale_reasons(list(plan.folders), settings.index, settings)
            if not reasons:
                from .store import open_store

                print(f"Index in {open_store(settings).where} is up to date.")
                return 0
            print("Index needs building: " + "; ".join(shown(reason) for reason in reasons[:5])
                  + (" …" if len(reasons) > 5 else ""))
        return _build(plan, settings, args)


def shown(text: object) -> str:
    """Text safe to print on one line: bytes that are not UTF-8 as \\xNN, control characters escaped."""
    from .reading import printable

    return printable(str(text))


def _build(plan, settings: Settings, args) -> int:
    """Run a build for a plan and print what it read, skipped and embedded."""
    from .building import build_index, corpus_files
    from .embedding import load_embedder

    corpus_files(list(plan.folders))  # a missing folder is reported before the model is loaded
    embedder = load_embedder(settings)
    report = build_index(list(plan.folders), settings.index, embedder, settings, progress=not args.quiet,
                         plan=plan)
    if args.verbose:
        for path, doc_id, count in report.documents:
            print(f"indexed  {shown(path)}: {count} passages (id {doc_id})")
    for path, reason in report.skipped:
        print(f"skipped  {shown(path)}: {shown(reason)}")
    for path, name in report.unresolved:
        seen = f"authority {shown(name)!r} is not in the register" if name else "no authority found in the text"
        print(f"authority  {shown(path)}: {seen}; give the council's name in the `authority` column of the "
              "folder's metadata.csv (indexer/data/authorities.csv lists the names and aliases)")
    print(
        f"Indexed {len(report.documents)} documents ({report.read} read, {report.reused_files} unchanged), "
        f"{report.passages} passages ({report.embedded} embedded, {report.reused} reused); "
        f"skipped {len(report.skipped)} files; {report.seconds:.1f} s.\nIndex: {report.build}"
    )
    return 1 if args.strict and report.skipped else 0


def command_add(args) -> int:
    """Add files to the index without touching what is already in it."""
    from .building import Plan, build_lock, plan_from_manifest

    settings = _settings(args)
    files = [Path(name) for name in args.files]
    for path in files:
        if not path.is_file():
            raise IndexerError(f"{shown(path)}: no such file")
    with build_lock(settings.index, wait=args.wait):
        plan = plan_from_manifest(None, settings.index, settings.corpus, settings)
        resolved = {str(path.resolve()) for path in files}
        plan = Plan(plan.folders, plan.added + tuple(path.resolve() for path in files),
                    tuple(p for p in plan.removed if str(p) not in resolved))
        status = _build(plan, settings, args)
    from .store import open_store

    kept = set(open_store(settings).read_manifest().get("added", []))
    refused = [path for path in files if str(path.resolve()) not in kept]
    if refused:  # the build said why; an added file that cannot be indexed is not kept in the plan
        raise IndexerError(f"not added (see the reason above): {', '.join(shown(path) for path in refused)}")
    return status


def command_remove(args) -> int:
    """Take documents out of the index (by id, file name or path); later builds leave them out too."""
    from .building import Plan, build_lock, document_path, plan_from_manifest

    settings = _settings(args)
    with build_lock(settings.index, wait=args.wait):
        plan = plan_from_manifest(None, settings.index, settings.corpus, settings)
        gone = {str(document_path(settings.index, doc, settings).resolve()) for doc in args.documents}
        plan = Plan(plan.folders, tuple(p for p in plan.added if str(p.resolve()) not in gone),
                    plan.removed + tuple(Path(p) for p in sorted(gone)))
        return _build(plan, settings, args)


def _searcher(settings: Settings):
    from .embedding import load_embedder
    from .search import Searcher
    from .store import open_store

    index = open_store(settings).load()
    return Searcher(index, load_embedder(settings), settings)


def documents_with_grades(documents: dict[str, dict], wanted: list[str]) -> tuple[str, ...]:
    """Ids of documents judged as asked: 'inadequate' (overall effectiveness) or 'care leavers=good'."""
    chosen = []
    for doc_id, record in documents.items():
        grades = record.get("grades") or {}
        for condition in wanted:
            area, _, grade = condition.rpartition("=")
            if grades.get((area or "overall effectiveness").strip().lower()) != grade.strip().lower():
                break
        else:
            chosen.append(doc_id)
    return tuple(chosen)


GRADES = ("outstanding", "good", "requires improvement to be good", "requires improvement", "inadequate")


def _nearest(value: str, choices, what: str) -> str:
    """'did you mean …?' and the valid choices, for an option value that is not one of them."""
    import difflib

    choices = sorted(set(choices), key=str.lower)
    close = difflib.get_close_matches(value.lower(), [c.lower() for c in choices], n=3, cutoff=0.6)
    named = [next(c for c in choices if c.lower() == lower) for lower in close]
    hint = f"; did you mean {' or '.join(repr(c) for c in named)}?" if named else ""
    listed = ", ".join(choices[:12]) + (f" … ({len(choices)} in all)" if len(choices) > 12 else "")
    return f"{what} {value!r} is not known{hint} Valid: {listed}"


def _date_option(value: str | None, name: str) -> str | None:
    """YYYY, YYYY-MM or YYYY-MM-DD, checked and written with two-digit months and days ("2019-5" -> "2019-05"),
    as the dates it is compared with are."""
    from datetime import date

    if value is None:
        return None
    parts = value.strip().split("-")
    try:
        if len(parts) > 3 or len(parts[0]) != 4:
            raise ValueError
        numbers = [int(part) for part in parts]
        date(numbers[0], numbers[1] if len(numbers) > 1 else 1, numbers[2] if len(numbers) > 2 else 1)
    except ValueError:
        raise IndexerError(f"{name} {value!r} is not a date: give YYYY, YYYY-MM or YYYY-MM-DD") from None
    return "-".join([f"{numbers[0]:04d}", *(f"{n:02d}" for n in numbers[1:])])


def _filters(args, searcher):
    """The search filters the options ask for, each checked against what the index holds."""
    from .authorities import fold, in_scope, names_for
    from .passages import DOC_TYPES, JUDGEMENT_AREAS
    from .search import Filters

    documents = searcher.index.documents
    for condition in args.grade or ():
        area, _, grade = condition.rpartition("=")
        if area and area.strip().lower() not in JUDGEMENT_AREAS:
            raise IndexerError(_nearest(area.strip(), JUDGEMENT_AREAS, "--grade: judgement area"))
        if grade.strip().lower() not in GRADES:
            raise IndexerError(_nearest(grade.strip(), GRADES, "--grade: grade"))
    for doc_type in args.doc_type or ():
        if doc_type not in DOC_TYPES:
            raise IndexerError(_nearest(doc_type, DOC_TYPES, "--doc-type"))
    held = {record.get("authority") for record in documents.values() if record.get("authority")}
    aliases = names_for(held)  # folded name or alias -> the authorities as the index spells them
    named = []
    for name in args.authority or ():
        found = aliases.get(fold(name)) or [a for a in held if a.lower() == name.lower()]
        if not found:
            raise IndexerError(_nearest(name, held, "--authority: no document in the index belongs to"))
        named.extend(found)
    scope = in_scope(named, args.region or (), args.authority_type or (), args.neighbours_of or ())
    authorities = scope or []
    if scope is not None and not [name for name in authorities if name in held]:
        raise IndexerError("no document in the index belongs to the authorities these options name "
                           f"({', '.join(authorities[:8]) or 'none'}{' …' if len(authorities) > 8 else ''})")
    doc_ids = ()
    if args.grade:
        doc_ids = documents_with_grades(documents, args.grade) or ("(no document has that grade)",)
    return Filters(
        authorities=tuple(dict.fromkeys(authorities)), doc_types=tuple(args.doc_type or ()),
        since=_date_option(args.since, "--since"), until=_date_option(args.until, "--until"), doc_ids=doc_ids,
    )


def command_search(args) -> int:
    """Answer one question, or one per line of a batch file (one output line for each input line)."""
    settings = _settings(args)
    if not args.query and not args.batch:
        raise IndexerError("give a question, or --batch FILE with one question per line")
    if args.batch and args.batch != "-" and not Path(args.batch).is_file():
        raise IndexerError(f"{shown(args.batch)}: no such file")
    searcher = _searcher(settings)
    filters = _filters(args, searcher)
    if args.batch:
        raw = sys.stdin.buffer.read() if args.batch == "-" else Path(args.batch).read_bytes()
        # Bytes that are not UTF-8 become U+FFFD in their line; the other lines are still answered.
        for line in raw.decode("utf-8-sig", errors="replace").splitlines():
            query = line.strip()
            if query:
                _print_results(query, searcher, searcher.search(query, args.k, filters), True, filters)
            else:
                print(json.dumps({"query": "", "hits": []}))  # a blank line keeps its place in the output
        return 0
    _print_results(args.query, searcher, searcher.search(args.query, args.k, filters), args.json, filters)
    return 0


def _answer(query: str, hits) -> list:
    """The answer block: verbatim sentences from the top hits, each with the number of its hit."""
    from .answers import compose_answer

    return compose_answer(query, hits)


def _understood(searcher) -> dict:
    """What the searcher read into the question: acronyms it expanded, authorities and years it noticed."""
    meaning = getattr(searcher, "last_interpretation", None)
    if meaning is None:
        return {}
    found = {
        "expansions": [{"term": e.term, "expansion": e.expansion} for e in meaning.expansions],
        "authorities": list(meaning.authorities),
        "years": list(meaning.years),
        "since": meaning.after,
        "report": "latest" if meaning.latest else "earlier" if meaning.earlier else None,
        "asks_what_needs_to_improve": meaning.recommendations,
        "searched_for": meaning.search_text if meaning.search_text != meaning.query else None,
        "not_in_index": list(meaning.absent),
    }
    return {key: value for key, value in found.items() if value}


def _marked(text: str, spans) -> str:
    """The passage with its answering sentences between » and «, for a terminal."""
    out, at = [], 0
    for start, end in sorted(spans):
        if start < at:
            continue
        out += [text[at:start], "»", text[start:end], "«"]
        at = end
    return "".join(out + [text[at:]])


def _print_results(query: str, searcher, hits, as_json: bool, filters) -> None:
    from .answers import needs_to_improve

    answer = _answer(query, hits)
    improve = needs_to_improve(searcher.recommendations(query, hits, filters), hits)
    understood = _understood(searcher)
    if as_json:
        def quoted(sentences):
            return [{"text": a.text, "hit": a.hit_rank, "citation": a.citation, "passage_id": a.passage_id}
                    for a in sentences]

        print(json.dumps({
            "query": query,
            "understood": understood,
            "answer": quoted(answer),
            "needs_to_improve": quoted(improve),
            "hits": [hit.to_json() for hit in hits],
        }, ensure_ascii=False))
        return
    if understood.get("expansions"):
        print("Also searched for: " + "; ".join(f"{e['term']} = {e['expansion']}"
                                                for e in understood["expansions"]) + "\n")
    if understood.get("not_in_index"):
        scope = (f"these passages come from {', '.join(understood['authorities'])} only"
                 if understood.get("authorities") else "these passages come from every authority it holds")
        print(f"The index has no documents for {', '.join(understood['not_in_index'])}: {scope}.\n")
    if not hits:
        print(f"No passages found for: {query}")
        return
    for heading, sentences in (("Answer (verbatim; [n] is the passage it comes from):", answer),
                               ("Ofsted said this needs to improve:", improve)):
        if sentences:
            print(heading)
            for sentence in sentences:
                cited = f"[{sentence.hit_rank}]" if sentence.hit_rank else f"— {sentence.citation}"
                for line in textwrap.wrap(f"“{' '.join(sentence.text.split())}” {cited}", width=96):
                    print(f"  {line}")
            print()
    for hit in hits:
        tone = f", reads as a {hit.tone}" if hit.tone else ""
        print(f"{hit.rank:>2}. {hit.passage.citation}  [{hit.passage.kind}{tone}, score {hit.score:.4f}]")
        if hit.passage.section:
            print(f"    Section: {hit.passage.section}")
        for line in textwrap.wrap(" ".join(_marked(hit.passage.text, hit.highlights).split()), width=96):
            print(f"    {line}")
        if hit.also_in:
            print(f"    Also in: {'; '.join(hit.also_in)}")
        print()


def command_stats(args) -> int:
    """Documents, passages, model and when the index was built."""
    from .store import open_store

    store = open_store(_settings(args))
    manifest = store.read_manifest()
    print(f"Index:      {store.build_id()}")
    print(f"Documents:  {manifest['documents']}")
    print(f"Passages:   {manifest['passages']}")
    print(f"Model:      {manifest['model']} ({manifest['dimensions']} dimensions)")
    print(f"Built at:   {manifest['built_at']}")
    print(f"Corpus:     {', '.join(manifest['corpus'])}")
    if manifest.get("skipped"):
        print(f"Skipped:    {len(manifest['skipped'])} files")
    return 0


def command_documents(args) -> int:
    """Every indexed document with its metadata."""
    from .store import open_store

    records = open_store(_settings(args)).documents()
    for record in records:
        if args.json:
            print(json.dumps(record, ensure_ascii=False))
        else:
            print(f"{record['doc_id']:<48} {record['doc_type']:<22} {record.get('date') or '':<10} "
                  f"{record['passages']:>4} passages  {record['title']}")
    return 0


def command_follow(args) -> int:
    """An authority's inspections, each recommendation with the plan actions that answer it and what the next
    inspection said on its theme."""
    from .authorities import fold, names_for
    from .following import follow, letters_since, recommendation_text
    from .passages import format_date

    settings = _settings(args)
    searcher = _searcher(settings)
    held = {r.get("authority") for r in searcher.index.documents.values() if r.get("authority")}
    found = names_for(held).get(fold(args.authority))
    if not found:
        raise IndexerError(_nearest(args.authority, held, "no document in the index belongs to"))
    for authority in found:
        result = follow(searcher, authority)
        if args.json:
            print(json.dumps(follow_json(result), ensure_ascii=False))
            continue
        print(f"{authority}: {len(result.timeline)} documents, {len(result.inspections)} inspections\n")
        for record in result.timeline:
            grade = (record.get("grades") or {}).get("overall effectiveness")
            print(f"  {format_date(record.get('date')) or 'undated':<9} {record['doc_type']}"
                  + (f" — overall effectiveness: {grade}" if grade else "") + f"  [{record['doc_id']}]")
        for inspection in result.inspections:
            record = inspection.record
            grade = (record.get("grades") or {}).get("overall effectiveness")
            print(f"\nInspection of {format_date(record.get('date'))}{f' ({grade})' if grade else ''}"
                  + (f" of {record.get('authority')}" if record.get("authority") != authority else "")
                  + f": {len(inspection.chains)} recommendation{'s' * (len(inspection.chains) != 1)}")
            if inspection.letters:
                print("  Ofsted's letters since: " + "; ".join(
                    f"{format_date(letter.get('date'))} {letter['doc_type']}" for letter in inspection.letters))
            for number, chain in enumerate(inspection.chains, start=1):
                print(f"{number:>3}. “{recommendation_text(chain.recommendation)}”")
                print(f"     — {chain.recommendation.citation}")
                if chain.actions:
                    for link in chain.actions:
                        print(f"     Plan: “{' '.join(link.sentence.split())}” — {link.passage.citation}")
                else:
                    print("     Plan: no plan action or council paper on this found.")
                for link in chain.visits:
                    said = f" [{link.tone}]" if link.tone else f" [{link.passage.kind}]"
                    print(f"     Visit: “{' '.join(link.sentence.split())}”{said} — {link.passage.citation}")
                if inspection.letters and not chain.visits:
                    print(f"     Visit: nothing on this found in {letters_since(len(inspection.letters))}.")
                if chain.later_report is None:
                    print("     Next inspection: none in the index yet.")
                    continue
                later = chain.later_report
                print(f"     Next inspection ({format_date(later.get('date'))}"
                      f"{', ' + chain.later_grade if chain.later_grade else ''}): {chain.outcome}"
                      + (f" (probability {chain.confidence:.2f})" if chain.confidence is not None else ""))
                if chain.basis:
                    print(f"       read from: {chain.basis}")
                if not chain.later:
                    print("       not found in the later report")
                for link in chain.later:
                    said = f" [{link.tone}]" if link.tone else f" [{link.passage.kind}]"
                    print(f"       “{' '.join(link.sentence.split())}”{said} — {link.passage.citation}")
        print(f"\nOutcomes: " + ", ".join(f"{n} {name}" for name, n in sorted(result.outcomes.items())))
    return 0


def follow_json(result) -> dict:
    """A Follow as JSON: the timeline, then each inspection's recommendations with their chains."""
    from .following import recommendation_text

    def link(item, weighed: bool = True):
        return {"sentence": item.sentence, "citation": item.passage.citation, "passage_id": item.passage.passage_id,
                "kind": item.passage.kind, "tone": item.tone, "score": round(item.score, 4),
                # the relevance model weighs later passages only; plan actions are chosen by similarity
                "relevance": round(item.relevance, 4) if weighed else None}

    return {
        "authority": result.authority,
        "timeline": [{key: record.get(key) for key in ("doc_id", "doc_type", "date", "title", "grades")}
                     for record in result.timeline],
        "inspections": [{
            "doc_id": inspection.record["doc_id"], "date": inspection.record.get("date"),
            "grades": inspection.record.get("grades") or {},
            "letters_since": [{key: letter.get(key) for key in ("doc_id", "doc_type", "date", "title")}
                              for letter in inspection.letters],
            "recommendations": [{
                "text": recommendation_text(chain.recommendation), "citation": chain.recommendation.citation,
                "passage_id": chain.recommendation.passage_id, "judgement_area": chain.recommendation.judgement_area,
                "plan_actions": [link(item, weighed=False) for item in chain.actions],
                "visits": [link(item) for item in chain.visits],
                "next_inspection": chain.later_report["doc_id"] if chain.later_report else None,
                "next_grade": chain.later_grade, "outcome": chain.outcome,
                "outcome_probability": None if chain.confidence is None else round(chain.confidence, 3),
                "outcome_basis": chain.basis,
                "later": [link(item) for item in chain.later],
            } for chain in inspection.chains],
        } for inspection in result.inspections],
        "outcomes": result.outcomes,
    }


def command_eval(args) -> int:
    """Score retrieval and answers against a question set (see indexer/evaluation.py)."""
    from . import evaluation

    return evaluation.run(args)


def command_bench(args) -> int:
    """Measure reading, embedding, building and searching (see indexer/benchmark.py)."""
    from . import benchmark

    return benchmark.run(args)


def command_fetch(args) -> int:
    """Download Ofsted's published reports into a corpus folder, with a metadata.csv row for each."""
    from collections import Counter

    from .authorities import authorities_in_region, find_authority, load_register
    from .fetching import Client, already_there, fetch_all, read_provider_pages, read_record
    from .publications import choose, file_names, load_reports, merge

    settings = Settings.from_env()
    named = [find_authority(name) for name in args.authority or ()]
    named += [authority for region in args.region or () for authority in authorities_in_region(region)]
    authorities = list(dict.fromkeys(named)) or None
    folder = Path(args.into)
    client = Client(settings)
    reports = list(load_reports())
    if args.refresh or args.kind != "inspection":
        if not args.refresh:
            print("The register lists inspection reports only: reading the provider pages for letters.")
        listed, problems = read_provider_pages(client, authorities or list(load_register()))
        new = merge(reports, listed)[len(reports):]
        print(f"Provider pages list {len(new)} reports and letters the register does not.")
        for problem in problems:
            print(f"failed   {problem}")
        reports += new
    names = file_names(reports)
    wanted = choose(reports, authorities, args.since, args.kind)
    what = {"inspection": "inspection reports", "letters": "letters", "all": "reports or letters"}[args.kind]
    for authority in authorities or ():
        if not any(report.authority == authority.name for report in wanted):
            print(f"No {what} known for {authority.name}{' since ' + args.since if args.since else ''}"
                  f"{'' if args.refresh else ' (--refresh reads its provider page for newer ones)'}.")
    if args.dry_run:
        record = read_record(folder)
        for report in wanted:
            name = names[report.file_id]
            there = "there    " if already_there(folder / name, record.get(name)) else "would get"
            print(f"{there} {name}  {report.title}, published {report.published}  {report.url}")
        print(f"{len(wanted)} reports; nothing was downloaded (--dry-run).")
        return 0
    outcomes = fetch_all(wanted, names, folder, client, progress=not args.quiet, verbose=args.verbose)
    counts = Counter(outcome.status for outcome in outcomes)
    fetched = [outcome for outcome in outcomes if outcome.status == "fetched"]
    survived = Counter(fault.name for outcome in fetched for fault in outcome.survived)
    redirects = sum("redirected to" in outcome.detail for outcome in fetched)
    print(f"Fetched {counts['fetched']}, skipped {counts['skipped']} already there, failed {counts['failed']}"
          + (f", {counts['not tried']} not tried (the connection was lost)" if counts["not tried"] else "")
          + (f"; survived by retrying: {', '.join(f'{name} ×{n}' for name, n in sorted(survived.items()))}"
             if survived else "")
          + (f"; {redirects} redirect{'s' if redirects > 1 else ''} followed" if redirects else "")
          + f". Folder: {folder}")
    failed = [outcome for outcome in outcomes if outcome.status == "failed"]
    if failed:
        print("Failed (run the same command again to retry them; what is there is kept):")
        for outcome in failed:
            print(f"  {outcome.file}: {outcome.detail}  [{outcome.report.url}]")
    if counts["fetched"] or counts["skipped"]:
        print(f"Index them: python -m indexer build --corpus {folder} --if-stale")
    return 1 if failed or counts["not tried"] else 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of passages, 1 or more")
    return value


def parser() -> argparse.ArgumentParser:
    """The argument parser for every command."""
    top = argparse.ArgumentParser(prog="python -m indexer", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="build or refresh the index from the corpus")
    build.add_argument("--corpus", action="append", help="folder of documents (repeatable); default corpus/")
    build.add_argument("--index", help="index folder; default index/")
    build.add_argument("--if-stale", action="store_true", help="do nothing when the index is up to date")
    build.add_argument("--strict", action="store_true", help="exit non-zero when any file is skipped")
    build.add_argument("--quiet", action="store_true", help="no progress bars")
    build.add_argument("--verbose", action="store_true", help="list every document indexed")
    build.add_argument("--wait", action="store_true", help="when another build is running, wait for it to end")
    build.set_defaults(run=command_build)

    add = commands.add_parser("add", help="add files to the index (only they are read and embedded)")
    add.add_argument("files", nargs="+", help="files to add")
    remove = commands.add_parser("remove", help="take documents out of the index")
    remove.add_argument("documents", nargs="+", help="document id, file name or path")
    for sub, run in ((add, command_add), (remove, command_remove)):
        sub.add_argument("--index", help="index folder; default index/")
        sub.add_argument("--strict", action="store_true", help="exit non-zero when any file is skipped")
        sub.add_argument("--quiet", action="store_true", help="no progress bars")
        sub.add_argument("--verbose", action="store_true", help="list every document indexed")
        sub.add_argument("--wait", action="store_true", help="when another build is running, wait for it to end")
        sub.set_defaults(run=run)

    search = commands.add_parser("search", help="find cited passages that answer a question")
    search.add_argument("query", nargs="?", help="the question")
    search.add_argument("-k", type=_positive, default=10, help="how many passages (default 10)")
    search.add_argument("--authority", action="append", help="only this local authority (repeatable)")
    search.add_argument("--region", action="append", help="only authorities in this English region (repeatable)")
    search.add_argument("--authority-type", action="append",
                        help="only this type of authority: County, London Borough, Metropolitan District, Unitary Authority")
    search.add_argument("--neighbours-of", action="append", metavar="AUTHORITY",
                        help="only this authority and its ten statistical neighbours (repeatable)")
    search.add_argument("--doc-type", action="append", help="only this document type (repeatable)")
    search.add_argument("--since", help="only documents dated in or after YYYY (or YYYY-MM-DD)")
    search.add_argument("--until", help="only documents dated in or before YYYY (or YYYY-MM-DD)")
    search.add_argument("--grade", action="append",
                        help="only documents judged so: GRADE (overall effectiveness) or 'AREA=GRADE', "
                             "e.g. inadequate, 'care leavers=good' (repeatable: all must hold)")
    search.add_argument("--json", action="store_true", help="one JSON object per question")
    search.add_argument("--batch", help="file with one question per line ('-' for standard input)")
    search.add_argument("--index", help="index folder; default index/")
    search.set_defaults(run=command_search)

    stats = commands.add_parser("stats", help="what the index holds")
    stats.add_argument("--index", help="index folder; default index/")
    stats.set_defaults(run=command_stats)

    documents = commands.add_parser("documents", help="list indexed documents and their metadata")
    documents.add_argument("--json", action="store_true", help="one JSON object per document")
    documents.add_argument("--index", help="index folder; default index/")
    documents.set_defaults(run=command_documents)
    following = commands.add_parser("follow", help="an authority's recommendations, traced to its plans and the "
                                                   "next inspection")
    following.add_argument("authority", help="the authority (any name or alias: 'Hull', 'BCP')")
    following.add_argument("--json", action="store_true", help="one JSON object")
    following.add_argument("--index", help="index folder; default index/")
    following.set_defaults(run=command_follow)
    evaluate = commands.add_parser("eval", help="score retrieval and answers on a question set")
    evaluate.add_argument("questions", help="JSONL file of questions with gold snippets")
    evaluate.add_argument("--index", help="index folder; default index/")
    evaluate.add_argument("--corpus", action="append", help="corpus folder(s) the baselines read")
    evaluate.add_argument("--split", help="only questions of this split (dev or heldout)")
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    evaluate.set_defaults(run=command_eval)

    fetch = commands.add_parser("fetch", help="download Ofsted's published children's services reports")
    fetch.add_argument("--authority", action="append", help="only this local authority, by any of its names "
                                                            "(repeatable; adds to --region)")
    fetch.add_argument("--region", action="append", help="only the authorities of this region, e.g. 'North West' "
                                                         "(repeatable)")
    fetch.add_argument("--since", help="only reports published in or after YYYY (or YYYY-MM-DD)")
    fetch.add_argument("--kind", choices=("inspection", "letters", "all"), default="inspection",
                       help="inspection reports (default), letters (focused and monitoring visits, JTAIs: read "
                            "from the provider pages), or all")
    fetch.add_argument("--into", default=str(PROJECT_ROOT / "reports"), help="folder to fetch into; default reports/")
    fetch.add_argument("--refresh", action="store_true",
                       help="also read the authorities' Ofsted provider pages for reports newer than the register")
    fetch.add_argument("--dry-run", action="store_true", help="list what would be fetched; download nothing")
    fetch.add_argument("--quiet", action="store_true", help="no progress bar")
    fetch.add_argument("--verbose", action="store_true", help="also list every file skipped")
    fetch.set_defaults(run=command_fetch)

    bench = commands.add_parser("bench", help="measure speed and size (options: python -m indexer bench -- --help)")
    bench.add_argument("options", nargs=argparse.REMAINDER, help="passed to the benchmark's own parser")
    bench.set_defaults(run=command_bench)
    return top


def main(argv: list[str] | None = None) -> int:
    """Run a command; an IndexerError becomes a one-line message and exit status 2."""
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except IndexerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
