"""deeprnn: see how information and gradients flow through a deep (stacked) RNN. Routes only."""

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run without PYTHONPATH too
from app.parts import layout  # noqa: E402
from app.runs import server  # noqa: E402
from app.settings import language, sidebar, state, tuning_query  # noqa: E402
from app.settings.controls import BY_URL  # noqa: E402
from app.words.i18n import N_  # noqa: E402
from app.words.i18n import gettext as _  # noqa: E402

server.freeze_modules()  # before Streamlit's per-run full collection: see there

# The pages live in views/, not pages/: a pages/ folder beside this file makes Streamlit serve
# a deep link such as /compare as a legacy page, without this router (no sidebar, no state).

st.set_page_config(
    page_title="deeprnn: deep RNN flow", page_icon=":material/layers:", layout="wide"
)
language.load()  # this run's language, before any word is drawn
# (file in views/, title, Material icon, URL path: the one the old file name gave, so shared
# links keep working). The Lesson comes first and opens at "/".
PAGES = (
    ("lesson", N_("Lesson"), "school", "lesson"),
    ("information_flow", N_("Information flow"), "grid_on", "flow"),
    ("hidden_states", N_("Hidden states"), "texture", "hidden"),
    ("gradient_flow", N_("Gradient flow"), "trending_down", "gradients"),
    ("depth_sweep", N_("Depth sweep"), "stacked_line_chart", "sweep"),
    ("plain_vs_deep", N_("Plain vs deep"), "compare_arrows", "compare"),
    ("ab_compare", N_("A/B compare"), "splitscreen", "ab"),
    ("phase_diagram", N_("Phase diagram"), "blur_on", "phase"),
    ("training", N_("Training"), "model_training", "training"),
    ("tuning_map", N_("Tuning map"), "grid_view", "tuning"),
)
# Before the Lesson, "/" was the Information flow page, so a link shared from it is "/" with
# settings: one that carries a lab setting (other than the lesson's ?step=) still opens there.
lab_link = bool((set(st.query_params) - {"step", language.PARAM}) & set(BY_URL))
landing = "flow" if lab_link else "lesson"
pages = [
    st.Page(
        f"views/{file}.py",
        title=_(title),
        icon=f":material/{icon}:",
        url_path=f"{url}-home" if home else url,
        default=home,
        visibility="visible" if home or url != landing else "hidden",
    )
    for file, title, icon, url in PAGES
    for home in ((True, False) if url == landing else (False,))
]  # the landing page twice: at "/" in the menu, and at its own path (hidden) for deep links
# A path no page has (an old link's view file name, a typo) would open Streamlit's "Page not
# found" dialog: it gets a hidden page of its own instead, the page it names or the landing
# page, and the link's settings apply as they would at /.
asked = layout.asked_path(st.context.url, {p.url_path for p in pages})
if asked:
    file = layout.OLD_PATHS.get(asked, next(f for f, *_, u in PAGES if u == landing))
    title = next(t for f, t, *_ in PAGES if f == file)
    pages.append(
        st.Page(f"views/{file}.py", title=_(title), url_path=asked, visibility="hidden")
    )  # fmt: skip
page = st.navigation(pages)
lesson = page.title == _(PAGES[0][1])  # (the default page's url_path is "")
own = (language.PARAM, *tuning_query.names())  # not sidebar settings: read by their owners
state.load(skip=("step", *own) if lesson else own)
tuning_query.load()
state.begin_run(page.url_path)
language.widget()
# The page before the sidebar's controls (drawn into their place above it afterwards): its
# figures reach the browser first, which then loads plotly while the widgets arrive. The
# controls' values live in session state (state.stored), so the page does not need them drawn.
# The Lesson draws only what its step uses, and keeps its own address (?step=).
controls = st.sidebar.container()
layout.guarded(page.run)()
if not lesson:
    sidebar.draw(controls)
    state.write_url()
