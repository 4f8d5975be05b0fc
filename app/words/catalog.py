"""The message catalog's upkeep (``make messages``): extract every gettext message from app/
with babel (keywords _, gettext, ngettext, N_), add every control of settings.controls' table
(label, help, worded option labels) and the sidebar's group names, merge into
app/locale/zh/LC_MESSAGES/deeprnn.po keeping its translations, and compile the .mo.

Glossary (the tutorial's own terms; keep them when translating):
hidden state 隐状态 · vanishing / exploding gradient 梯度消失 / 梯度爆炸 · residual connection
残差连接 · gradient clipping 梯度裁剪 · layer normalization 层归一化 (Layer Normalization) ·
learning-rate schedule 学习率调度 · overfitting 过拟合 · layer 层 · time step 时间步 ·
deep RNN 深度 RNN · plain RNN 普通 RNN · loss 损失 · baseline 基线 · training 训练 ·
validation 验证.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from app.settings.controls import BY_KEY, CONTROLS, GROUPS
from app.words.i18n import DOMAIN, LOCALE_DIR
from app.words.lesson_steps import STEPS
from deeprnn_core import ACTIVATIONS, OPTIMIZERS, SCHEDULES, SCHEMES
from deeprnn_core.config import ACTIVATION_RULE, DROPOUT_RULE, LAYER_NORM_RULE, RESIDUAL_RULE
from deeprnn_core.engine.overflow import QUANTITIES
from deeprnn_core.theory.mean_field import SCOPE

APP = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
PO = LOCALE_DIR / "zh" / "LC_MESSAGES" / f"{DOMAIN}.po"
MO = PO.with_suffix(".mo")


# option labels that are names, kept as they are in every language (not in the catalog)
NAMES = {*ACTIVATIONS, *SCHEMES, *SCHEDULES, *OPTIMIZERS, "constant", "Adam", "AdamW",
         "RMSprop", "same"}  # fmt: skip


# the core's sentences that the app shows inside its own (stated once, in the core)
# (app/words/core_text reads them through gettext)
CORE_SENTENCES = (DROPOUT_RULE, LAYER_NORM_RULE, RESIDUAL_RULE, ACTIVATION_RULE, SCOPE,
                  *QUANTITIES.values())  # fmt: skip


def control_messages() -> list[str]:
    """The label, help and worded option labels of every control (settings.controls' table),
    the sidebar's group names: state.widget and sidebar.draw show them through gettext.
    The controls the Lesson draws come first."""
    lesson = [BY_KEY[s.control] for s in STEPS if s.control != "choice"]
    out = list(GROUPS)
    for c in dict.fromkeys([*lesson, *CONTROLS]):
        shown = [str(v) for v in c.labels] or [str(v) for v in c.options if c in lesson]
        out += [c.label, c.help, *(v for v in shown if v not in NAMES)]
    return [m for m in dict.fromkeys(out) if m and re.search("[A-Za-z]", m)]


def extracted() -> Catalog:
    """Every message of app/ and the lesson's controls, as a template (no translations)."""
    catalog = Catalog(project="deeprnn", locale=None)
    for filename, lineno, message, comments, _context in extract_from_dir(
        str(APP), method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        catalog.add(message, locations=[(f"app/{filename}", lineno)], auto_comments=comments)
    for message in control_messages():
        catalog.add(message, locations=[("app/settings/controls.py", 0)])
    for message in CORE_SENTENCES:
        catalog.add(message, locations=[("deeprnn_core/config.py", 0)])
    return catalog


def update() -> Catalog:
    """The Chinese catalog merged with the template (translations kept), written back."""
    template = extracted()
    if PO.exists():
        with PO.open("rb") as f:
            zh = read_po(f, locale="zh_Hans_CN", domain=DOMAIN)
        zh.update(template, no_fuzzy_matching=True)
    else:
        zh = Catalog(locale="zh_Hans_CN", domain=DOMAIN, project="deeprnn")
        zh.update(template)
    zh.fuzzy = False  # the header: a fuzzy one is left out of the .mo, and its Plural-Forms too
    zh.project, zh.version = "deeprnn", "1"
    zh.last_translator = zh.language_team = "deeprnn"
    PO.parent.mkdir(parents=True, exist_ok=True)
    with PO.open("wb") as f:
        write_po(f, zh, width=100, omit_header=False, ignore_obsolete=True)
    return zh


def compile_mo(zh: Catalog) -> None:
    with MO.open("wb") as f:
        write_mo(f, zh)


def main() -> None:
    zh = update()
    compile_mo(zh)
    missing = [m.id for m in zh if m.id and not m.string]
    print(f"{PO}: {len(zh)} messages, {len(missing)} without a translation", file=sys.stderr)


if __name__ == "__main__":
    main()
