"""The core's English, shown in the run's language: the app's boundary with deeprnn_core's words
(the core stays free of gettext). Each function takes what the core returned (a rule, a scope
gap, an Applicability, an order of computation, an exception's message) and gives it back in
the current language; in English it is the core's own text, unchanged. A message the tables
below do not know is shown as the core wrote it. Pure: no Streamlit."""

from __future__ import annotations

import re

from app.words.i18n import N_, language
from app.words.i18n import gettext as _
from deeprnn_core.config import DROPOUT_RULE, LAYER_NORM_RULE, RESIDUAL_RULE, Applicability
from deeprnn_core.engine.order import computation_order
from deeprnn_core.engine.overflow import QUANTITIES

# the pieces theory.mean_field.scope_gap joins with " and "
GAP_PIECES = (
    (re.compile(r"gated cells \((?P<cells>[\w, ]+)\)"), N_("gated cells ({cells})")),
    (re.compile(r"(?P<cells>[\w, ]+) cells"), N_("{cells} cells")),
    (re.compile(r"residual connections"), N_("residual connections")),
    (re.compile(r"layer norm"), N_("layer norm")),
)
# what read_capped calls the file it reads
FILES = {"source": N_("the file"), "sequence file": N_("the sequence file")}
# the core's refusals of a file or a setting a user can meet (deeprnn_core.data, .weights,
# .config), each with its catalog template; the groups fill the template
ERRORS = tuple(
    (re.compile(pattern), template)
    for pattern, template in (
        (r"(?P<what>source|sequence file) is empty \(0 bytes\)", N_("{what} is empty (0 bytes)")),
        (r"(?P<what>source|sequence file) is (?P<size>\d+) bytes, over the cap of max_bytes = "
         r"(?P<cap>\d+)", N_("{what} is {size} bytes, over the cap of {cap} bytes")),
        (r"file is neither safetensors .* nor a torch\.save zip checkpoint; it starts with "
         r"(?P<start>.*)", N_("the file is neither safetensors nor a torch.save checkpoint; it "
                              "starts with `{start}`")),
        (r"file is a bare pickle .*", N_("the file is a bare pickle (or torch's legacy format): "
                                         "refused, it could run code; save it with torch.save "
                                         "(zip format) or safetensors")),
        (r"torch checkpoint refused: it needs globals beyond tensors and plain containers "
         r"\((?P<names>.*)\); save model\.state_dict\(\), not the model, or use safetensors",
         N_("the torch checkpoint was refused: it needs globals beyond tensors and plain "
            "containers ({names}); save model.state_dict(), not the model, or use safetensors")),
        (r"torch\.load\(weights_only=True\) refused the file \((?P<detail>.*)\)",
         N_("torch.load(weights_only=True) refused the file ({detail})")),
        (r"not a torch\.save checkpoint \((?P<detail>.*)\)",
         N_("not a torch.save checkpoint ({detail})")),
        (r"torch checkpoint is not a readable zip archive \((?P<detail>.*)\)",
         N_("the torch checkpoint is not a readable zip archive ({detail})")),
        (r"safetensors header is not valid JSON \((?P<detail>.*)\)",
         N_("the safetensors header is not valid JSON ({detail})")),
        (r"safetensors file is truncated: (?P<size>\d+) bytes, no 8-byte header size",
         N_("the safetensors file is truncated: {size} bytes, no 8-byte header size")),
        (r"sequence file is not UTF-8 text, \.npy or safetensors",
         N_("the sequence file is not UTF-8 text, .npy or safetensors")),
        (r"sequence file is not valid CSV \((?P<detail>.*)\)",
         N_("the sequence file is not valid CSV ({detail})")),
        (r"CSV holds no rows of numbers", N_("the CSV file holds no rows of numbers")),
        (r"CSV row 1 has (?P<n>\d+) columns, over the limit of (?P<max>\d+)",
         N_("CSV row 1 has {n} columns, over the limit of {max}")),
        (r"CSV rows are ragged: data row (?P<row>\d+) has (?P<n>\d+) columns, not (?P<want>\d+)",
         N_("the CSV rows are ragged: data row {row} has {n} columns, not {want}")),
        (r"CSV data row (?P<row>\d+), column (?P<col>\d+) is not a number: (?P<field>.*)",
         N_("CSV data row {row}, column {col} is not a number: {field}")),
        (r"sequence \.npy could not be read \((?P<detail>.*)\)",
         N_("the sequence .npy could not be read ({detail})")),
        (r"sequence width must equal the model's input_size d\. Expected (?P<want>\d+), got "
         r"(?P<got>\d+)", N_("the sequence's width must equal the model's input size d: "
                             "expected {want}, got {got}")),
        (r"sequence has T = (?P<T>\d+) steps, over max_steps = (?P<max>\d+)",
         N_("the sequence has T = {T} steps, over the limit of {max}")),
        (r"sequence has B = (?P<B>\d+) samples, over max_batch = (?P<max>\d+)",
         N_("the sequence has B = {B} samples, over the limit of {max}")),
        (r"(?P<name>sequence|targets) holds (?P<n>\d+) inf/nan values \(first at step (?P<t>\d+)\)",
         N_("{name} holds {n} inf / nan values (first at step {t})")),
        (r"(?P<name>sequence|targets) must be \(T, width\) or \(T, B, width\), got shape "
         r"(?P<shape>.*)", N_("{name} must be (T, width) or (T, B, width), got shape {shape}")),
        (r"(?P<name>sequence|targets) must hold real numbers, got dtype (?P<dtype>.*)",
         N_("{name} must hold real numbers, got dtype {dtype}")),
        (r"targets must have \(T, B\) = (?P<want>.*), got (?P<got>.*)",
         N_("the targets must have (T, B) = {want}, got {got}")),
        (r"sequence file must be CSV, \.npy or safetensors, got a zip archive",
         N_("the sequence file must be CSV, .npy or safetensors, not a zip archive")),
        (r"torch checkpoint must hold a state dict, got (?P<kind>.*)",
         N_("the torch checkpoint must hold a state dict, not {kind}")),
        (r"prefix (?P<prefix>.*) holds no weight_ih_l0; candidates: (?P<candidates>.*)",
         N_("the prefix {prefix} holds no weight_ih_l0; candidates: {candidates}")),
        (r"(?P<name>\w+) must be a finite number (?P<rule>.*), got (?P<value>.*)",
         N_("{name} must be a finite number {rule}, got {value}")),
    )
)  # fmt: skip
NAMES = {"sequence": N_("the sequence"), "targets": N_("the targets")}


