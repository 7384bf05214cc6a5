"""Figures for the visualisation tools: matplotlib (imported lazily), files written atomically, and images
brought to [0, 1] for display.

Figures are built with ``matplotlib.figure.Figure`` rather than ``pyplot``: no backend is chosen and no
global state is touched, so drawing a file from a notebook or a script leaves the user's own plotting alone.
"""

import os

from ..backend import xp
from ..serialization import write_atomically


def new_figure(**kwargs):
    """A matplotlib Figure (``figsize=...`` etc.); ImportError naming the extra when matplotlib is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError("ember.tools.visualize draws its figures with matplotlib: "
                          "pip install 'ember[plot]'") from error
    return Figure(**kwargs)


def save_figure(fig, path, dpi=100):
    """Write ``fig`` to ``path`` (the format from its extension) through a temporary file; returns ``path``."""
    path = os.fspath(path)
    extension = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    write_atomically(path, lambda f: fig.savefig(f, format=extension, dpi=dpi))
    return path


def display_image(image, value_range=None):
    """An image as matplotlib's ``imshow`` wants it: ``(H, W)`` grey or ``(H, W, 3)`` colour, in [0, 1].

    Accepts a Tensor or array shaped ``(H, W)``, ``(C, H, W)`` or ``(H, W, C)`` with C = 1 or 3 (a batch
    of one is unwrapped; other channel counts, channels first, are shown as their mean). uint8 pixels are
    divided by 255; anything else (a standardised input, say) is stretched from its own min..max to 0..1,
    which is what the eye needs and all the standardisation lost — or, with ``value_range=(low, high)``,
    from that range (clipped), so that several images share one scale.
    """
    array = xp.asarray(getattr(image, "array", image))
    while array.ndim > 3 and array.shape[0] == 1:
        array = array[0]
    if array.ndim == 3 and array.shape[-1] not in (1, 3):
        if array.shape[0] in (1, 3):
            array = array.transpose(1, 2, 0)  # (C, H, W) -> (H, W, C)
        else:  # neither grey nor colour (2 channels, a spectrogram stack...): their mean, in grey
            array = array.mean(axis=0)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3):
        raise ValueError(f"display_image: expected an image (H, W), (C, H, W) or (H, W, C), got shape {array.shape}")
    if array.dtype == xp.uint8 and value_range is None:
        return array.astype(xp.float64) / 255.0
    array = array.astype(xp.float64)
    if value_range is not None:
        low, high = float(value_range[0]), float(value_range[1])
        array = xp.clip(array, low, high)
    else:
        low, high = float(array.min()), float(array.max())
    return (array - low) / (high - low) if high > low else xp.zeros_like(array)
