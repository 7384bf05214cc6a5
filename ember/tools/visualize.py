"""Look inside a network: its filters, its feature maps, its activation and gradient statistics, what a
prediction looked at (saliency, Grad-CAM), and what one unit responds to (ZFNet's deconvnet).

Every function takes any Ember model and an input batch ``(N, C, H, W)`` (or one image ``(C, H, W)``)
shaped as the model wants it — standardised as in training — and returns numbers (Tensors, arrays,
records); the ``save_*`` / ``plot_*`` functions draw them into a PNG (matplotlib: ``pip install
'ember[plot]'``; grids through ``ember.vision.utils.save_image``: Pillow). Layers are named as in
``dict(model.named_modules())``, e.g. ``features.0``.

    from ember.tools import visualize as viz
    viz.save_filters(model, "filters.png")                       # the first conv layer's filters
    maps = viz.feature_maps(model, x, "features.0")              # (6, 28, 28) for LeNet-5
    viz.plot_feature_maps(maps, "features.png", image=x)
    stats = viz.layer_statistics(model, xb, yb)                  # mean, std, saturated, dead per layer
    print(viz.format_statistics(stats)); viz.plot_statistics(stats, "stats.png")
    heat = viz.saliency(model, x)                                # |dS_c/dx|, max over channels
    cam = viz.grad_cam(model, x)                                 # the last conv layer, weighted, ReLU
    proj = viz.deconvnet(model, x, "features.3")                 # one activation, back in pixel space
    viz.plot_heatmap(x, cam, "gradcam.png"); viz.plot_projections(x, [proj], "deconv.png")

The command line does all of it for a checkpoint: ``ember visualize runs/lenet5-mnist/best.npz``.
"""

import math

from ..autograd.grad_mode import no_grad
from ..backend import xp
from ..tensor import Tensor
from ..vision.utils import make_grid, save_image
from .activations import LayerStats, format_statistics, layer_statistics, plot_statistics
from .deconvnet import Projection, deconvnet, plot_projections
from .figure import display_image, new_figure, save_figure
from .layers import capture, find_layer, first_conv
from .saliency import grad_cam, plot_heatmap, saliency

__all__ = ["filter_grid", "save_filters", "feature_maps", "plot_feature_maps", "layer_statistics",
           "format_statistics", "plot_statistics", "LayerStats", "saliency", "grad_cam", "plot_heatmap",
           "deconvnet", "Projection", "plot_projections", "display_image"]