def rule(text: str) -> str:
    """One of the core's stated rules or scopes (config.*_RULE, theory.SCOPE): a catalog
    message (app/words/catalog.CORE_SENTENCES)."""
    return _(text)


def quantity(key: str) -> str:
    """What overflowed (engine.overflow.QUANTITIES), in the current language."""
    return _(QUANTITIES[key])


def scope_gap(gap: str) -> str:
    """theory.mean_field.scope_gap's words ("gated cells (lstm) and lru cells")."""
    if language() == "en":
        return gap
    out = []
    for piece in gap.split(" and "):
        for pattern, template in GAP_PIECES:
            found = pattern.fullmatch(piece)
            if found:
                out.append(_(template).format(**found.groupdict()))
                break
        else:
            out.append(piece)
    return _(" and ").join(out)


def applicability(r: Applicability) -> str:
    """A remedy rule's notice (config.applicability), from its rule, its layers and the numbers
    the core put in it."""
    if language() == "en":
        return r.notice
    numbers = re.findall(r"\d+", r.notice)
    if r.rule == "layer_norm_cells":
        kinds = re.search(r"gated \(([\w, ]+)\)", r.notice)
        layers = _(", ").join(str(k) for k in r.layers)
        return _(
            "{rule}; layers {layers} are gated ({cells}), so layer norm is off for this run."
        ).format(rule=_(rule_of(r)), layers=layers, cells=kinds.group(1) if kinds else "")
    if r.rule == "residual_width" and len(numbers) >= 3:
        return _(
            "Residual connections skip layer 1: its input X_t has d = {d} units, not h = {h}."
        ).format(d=numbers[-2], h=numbers[-1])
    if r.rule == "dropout_between_layers":
        return _("{rule}, so with one layer it changes nothing.").format(rule=_(rule_of(r)))
    return r.notice


def rule_of(r: Applicability) -> str:
    """The rule an Applicability applies (config's *_RULE)."""
    return {"layer_norm_cells": LAYER_NORM_RULE, "residual_width": RESIDUAL_RULE,
            "dropout_between_layers": DROPOUT_RULE}[r.rule]  # fmt: skip


def order(phase: str, num_layers: int, steps: int, english: str) -> str:
    """One pass of the engine's order of computation (``english``: the core's words for it,
    engine.order.order_text), worded from engine.order.computation_order's cells."""
    if language() == "en":
        return english
    cells = [(l, t) for p, l, t in computation_order(num_layers, steps) if p == phase]
    layers = list(dict.fromkeys(l for l, _t in cells))
    first = [t for l, t in cells if l == layers[0]]
    values = dict(first=layers[0], start=first[0], end=first[-1], last=layers[-1])
    if phase == "forward":
        template = (
            N_("forward pass: layer {first} for t = {start}..{end}; then the output O_t and the "
               "loss") if len(layers) == 1
            else N_("forward pass: layer {first} for t = {start}..{end}, then each layer above "
                    "in turn up to layer {last}; then the output O_t and the loss")
        )  # fmt: skip
    else:
        template = (
            N_("backward pass: layer {first} for t = {start}..{end}; then the parameter "
               "gradients") if len(layers) == 1
            else N_("backward pass: layer {first} for t = {start}..{end}, then each layer below "
                    "in turn down to layer {last}; then the parameter gradients")
        )  # fmt: skip
    return _(template).format(**values)


def error(text: str) -> str:
    """A refusal of the core (a ValueError's message) in the current language, when it is one
    of ERRORS; else as the core wrote it."""
    text = str(text)
    if language() == "en":
        return text
    for pattern, template in ERRORS:
        found = pattern.fullmatch(text)
        if found:
            groups = found.groupdict()
            for key, names in (("what", FILES), ("name", NAMES)):
                said = names.get(groups.get(key))
                if said:
                    groups[key] = _(said)
            return _(template).format(**groups)
    return text
