"""The Lesson's steps, in the tutorial's order: for each, the claim quoted (the Chinese original
from the seed, its section, and an English rendering), the preset settings its figure opens at,
the one control to try, the question, and the lab page that shows it in full.

Pure data (the sentences built from numbers are words.lesson_answers). English strings are
gettext msgids marked with N_ and translated where they are shown; the Chinese claims are the
tutorial's own words, shown as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.words.i18n import N_


@dataclass(frozen=True)
class Choice:
    """One value of a lesson-only control: its label and the lab settings it means."""

    value: str
    label: str  # msgid
    settings: tuple = ()  # ((Settings field, value), ...) it sets (trained: runs.lesson_runs)


@dataclass(frozen=True)
class Step:
    """One screen of the lesson."""

    key: str  # stable name (tests, the precomputed runs)
    title: str  # msgid
    section_zh: str  # the tutorial's section, as the seed names it
    section_en: str  # msgid: its English name
    claim_zh: str  # the tutorial's sentence, as the seed writes it
    claim_en: str  # msgid: the same in English
    page: str  # URL path of the lab page that shows it in full
    preset: tuple  # ((Settings field, value), ...) over the defaults
    control: str  # a Settings field (controls.CONTROLS), or "choice" (``choices``)
    try_text: str  # msgid: what to do with the control
    question: str  # msgid
    choices: tuple = ()  # Choice, ... when control == "choice"
    high: float | None = None  # a tighter upper bound for the control's slider
    source: str = ""  # msgid: the later work the step measures (paper, method), after the quote


# orthogonal W_hh: sigma_max(W_hh) = g exactly, so Pascanu's bound reads straight off the gain
EXPLODING = (("scheme", "orthogonal"), ("activation", "relu"), ("recurrent_gain", 2.0),
             ("steps", 30))  # fmt: skip
FORMULA = "H_t^(l) = φ_l(H_t^(l-1) W_xh^(l) + H_{t-1}^(l) W_hh^(l) + b_h^(l))"
SECTION_FORMULA = (
    "数学公式 · 隐状态计算",
    N_("Formulas · computing the hidden state"),
)
SECTION_ARCH = ("核心概念 · 架构特点", N_("Core concepts · features of the architecture"))
SECTION_CHALLENGES = ("实际应用 · 挑战", N_("In practice · challenges"))
SECTION_TABLE = ("深度 RNN 与普通 RNN 对比", N_("Deep RNN compared with the plain RNN"))
SECTION_REMEDIES = ("实际应用 · 优化策略", N_("In practice · optimization strategies"))
GRADIENT_CLAIM = ("梯度问题:更深的网络加剧了梯度消失/爆炸问题",
                  N_("Gradient problems: a deeper network makes vanishing / exploding gradients "
                     "worse."))  # fmt: skip
TABLE_CLAIM = ("梯度问题:普通 RNN「存在」,深度 RNN「更严重」",
               N_("Gradient problems: “present” in the plain RNN, “more severe” in the deep "
                  "RNN."))  # fmt: skip


RECURRENCES = (("lru", N_("LRU")), ("mingru", N_("minGRU")), ("minlstm", N_("minLSTM")))
# the shipped studies (runs.lesson_study): "<study>_<cell>"
STUDIES = (("chars_rnn", N_("characters, tanh RNN")), ("chars_lstm", N_("characters, LSTM")),
           ("adding_rnn", N_("adding problem, tanh RNN")),
           ("adding_lstm", N_("adding problem, LSTM")))  # fmt: skip


# fmt: off
STEPS: tuple[Step, ...] = (
    Step("formula", N_("The formula and the one-layer grid"), *SECTION_FORMULA,
         "对于第l层(l=1,…,L),隐状态的计算公式为:" + FORMULA,
         N_("For layer l (l = 1, …, L) the hidden state is computed as {formula}."),
         "flow", (("num_layers", 1), ("steps", 20), ("hidden_size", 16), ("color_by", "hidden")),
         "steps", N_("Change T, the sequence length."),
         N_("How many hidden states does one layer compute, and what does each one read?"),
         high=60),
    Step("stack", N_("The stack, and the two ways information flows"), *SECTION_ARCH,
         "双向传递:隐状态既传递到下一时间步,也传递到下一层",
         N_("Two-way passing: the hidden state is passed both to the next time step and to the "
            "next layer."),
         "flow", (("num_layers", 3), ("steps", 6), ("hidden_size", 16), ("walk", True),
                  ("walk_step", 8)),
         "walk_step", N_("Step through the computation, forward then backward."),
         N_("Which cells are computed at this step, and which two cells feed the last one?"),
         high=36),
    Step("backward", N_("The gradient's way back"), *SECTION_CHALLENGES, *GRADIENT_CLAIM,
         "gradients", (), "recurrent_gain", N_("Change the recurrent gain g of W_hh."),
         N_("Going back from the last step to the first, what happens to |G_t^(l)|?")),
    Step("depth", N_("What “as L grows” means"), *SECTION_TABLE, *TABLE_CLAIM,
         "sweep", (("steps", 20), ("hidden_size", 16), ("sweep_layers", 8), ("sweep_seeds", 4)),
         "sweep_layers", N_("Sweep to a larger depth."),
         N_("As L grows, do all the measures of the gradient move the same way?"), high=12),
    Step("exploding", N_("Exploding: the gain and Pascanu's bound"), *SECTION_CHALLENGES,
         *GRADIENT_CLAIM,
         "phase", EXPLODING,
         "recurrent_gain",
         N_("Lower the gain g below the edge, then raise it again."),
         N_("Does the largest singular value of W_hh^(l) say whether the gradient must "
            "vanish?")),
    Step("learning", N_("What a vanishing gradient does to learning"), *SECTION_CHALLENGES,
         "训练难度:普通 RNN「中等」,深度 RNN「较高」",
         N_("Training difficulty: “moderate” for the plain RNN, “higher” for the deep RNN."),
         "training", (), "choice", N_("Choose the length T of the adding problem."),
         N_("Which cell learns the adding problem: the tanh RNN or the LSTM?"),
         choices=(Choice("10", N_("T = 10 (short)"), ()), Choice("40", N_("T = 40 (long)"), ()))),
    Step("clipping", N_("Remedy: clipping on an exploding run"), *SECTION_REMEDIES,
         "梯度裁剪:防止梯度爆炸", N_("Gradient clipping: prevents exploding gradients."),
         "gradients", (*EXPLODING, ("clip_norm", 1.0)), "clip_norm",
         N_("Set the clip norm (0 turns clipping off)."),
         N_("What does clipping change: the parameter gradients, or G_t^(l)?")),
    Step("residual", N_("Remedy: residual connections and LayerNorm on a deep stack"),
         *SECTION_REMEDIES, "残差连接:缓解梯度消失;Layer Normalization:稳定训练过程",
         N_("Residual connections: ease vanishing gradients; Layer Normalization: stabilizes "
            "training."),
         "gradients", (("num_layers", 12), ("steps", 20), ("input_size", 32)), "choice",
         N_("Turn on a remedy."),
         N_("Does the gradient reaching the bottom layer get closer to the top layer's?"),
         choices=(Choice("none", N_("no remedy"), ()),
                  Choice("residual", N_("residual connections"), (("residual", True),)),
                  Choice("layer_norm", N_("layer norm"), (("layer_norm", True),)),
                  Choice("both", N_("both"), (("residual", True), ("layer_norm", True))))),
    Step("dropout", N_("Remedy: dropout on overfitting"), *SECTION_REMEDIES,
         "Dropout 正则化:减少过拟合", N_("Dropout regularization: reduces overfitting."),
         "training", (), "choice", N_("Choose the dropout probability p."),
         N_("Does dropout bring the validation loss closer to the training loss?"),
         choices=(Choice("0.25", N_("p = 0.25"), ()), Choice("0.5", N_("p = 0.5"), ()))),
    Step("schedule", N_("Remedy: a learning-rate schedule"), *SECTION_REMEDIES,
         "学习率调度:动态调整学习率", N_("Learning-rate scheduling: adjust the learning rate "
                                         "during training."),
         "training", (), "choice", N_("Choose a schedule."),
         N_("Does the schedule end at a lower training loss than a constant learning rate?"),
         choices=(Choice("cosine", N_("cosine annealing"), ()),
                  Choice("step", N_("step decay"), ()))),
    Step("table", N_("The plain-vs-deep table, checked"), *SECTION_TABLE,
         "层数:单层 / 多层堆叠;参数量:较少 / 较多;计算复杂度:O(h²) / O(Lh²);梯度问题:存在 / 更严重",
         N_("Layers: one / several stacked; parameters: fewer / more; cost: O(h²) / O(Lh²); "
            "gradient problems: present / more severe."),
         "compare", (), "num_layers", N_("Change the depth L of the deep network."),
         N_("Which rows of the table do the measurements confirm at this depth?"), high=16),
    Step("not_held", N_("Where the tutorial's claim did not hold"), *SECTION_TABLE,
         *TABLE_CLAIM,
         "compare", (), "cell", N_("Change the cell type."),
         N_("Is the deep network's gradient problem more severe by every measure?")),
    # Added after the tutorial's own order (so the links to steps 1-12 keep their content): the
    # later work that answers its challenges, measured the same way.
    Step("recurrences", N_("The recurrences that fixed the vanishing gradient"),
         *SECTION_CHALLENGES, *GRADIENT_CLAIM,
         "ab", (("steps", 100),), "choice",
         N_("Choose the recurrence to set against the tanh RNN."),
         N_("Does more of the gradient reach the first step of the bottom layer than in the "
            "tanh RNN, at the same L and T?"),
         choices=tuple(Choice(name, label, (("a_cell", name),)) for name, label in RECURRENCES),
         source=N_("Later work: the LRU (Orvieto et al. 2023, arXiv 2303.06349) and minGRU / "
                   "minLSTM (Feng et al. 2024, arXiv 2410.01201), cells of this app; both are "
                   "at their initialisation here, untrained.")),
    Step("tuning", N_("“Harder to tune”, measured over many runs"), *SECTION_CHALLENGES,
         "调参困难:需要更仔细的超参数调优",
         N_("Hard to tune: needs more careful hyperparameter tuning."),
         "tuning", (), "choice", N_("Choose the task and the cell type of the study."),
         N_("Does the window of good learning rates narrow as L grows?"),
         choices=tuple(Choice(name, label) for name, label in STUDIES),
         source=N_("Measured over many runs: a study of tanh RNN and LSTM stacks over depths, "
                   "learning rates and seeds on two tasks (Optuna's grid sampler, the trials "
                   "trained on a Dask cluster), shipped with the app.")),
)
# fmt: on
BY_KEY = {step.key: step for step in STEPS}


def choice(step: Step, value: str) -> Choice:
    """The Choice of ``step`` named ``value`` (the first when unknown)."""
    return next((c for c in step.choices if c.value == value), step.choices[0])