def filter_grid(model, layer=None, nrow=None, cell=64, padding=2):
    """The filters of a convolution (default: the model's first ``nn.Conv2d``) tiled into one image.

    Filters with 1 or 3 input channels are drawn as grey or RGB pictures, one per output channel; others
    (a deeper layer) as one grey picture per (output, input) pair, a row per filter. Each picture is
    stretched from its own min..max to black..white (``make_grid(normalize=True, scale_each=True)``):
    what matters is the pattern, not the scale. Small kernels are enlarged (nearest neighbour) to about
    ``cell`` pixels so that a 5×5 filter is more than a speck.

    Returns a ``(3, H, W)`` Tensor in [0, 1], for ``save_image`` or ``imshow(grid.permute(1, 2, 0))``.
    """
    name = layer if layer is not None else first_conv(model, "filter_grid")
    conv = find_layer(model, name, "filter_grid")
    weight = getattr(conv, "weight", None)
    if weight is None or weight.ndim != 4:
        shape = None if weight is None else tuple(weight.shape)
        raise ValueError(f"filter_grid: layer {name!r} ({type(conv).__name__}) has no 2-D convolution filters "
                         f"(weight shape {shape}); name an nn.Conv2d layer")
    w = weight.array  # (out, in, kh, kw)
    out_channels, in_channels, kh, kw = w.shape
    if in_channels in (1, 3):
        images = w
        nrow = nrow or math.ceil(math.sqrt(out_channels))
    else:  # no colour picture has 6 or 16 channels: one grey picture per input channel, a filter per row
        images = w.reshape(out_channels * in_channels, 1, kh, kw)
        nrow = nrow or in_channels
    scale = max(1, cell // max(kh, kw))
    images = xp.repeat(xp.repeat(images, scale, axis=2), scale, axis=3)  # nearest-neighbour enlargement
    return make_grid(Tensor(xp.ascontiguousarray(images)), nrow=nrow, padding=padding, normalize=True,
                     scale_each=True, pad_value=1.0)


def save_filters(model, path, layer=None, **kwargs):
    """``filter_grid(model, layer, **kwargs)`` written to ``path`` (PNG, JPEG...); returns the path."""
    save_image(filter_grid(model, layer, **kwargs), path)
    return path


def _one_image(x, who):
    x = x if isinstance(x, Tensor) else Tensor(xp.asarray(x))
    if x.ndim == 3:
        x = x.unsqueeze(0)
    if x.ndim != 4 or x.shape[0] != 1:
        raise ValueError(f"{who}: expected one image (C, H, W) or a batch of one (1, C, H, W), got shape "
                         f"{tuple(x.shape)}; pass x[i:i+1] for the i-th image of a batch")
    return x


def feature_maps(model, x, layer):
    """What layer ``layer`` outputs for one input image ``x``: ``(C, h, w)`` feature maps for a convolution,
    ``(features,)`` for a linear layer. Caught by a forward hook during an ordinary forward pass (under
    ``no_grad``; the model's train/eval mode is left as it is: call ``model.eval()`` first)."""
    x = _one_image(x, "feature_maps")
    find_layer(model, layer, "feature_maps")
    with no_grad(), capture(model, [layer]) as seen:
        model(x)
    if layer not in seen:
        raise RuntimeError(f"feature_maps: layer {layer!r} is part of the model but its forward never ran it")
    output = seen[layer]
    if not isinstance(output, Tensor):
        raise TypeError(f"feature_maps: layer {layer!r} returned a {type(output).__name__}, not a Tensor")
    return Tensor(output.array[0].copy())


def plot_feature_maps(maps, path, image=None, title=None, max_maps=64, columns=None):
    """Draw ``feature_maps``'s result: one panel per channel (its own colour scale, its index and maximum
    above it), the input image first when given; a vector (a linear layer) as a bar chart. Only the
    first ``max_maps`` channels are drawn (the title says so). Returns ``path``."""
    array = xp.asarray(getattr(maps, "array", maps), dtype=xp.float64)
    if array.ndim == 1:
        fig = new_figure(figsize=(min(14.0, max(6.0, 0.05 * array.size)), 3.5))
        ax = fig.subplots()
        ax.bar(xp.arange(array.size), array, color="tab:blue")
        ax.set(xlabel="unit", ylabel="activation", title=title or f"{array.size} activations")
        fig.tight_layout()
        return save_figure(fig, path)
    if array.ndim != 3:
        raise ValueError(f"plot_feature_maps: expected maps (C, h, w) or a vector (features,), got shape {array.shape}")
    shown = min(array.shape[0], max_maps)
    panels = shown + (image is not None)
    columns = columns or min(panels, 8)
    rows = math.ceil(panels / columns)
    fig = new_figure(figsize=(1.6 * columns, 1.7 * rows + 0.6))
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    k = 0
    if image is not None:
        picture = display_image(image)
        axes[0].imshow(picture, cmap="gray" if picture.ndim == 2 else None)
        axes[0].set_title("input", fontsize=8)
        k = 1
    for c in range(shown):
        axes[k + c].imshow(array[c], cmap="viridis", interpolation="nearest")
        axes[k + c].set_title(f"{c}: max {array[c].max():.2g}", fontsize=8)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[panels:]:
        ax.set_visible(False)
    more = f" (first {shown} of {array.shape[0]})" if shown < array.shape[0] else ""
    fig.suptitle((title or "feature maps") + more + "; bright = strong", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)
