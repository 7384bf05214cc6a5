"""The model-level test: LeNet-5 built in Ember and in torch with the same weights gives the same logits, the
same cross-entropy loss and the same parameter gradients (float64 to 1e-9, float32 to 1e-5), and a few
steps of plain SGD keep the two in step."""

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import ember.nn.functional as F
import torch.nn as tnn
import torch.nn.functional as TF
from helpers import assert_close, check_module, copy_weights

DTYPES = ["float64", "float32"]
BATCH = 8


def lenet(nn):
    """LeNet-5 (D2L's version with ReLU and max pooling) for 1×28×28 images."""
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


def _twins(dtype, seed=0):
    torch.manual_seed(seed)
    t_net = lenet(tnn).to(getattr(torch, dtype))
    e_net = lenet(enn)
    copy_weights(t_net, e_net)
    e_net.to(dtype)
    return e_net, t_net


def _data(dtype, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 1, size=(BATCH, 1, 28, 28)).astype(dtype)
    labels = rng.integers(0, 10, size=BATCH).astype(np.int64)
    return images, labels


def test_lenet_state_dict_keys_and_shapes_match_torch():
    e_net, t_net = lenet(enn), lenet(tnn)
    e_state, t_state = e_net.state_dict(), t_net.state_dict()
    assert list(e_state) == list(t_state)
    assert [e_state[k].shape for k in e_state] == [tuple(v.shape) for v in t_state.values()]
    assert sum(p.array.size for p in e_net.parameters()) == sum(p.numel() for p in t_net.parameters()) == 61706
    assert str(e_net) == str(t_net)


@pytest.mark.parametrize("dtype", DTYPES)
def test_lenet_logits_loss_and_gradients_match_torch(dtype):
    e_net, t_net = _twins(dtype)
    images, labels = _data(dtype)
    e_x, t_x = ember.tensor(images), torch.tensor(images)
    e_logits, t_logits = e_net(e_x), t_net(t_x)
    assert e_logits.shape == (BATCH, 10) and e_logits.dtype == np.dtype(dtype)
    assert_close(e_logits, t_logits, dtype, "logits")
    e_loss = F.cross_entropy(e_logits, ember.tensor(labels))
    t_loss = TF.cross_entropy(t_logits, torch.tensor(labels))
    assert e_loss.dtype == np.dtype(dtype)
    assert_close(e_loss, t_loss, dtype, "loss")
    e_loss.backward()
    t_loss.backward()
    e_params = dict(e_net.named_parameters())
    for name, tp in t_net.named_parameters():
        assert e_params[name].grad is not None, name
        assert e_params[name].grad.dtype == np.dtype(dtype), name
        assert_close(e_params[name].grad, tp.grad, dtype, f"gradient of {name}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_lenet_through_check_module(dtype):
    # The same comparison through the harness, with the input gradient too and the loss module.
    torch.manual_seed(1)
    images, labels = _data(dtype, seed=1)

    def loss(out, framework):
        if framework == "ember":
            return enn.CrossEntropyLoss()(out, ember.tensor(labels))
        return tnn.CrossEntropyLoss()(out, torch.tensor(labels))

    check_module(lenet(enn), lenet(tnn), None, dtype=dtype, arrays=[images], loss=loss)


@pytest.mark.parametrize("dtype", DTYPES)
def test_lenet_sgd_steps_stay_equal(dtype):
    e_net, t_net = _twins(dtype, seed=2)
    lr = 0.1
    for step in range(4):
        images, labels = _data(dtype, seed=10 + step)
        e_net.zero_grad()
        t_net.zero_grad()
        e_loss = F.cross_entropy(e_net(ember.tensor(images)), ember.tensor(labels))
        t_loss = TF.cross_entropy(t_net(torch.tensor(images)), torch.tensor(labels))
        assert_close(e_loss, t_loss, dtype, f"loss at step {step}")
        e_loss.backward()
        t_loss.backward()
        with ember.no_grad():
            for p in e_net.parameters():
                p.array -= lr * p.grad.array
        with torch.no_grad():
            for p in t_net.parameters():
                p -= lr * p.grad
        e_params = dict(e_net.named_parameters())
        for name, tp in t_net.named_parameters():
            assert e_params[name].dtype == np.dtype(dtype)
            assert_close(e_params[name], tp, dtype, f"{name} after step {step}")
        if step == 0:
            first_loss = e_loss.item()
    # The steps changed the model: the loss on the first batch is no longer what it was.
    images, labels = _data(dtype, seed=10)
    final = F.cross_entropy(e_net(ember.tensor(images)), ember.tensor(labels)).item()
    assert abs(final - first_loss) > 1e-4


def test_lenet_eval_under_no_grad_builds_no_graph():
    e_net, _ = _twins("float32")
    e_net.eval()
    with ember.no_grad():
        out = e_net(ember.tensor(_data("float32")[0]))
    assert not out.requires_grad and out.grad_fn is None
