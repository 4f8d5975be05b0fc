"""The Lesson: the tutorial's claims in its own order, one step per screen, each with a live
figure at preset settings, one control to try, a question and the answer from the numbers."""

import pandas as pd
import streamlit as st

from app.parts import layout, lesson_nav
from app.parts.lesson_content import content, lab_link
from app.runs import server
from app.settings import language
from app.words.i18n import N_
from app.words.i18n import gettext as _
from app.words.lesson_steps import FORMULA, STEPS

TUTORIAL = "《深度循环神经网络》"
QUESTION, ANSWER = N_("Question"), N_("Answer, from the numbers at these settings")


def claim(step) -> None:
    """The tutorial's sentence: the Chinese original with its section, and (in English) its
    rendering."""
    zh = step.claim_zh
    quote = f"> {zh}\n>\n> — {TUTORIAL} · {step.section_zh}"
    if language.current() == "en":
        en = _(step.claim_en).format(formula=FORMULA)
        quote += f"\n>\n> *{en}* ({_(step.section_en)})"
    st.markdown(quote)
    if step.source:
        st.caption(_(step.source))


@layout.guarded
def draw() -> None:
    server.note_session()
    index, notice = lesson_nav.current()
    step = STEPS[index]
    st.title(_("Lesson: {title}").format(title=_(step.title)))
    for why in filter(None, (notice, language.notice())):
        st.warning(why, icon=":material/warning:")
    lesson_nav.buttons(index, "top")
    claim(step)
    value = lesson_nav.control(step, st.sidebar)
    shown = content(step, value)
    for note in shown.notices:
        st.info(note, icon=":material/info:")
    layout.chart(shown.figure, f"lesson_{step.key}")
    if shown.table:
        head, *rows = shown.table
        st.table(pd.DataFrame(rows, columns=head).set_index(head[0]))
    try_it, where = _("Try"), _("(the control is in the sidebar)")
    st.markdown(f"**{try_it}:** {_(step.try_text)} {where}")
    st.markdown(f"**{_(QUESTION)}:** {_(step.question)}")
    st.markdown(f"**{_(ANSWER)}:**\n\n{shown.answer}")
    link, open_it = lab_link(shown.page, shown.settings), _("Open this in the lab")
    st.markdown(f"[{open_it} →]({link})")
    lesson_nav.buttons(index, "bottom")
    lesson_nav.write_url(index)
    lesson_nav.handout_section(st.sidebar)


draw()
