"""An answer as a self-contained Markdown document: for download, copying into notes, or audit.

It carries everything the screen shows that matters away from the screen: the question (as
scrubbed), the confidence label and reasons, safety notices, the answer, the numbered citations
with their provenance, and the disclaimer. Untrusted text (the answer body and the passages) is
neutralised, so opening the file in a Markdown viewer fetches nothing and runs nothing.
"""

from __future__ import annotations

from pipelines.models import Answer, Citation
from pipelines.render_safety import neutralise_markdown, safe_url

DISCLAIMER = "Always verify against the source and use clinical judgement."


def citation_line(citation: Citation) -> str:
    """One reference: "Title — Publisher. Section, page p. Last reviewed YYYY-MM-DD. <url>"."""
    parts = [f"{citation.title} — {citation.publisher}."]
    where = citation.section or ""
    if citation.page is not None:
        where = f"{where}, page {citation.page_label}" if where else f"Page {citation.page_label}"
    if where:
        parts.append(f"{where}.")
    if citation.last_reviewed:
        parts.append(f"Last reviewed {citation.last_reviewed}.")
    text = neutralise_markdown(" ".join(parts))
    url = safe_url(citation.url)
    return f"{text} <{url}>" if url else text


def answer_to_markdown(answer: Answer) -> str:
    """The whole answer as Markdown, citations numbered as in the answer text."""
    lines = [f"# {neutralise_markdown(answer.question)}", "",
             f"**{answer.confidence.label}**", ""]
    lines += [f"- {neutralise_markdown(reason)}" for reason in answer.confidence.reasons]
    if answer.confidence.reasons:
        lines.append("")
    for flag in answer.red_flags:
        name, message = neutralise_markdown(flag.name), neutralise_markdown(flag.message)
        lines += [f"> **Red flag — {name}**: {message}", ""]
    for notice in answer.notices:
        lines += [f"> {neutralise_markdown(notice)}", ""]
    lines += [neutralise_markdown(answer.answer), ""]
    if answer.abstained and answer.nearest_guidelines:
        lines += ["Nearest guidelines in the library:", ""]
        lines += [f"- {neutralise_markdown(title)}" for title in answer.nearest_guidelines]
        lines.append("")
    if answer.citations:
        lines += ["## Sources", ""]
        for citation in answer.citations:
            lines += [f"\\[{citation.n}\\] {citation_line(citation)}", "",
                      *[f"> {neutralise_markdown(row)}" for row in citation.text.splitlines() if row.strip()],
                      ""]
    lines += [f"*{DISCLAIMER}*", "",
              f"Answered by Guidelight ({answer.mode}), index version `{answer.index_version}`."]
    return "\n".join(lines).rstrip() + "\n"
