"""Anomaly mode (ember/autograd/anomaly.py): the first backward that makes NaN is named, with the line
of its forward; off by default; torch's API (set_detect_anomaly, detect_anomaly, is_anomaly_enabled)."""

import warnings

import pytest
import torch

import ember
from ember.autograd import anomaly


def _nan_backward(lib):
    x = lib.tensor([0.0, 1.0], requires_grad=True)
    y = x.sqrt() * 0.0  # sqrt's backward at 0 is inf; inf * 0 upstream makes NaN in SqrtBackward0
    y.sum().backward()
    return x


def test_off_by_default_and_nan_passes_silently_as_in_torch():
    assert not ember.autograd.is_anomaly_enabled() and not ember.is_anomaly_enabled()
    x = _nan_backward(ember)
    assert ember.isnan(x.grad).any()


@pytest.mark.parametrize("lib", [torch, ember], ids=["torch", "ember"])
def test_detect_anomaly_names_the_op(lib):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with lib.autograd.detect_anomaly():
            with pytest.raises(RuntimeError, match="Function 'SqrtBackward0' returned nan values in its 0th output"):
                _nan_backward(lib)
    messages = [str(w.message) for w in caught]
    assert any("Anomaly Detection has been enabled" in m for m in messages)
    assert any("Error detected in SqrtBackward0" in m for m in messages)
    assert any("test_anomaly.py" in m for m in messages if "Error detected" in m)  # the forward's line
    assert not lib.is_anomaly_enabled()  # restored after the block


def test_the_error_says_where_the_forward_ran():
    with ember.autograd.set_detect_anomaly(True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(RuntimeError) as info:
                _nan_backward(ember)
    assert "test_anomaly.py" in str(info.value) and "sqrt()" in str(info.value)
    assert not ember.autograd.is_anomaly_enabled()


def test_set_detect_anomaly_as_a_call_and_check_nan_off():
    try:
        ember.autograd.set_detect_anomaly(True, check_nan=False)
        assert ember.autograd.is_anomaly_enabled() and not ember.is_anomaly_check_nan_enabled()
        x = _nan_backward(ember)  # no NaN check: the pass completes
        assert ember.isnan(x.grad).any()
    finally:
        ember.autograd.set_detect_anomaly(False)
    assert not anomaly.enabled and anomaly.check_nan


def test_decorator_form():
    @ember.autograd.detect_anomaly()
    def run():
        return ember.autograd.is_anomaly_enabled()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert run() is True
    assert not ember.autograd.is_anomaly_enabled()


def test_in_place_error_in_anomaly_mode_shows_the_forward():
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    x = ember.tensor([3.0, 4.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with ember.autograd.detect_anomaly():
            y = w * x
            x += 1
            with pytest.raises(RuntimeError, match="modified by an inplace operation") as info:
                y.sum().backward()
    assert "The forward of MulBackward0 ran here" in str(info.value)
    assert any("Error detected in MulBackward0" in str(w.message) for w in caught)


def test_a_finite_backward_is_unchanged_in_anomaly_mode():
    x = ember.tensor([1.0, 4.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ember.autograd.detect_anomaly():
            (x.sqrt() * 2).sum().backward()
    assert ember.allclose(x.grad, ember.tensor([1.0, 0.5]))
