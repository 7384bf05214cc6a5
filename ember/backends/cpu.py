"""``ember.backends.cpu`` (``torch.backends.cpu``): the CPU's vector instructions that NumPy uses."""

from .. import backend


def get_cpu_capability():
    """'AVX512', 'AVX2' or 'DEFAULT', from the features NumPy detected at start-up (as torch reports)."""
    try:
        features = backend.host._core._multiarray_umath.__cpu_features__
    except AttributeError:  # a NumPy without the (internal) feature table
        return "DEFAULT"
    if features.get("AVX512F") and features.get("AVX512BW"):
        return "AVX512"
    if features.get("AVX2"):
        return "AVX2"
    return "DEFAULT"
