"""The Lesson's Streamlit pieces: which step is open (``?step=N``, a bad value -> step 1 and a
notice), Previous / Next (the arrow keys too), the one control a step uses, in the sidebar,
and the handout with the teacher's link list."""

from __future__ import annotations

import streamlit as st

from app.figures.handout import handout_html
from app.parts.lesson_content import Content, content, lab_link, preset_value
from app.settings import language, state
from app.settings.controls import BY_KEY, MAX_SHOWN, PER_LAYER, quote
from app.words.i18n import gettext as _
from app.words.lesson_steps import STEPS, Step

STEP_KEY = "lesson_step"  # session state: the open step, 0-based
PARAM = "step"
_URL_READ = "lesson_url_read"


def from_url(text: str | None, count: int) -> tuple[int, str | None]:
    """The 0-based step of ``?step=`` (1-based, ASCII digits), and a notice when the value was
    refused (then the first step)."""
    if text is None:
        return 0, None
    if text.isascii() and text.isdigit() and len(text) <= 4 and 1 <= int(text) <= count:
        return int(text) - 1, None
    return 0, _("URL parameter step = {value} is not a step of this lesson (1 to {n}); "
                "showing step 1.").format(value=quote(text, MAX_SHOWN), n=count)  # fmt: skip


def current() -> tuple[int, str | None]:
    """The open step; on the session's first visit, the URL's (and its notice)."""
    notice = None
    if not st.session_state.get(_URL_READ):
        st.session_state[_URL_READ] = True
        given = st.query_params.get_all(PARAM)
        st.session_state[STEP_KEY], notice = from_url(given[-1] if given else None, len(STEPS))
    return st.session_state.get(STEP_KEY, 0), notice


def go(index: int) -> None:
    st.session_state[STEP_KEY] = max(0, min(len(STEPS) - 1, index))


def write_url(index: int) -> None:
    query = {PARAM: str(index + 1), language.PARAM: language.current()}
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)


def buttons(index: int, where: str) -> None:
    """Previous / Next; the arrow keys press the top pair."""
    left, middle, right = st.columns([1, 3, 1])
    keys = ("Left", "Right") if where == "top" else (None, None)
    left.button(_("Previous"), key=f"lesson_prev_{where}", disabled=index == 0,
                on_click=go, args=(index - 1,), shortcut=keys[0])  # fmt: skip
    middle.progress((index + 1) / len(STEPS),
                    text=_("Step {i} of {n}").format(i=index + 1, n=len(STEPS)))  # fmt: skip
    right.button(_("Next"), key=f"lesson_next_{where}", disabled=index == len(STEPS) - 1,
                 on_click=go, args=(index + 1,), shortcut=keys[1])  # fmt: skip


def value_key(step: Step) -> str:
    return f"lesson:{step.key}:{step.control}"


def control(step: Step, box) -> object:
    """Draw the step's one control in ``box`` and return its value (kept per step)."""
    key = value_key(step)
    stored = st.session_state.get(state.stored(key), preset_value(step))
    st.session_state.setdefault(key, stored)

    def changed() -> None:
        st.session_state[state.stored(key)] = st.session_state[key]

    common = dict(key=key, on_change=changed)
    if step.control == "choice":
        labels = {c.value: _(c.label) for c in step.choices}
        return box.radio(_(step.try_text), list(labels), format_func=labels.get, **common)
    c = BY_KEY[step.control]
    label, hint = _(c.label), _(c.help) if c.help else ""
    if c.kind in ("slider", "number"):
        kind = type(c.default)
        high = kind(step.high if step.high is not None else c.high)
        st.session_state[key] = min(max(st.session_state[key], kind(c.low)), high)
        make = box.slider if c.kind == "slider" else box.number_input
        return make(label, kind(c.low), high, step=kind(c.step), help=hint, **common)
    if c.kind == "check":
        return box.checkbox(label, help=hint, **common)
    names = dict(zip(c.options, c.labels or c.options))
    options = [o for o in c.options if o != PER_LAYER]  # one value for all layers here
    return box.selectbox(label, options, format_func=lambda v: _(names[v]), help=hint,
                         **common)  # fmt: skip


def base_url() -> str:
    """The app's root URL as the browser sees it ("" when unknown)."""
    try:
        url = st.context.url or ""
    except Exception:  # noqa: BLE001 - no browser context (AppTest)
        url = ""
    return url.split("?")[0].rsplit("/", 1)[0] + "/" if url.startswith("http") else ""


def step_links(base: str) -> list[tuple[str, str]]:
    """(title, URL) of every step, in the current language: the teacher's link list."""
    lang = language.current()
    return [(_(s.title), f"{base}lesson?step={i + 1}&lang={lang}") for i, s in enumerate(STEPS)]


def handout_section(box) -> None:
    """The sidebar's "Download the lesson" (built when opened: it runs every step's preset)."""
    opened = state.section(_("Download the lesson"), "open_handout", container=box)
    if opened is None:
        return
    base = base_url()
    links = step_links(base)
    with st.spinner(_("Building the handout…")):
        html = build_handout(base, language.current())
    opened.download_button(
        _("Download the lesson (HTML, {size:.1f} MB)").format(size=len(html) / 2**20),
        html.encode("utf-8"), file_name=f"deeprnn_lesson_{language.current()}.html",
        mime="text/html", key="lesson_handout",
    )  # fmt: skip
    opened.caption(_("One file: every step's text and interactive figure at its preset, "
                     "plotly included; it opens without a server or a network."))  # fmt: skip
    opened.markdown(_("**Teacher's links** (each step's URL):"))
    opened.code("\n".join(url for _title, url in links), language=None)


@st.cache_data(max_entries=4, show_spinner=False)
def build_handout(base: str, lang: str) -> str:
    """The handout of every step at its preset, in ``lang`` (the current language; a cache
    key: built once per language and address, not on every rerun while the section is open)."""
    shown: list[tuple[Step, Content]] = [(s, content(s)) for s in STEPS]
    lab = [lab_link(c.page, c.settings, base) for _s, c in shown] if base else None
    return handout_html(shown, step_links(base), base, language.current(), lab)
