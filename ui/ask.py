"""Ask: a question in, the best-supported verbatim sentences and the cited passages out."""

import streamlit as st

from indexer.export import Section
from ui import core

EXAMPLES = (
    "What was said about care leavers' pathway plans?",
    "Do IROs challenge poor practice?",
    "Is early help any good in Tameside?",
    "Are children seen alone by social workers?",
)


def use_example(question: str) -> None:
    st.session_state["q"] = question


searcher = core.open_searcher()
core.init_from_url("q", "")
st.title("Ask the inspection reports")
with st.form("ask", border=False):
    st.text_input("Your question", key="q", placeholder="e.g. " + EXAMPLES[0])
    st.form_submit_button("Ask", type="primary", icon=":material/search:")
query = st.session_state["q"].strip()
core.write_url({"q": ""})

if not query:
    documents = searcher.index.documents.values()
    authorities = sorted({record["authority"] for record in documents if record.get("authority")})
    st.markdown(f"Searches **{len(searcher.index.documents)} documents** "
                f"({core.md(', '.join(authorities))}) and answers in the reports' own words, "
                "with a citation for every sentence: document, date, paragraph and page.")
    st.markdown("Try one of these:")
    for number, example in enumerate(EXAMPLES):
        st.button(example, on_click=use_example, args=(example,), key=f"example-{number}", type="tertiary",
                  icon=":material/arrow_forward:")
    st.stop()

filters = core.current_filters(searcher)
hits, seconds = core.timed(core.search, searcher, query, 10, filters)
if not hits:
    st.info("No passage matches these filters. Clear some filters in the sidebar and ask again.")
    st.stop()
sentences = core.answer(searcher, query, hits)
meaning = core.interpret(searcher, query, filters)
notes = [f"{len(hits)} passages in {seconds:.2f} s", f"filters: {core.describe_filters(filters)}"]
if meaning.get("expansions"):
    notes.append("also searched for " + "; ".join(f"{e.term} → {e.expansion}" for e in meaning["expansions"]))
if meaning.get("authorities"):
    notes.append("only " + ", ".join(meaning["authorities"]) + ", as the question names it")
if meaning.get("time"):
    notes.append(f"favouring {meaning['time']}")
st.caption(core.md(" · ".join(notes)))
if meaning.get("absent"):
    scope = (f"from {', '.join(meaning['authorities'])} only" if meaning.get("authorities")
             else "from every authority it holds")
    st.warning(core.md(f"This index has no documents for {', '.join(meaning['absent'])}: the passages below come "
                       f"{scope}. Add their reports to the corpus and rebuild to search them."),
               icon=":material/info:")

if sentences:
    with st.container(border=True):
        st.subheader("Answer", anchor=False)
        st.caption("What inspectors found, in sentences quoted verbatim from the reports; each number goes to the "
                   "passage it comes from.")
        st.html(core.answer_html(sentences))
improve = core.recommendations(searcher, query, hits, filters)
if improve:
    with st.container(border=True):
        st.markdown("**Ofsted said this needs to improve**")
        st.caption("Items from the reports' “What needs to improve” lists, quoted verbatim.")
        st.html(core.answer_html(improve))

core.export_buttons("ask-results", "Inspection report search: Ask", query,
                    [Section(None, tuple(hits))], [f"Filters: {core.describe_filters(filters)}"])
st.subheader("Passages", anchor=False)
for hit in hits:
    core.show_hit(searcher, hit, core.highlight_spans(hit, sentences), key="ask", anchor=f"hit-{hit.rank}")
