"""The Lesson's handout: one self-contained HTML file (every step's text and interactive plotly
figure, plotly.js embedded once, nothing fetched from a network). Pure: steps in, text out."""

from __future__ import annotations

import html
import re

from app.words.i18n import gettext as _

STYLE = (
    "body{font-family:'WenQuanYi Micro Hei','Noto Sans CJK SC',system-ui,sans-serif;"
    "max-width:1000px;margin:2em auto;padding:0 1em;line-height:1.5}"
    "blockquote{border-left:4px solid #4e79a7;margin:1em 0;padding:.2em 1em;background:#f4f7fb}"
    "code{background:#f0f0f0;padding:0 .2em}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:.2em .5em}section{margin-bottom:3em}"
)


def markdown_html(text: str) -> str:
    """The little markdown the lesson's sentences use (**bold**, `code`, "- " lists, links,
    blank-line paragraphs) as HTML; everything else escaped."""
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.split("\n")
        items = [_inline(line[2:]) for line in lines if line.startswith("- ")]
        rest = [_inline(line) for line in lines if not line.startswith("- ")]
        if rest:
            out.append(f"<p>{'<br>'.join(rest)}</p>")
        if items:
            out.append("<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>")
    return "\n".join(out)


def _inline(text: str) -> str:
    text = html.escape(text, quote=False)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"\*([^*]+)\*", r"<em>\1</em>", text)


def _table(rows: list) -> str:
    head, *body = rows
    cells = "".join(f"<th>{_inline(str(c))}</th>" for c in head)
    lines = "".join(
        "<tr>" + "".join(f"<td>{_inline(str(c))}</td>" for c in row) + "</tr>" for row in body
    )
    return f"<table><tr>{cells}</tr>{lines}</table>"


def handout_html(
    steps: list, links: list[tuple[str, str]], base: str, lang: str, lab: list | None = None
) -> str:
    """The handout.

    Args:
        steps: (Step, parts.lesson_content.Content) per step, at the step's preset.
        links: (title, URL) of every step (the teacher's list; relative when ``base`` is "").
        base: the app's root URL, or "" when unknown.
        lang: the page's language ("en" / "zh").
        lab: each step's "open this in the lab" URL (absolute: only when ``base`` is known).
    """
    from_claim = {"en": lambda s: _(s.claim_en), "zh": lambda s: s.claim_zh}
    intro = _("Each step at its preset settings; the figures are interactive (zoom, hover) and "
              "need no server.")  # fmt: skip
    title = html.escape(_("deeprnn: the Lesson"))
    parts = [f"<h1>{title}</h1>", f"<p>{html.escape(intro)}</p>"]
    question, answer = _("Question"), _("Answer, from the numbers at these settings")
    open_it = _("Open this in the lab")
    for i, (step, shown) in enumerate(steps, 1):
        claim = from_claim.get(lang, from_claim["en"])(step).replace("{formula}", "")
        quote = f"{html.escape(step.claim_zh)}<br>— {html.escape(step.section_zh)}"
        if lang == "en":
            quote += f"<br><em>{html.escape(claim)}</em> ({html.escape(_(step.section_en))})"
        figure = shown.figure.to_html(
            full_html=False, include_plotlyjs=i == 1, div_id=f"step{i}",
            config={"displaylogo": False},
        )  # fmt: skip
        parts += [
            f"<section><h2>{i}. {html.escape(_(step.title))}</h2>",
            f"<blockquote>{quote}</blockquote>",
            f"<p><small>{html.escape(_(step.source))}</small></p>" if step.source else "",
            figure,
            _table(shown.table) if shown.table else "",
            f"<p><strong>{html.escape(question)}:</strong> {html.escape(_(step.question))}</p>",
            f"<p><strong>{html.escape(answer)}:</strong></p>",
            markdown_html(shown.answer),
            f'<p><a href="{html.escape(lab[i - 1])}">{html.escape(open_it)} →</a></p>'
            if lab
            else "",
            "</section>",
        ]
    links_title = _("Teacher’s links")
    parts.append(f"<h2>{html.escape(links_title)}</h2><ol>")
    parts += [f"<li>{html.escape(title)}: <code>{html.escape(url)}</code></li>"
              for title, url in links]  # fmt: skip
    parts.append("</ol>")
    body = "\n".join(parts)
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}'
            f"</title><style>{STYLE}</style></head><body>{body}</body></html>")  # fmt: skip
