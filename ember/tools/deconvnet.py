"""ZFNet's deconvnet (Zeiler & Fergus 2014, "Visualizing and understanding convolutional networks"):
what in the image made one unit fire, projected back to pixel space.

Pick one strong activation in a layer, set every other activation of that layer to zero, and run the
network backwards to the pixels, undoing each layer with an approximate inverse:

    max-pooling     → max-unpooling: each value goes back to where the max came from, recorded in the
                      forward pass as the pooling's "switches" (``max_pool2d(return_indices=True)``);
                      every other position of the window gets 0
    ReLU            → ReLU again (the reconstruction must stay a positive feature map, as it was)
    convolution     → transposed convolution with the layer's own filters (``conv_transpose2d``, the
                      filters flipped; the bias is not added back)

The notes (001) put it this way: a perfect reconstruction is impossible — ReLU and pooling throw
information away — so what comes back is the *structure* in the input that the unit responds to.

This works for Sequential-style convolutional networks (LeNet-5, VGG, AlexNet's feature extractor): the
layers up to the chosen one must run one after another in the order they were registered, each one of
Conv2d, ReLU, MaxPool2d, LocalResponseNorm, Dropout or Identity. Anything else raises a NotImplementedError
that names it. As in the paper, normalisation layers are passed over on the way back (ZFNet's contrast
normalisation is not inverted), and so are Dropout and Identity (the model is evaluated as it is: call
``model.eval()`` first).
"""

from collections import namedtuple

from .. import nn
from ..autograd.grad_mode import no_grad
from ..backend import xp
from ..nn import functional as F
from ..tensor import Tensor
from .figure import display_image, new_figure, save_figure
from .layers import capture, find_layer, leaf_layers

#: What ``deconvnet`` returns: ``image`` (1, C, H, W), the projection; ``channel`` and ``position`` (i, j)
#: of the chosen activation in ``layer``'s output; ``activation``, its value.
Projection = namedtuple("Projection", ["image", "layer", "channel", "position", "activation"])

SUPPORTED = (nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.LocalResponseNorm, nn.Dropout, nn.Dropout2d, nn.Identity)
_SUPPORTED_NAMES = "Conv2d, ReLU, MaxPool2d, LocalResponseNorm, Dropout, Identity"


def _chain(model, layer):
    """The leaf layers from the first up to ``layer``, checked to be ones the deconvnet can reverse."""
    leaves = leaf_layers(model)
    names = [name for name, _ in leaves]
    target = find_layer(model, layer, "deconvnet")
    if layer not in names:  # a container: reverse up to its last leaf
        inside = [n for n in names if n.startswith(layer + ".")]
        if not inside:
            raise NotImplementedError(f"deconvnet: layer {layer!r} ({type(target).__name__}) has no layers inside")
        layer = inside[-1]
    chain = leaves[: names.index(layer) + 1]
    for name, module in chain:
        if not isinstance(module, SUPPORTED):
            raise NotImplementedError(
                f"deconvnet: cannot reverse layer {name!r} ({type(module).__name__}) on the way to {layer!r}; it "
                f"reverses only {_SUPPORTED_NAMES} (Sequential-style conv nets such as LeNet-5 or VGG): pick an "
                f"earlier layer")
        if isinstance(module, (nn.Dropout, nn.Dropout2d)) and module.training and module.p > 0:
            raise RuntimeError(f"deconvnet: layer {name!r} ({type(module).__name__}) is in training mode and would "
                               "drop random units on every pass; call model.eval() first")
        if isinstance(module, nn.Conv2d) and (isinstance(module.padding, str) or module.padding_mode != "zeros"):
            raise NotImplementedError(
                f"deconvnet: cannot reverse layer {name!r}: Conv2d with padding={module.padding!r}, "
                f"padding_mode={module.padding_mode!r}; it reverses zero padding given as numbers")
    return chain, layer


def _forward(chain, x):
    """Run the chain, keeping what the way back needs: each pooling's switches and input size."""
    switches = {}
    for name, m in chain:
        if isinstance(m, nn.MaxPool2d):
            size = tuple(x.shape[2:])
            x, indices = F.max_pool2d(x, m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode,
                                      return_indices=True)
            switches[name] = (indices, size)
        elif isinstance(m, nn.Conv2d):
            switches[name] = tuple(x.shape[2:])  # a convolution's input size, for its transpose
            x = m(x)
        else:  # ReLU, LocalResponseNorm, Dropout, Identity
            x = m(x)
    return x, switches


def _backward(chain, r, switches):
    """From a reconstruction at the chain's output back to pixels (unpool, rectify, transposed filter)."""
    for name, m in reversed(chain):
        if isinstance(m, nn.MaxPool2d):
            indices, size = switches[name]
            r = F.max_unpool2d(r, indices, m.kernel_size, m.stride, m.padding, output_size=size)
        elif isinstance(m, nn.ReLU):
            r = F.relu(r)
        elif isinstance(m, nn.Conv2d):
            r = _transpose(m, r, switches[name])
        # LocalResponseNorm, Dropout, Identity: passed over, as the paper's deconvnet does
    return r


def _transpose(conv, r, size):
    """conv_transpose2d with the layer's own weights, sized back to the convolution's input."""
    stride, padding, dilation = (_pair(v) for v in (conv.stride, conv.padding, conv.dilation))
    kernel = conv.weight.shape[2:]
    # A strided convolution maps several input sizes to one output size; output_padding picks the right one.
    extra = tuple(size[i] - ((r.shape[2 + i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (kernel[i] - 1) + 1)
                  for i in range(2))
    return F.conv_transpose2d(r, conv.weight, None, stride, padding, extra, conv.groups, dilation)


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def deconvnet(model, x, layer, channel=None):
    """Project one activation of ``layer`` back to pixel space for one image ``x`` (``(C, H, W)`` or
    ``(1, C, H, W)``, as the model takes it); returns a :data:`Projection` whose ``image`` has ``x``'s shape.

    The activation is the largest one in ``channel`` of the layer's output (default: the channel whose
    largest activation is the largest). Raises NotImplementedError when the model is not Sequential-style up
    to ``layer`` (see the module docstring), checked by comparing the chained layers' output with what
    the model's own forward gives there.
    """
    x = x if isinstance(x, Tensor) else Tensor(xp.asarray(x))
    single = x.ndim == 3
    x = x.unsqueeze(0) if single else x
    if x.ndim != 4 or x.shape[0] != 1:
        raise ValueError(f"deconvnet: expected one image (C, H, W) or (1, C, H, W), got shape {tuple(x.shape)}")
    chain, last = _chain(model, layer)
    with no_grad():
        with capture(model, [last]) as seen:
            model(x)
        out, switches = _forward(chain, x)
        own = seen.get(last)
        if own is None or tuple(own.shape) != tuple(out.shape) or not xp.allclose(own.array, out.array,
                                                                                 rtol=1e-4, atol=1e-5):
            raise NotImplementedError(
                f"deconvnet: {type(model).__name__} does not run its layers one after another up to {last!r} "
                f"(chaining them in registration order gives a different output there: a skip connection, a "
                f"functional call in forward, a reordered forward?); the deconvnet reverses Sequential-style "
                f"conv nets such as LeNet-5 and VGG")
        if out.ndim != 4:
            raise NotImplementedError(f"deconvnet: layer {last!r} outputs shape {tuple(out.shape)}; it projects "
                                      "back from feature maps (1, C, h, w)")
        a = out.array[0]  # (C, h, w)
        if channel is None:
            channel = int(a.reshape(a.shape[0], -1).max(axis=1).argmax())
        if not 0 <= channel < a.shape[0]:
            raise IndexError(f"deconvnet: channel must be in [0, {a.shape[0] - 1}] for layer {last!r}, got {channel}")
        i, j = (int(v) for v in xp.unravel_index(a[channel].argmax(), a[channel].shape))
        only = xp.zeros_like(out.array)
        only[0, channel, i, j] = a[channel, i, j]  # every other activation of the layer set to zero
        image = _backward(chain, Tensor(only), switches)
    image = Tensor(image.array[0] if single else image.array)
    return Projection(image, last, channel, (i, j), float(a[channel, i, j]))


def plot_projections(image, projections, path, title=None, columns=None):
    """The input, then each :data:`Projection` as a picture with its channel, position and activation.

    A projection has both signs (the last step is a transposed convolution), so it is drawn on one
    scale either side of zero: 0 is mid-grey, the largest |value| black or white. A red frame marks the part
    of the image it reaches. Returns ``path``.
    """
    panels = 1 + len(projections)
    columns = columns or min(panels, 6)
    rows = -(-panels // columns)
    fig = new_figure(figsize=(1.9 * columns, 2.0 * rows + 0.6))  # the ImportError that names the extra
    from matplotlib.patches import Rectangle

    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    picture = display_image(image)
    axes[0].imshow(picture, cmap="gray" if picture.ndim == 2 else None)
    axes[0].set_title("input", fontsize=8)
    for ax, p in zip(axes[1:], projections):
        bound = float(xp.abs(p.image.array).max()) or 1.0
        shown = display_image(p.image, value_range=(-bound, bound))
        ax.imshow(shown, cmap="gray" if shown.ndim == 2 else None, vmin=0, vmax=1)
        rows, cols = xp.nonzero(xp.abs(p.image.array.reshape((-1,) + p.image.shape[-2:])).sum(axis=0))
        if rows.size:  # the part of the image the projection reaches: the unit's (effective) receptive field
            ax.add_patch(Rectangle((cols.min() - 0.5, rows.min() - 0.5), cols.max() - cols.min() + 1,
                                   rows.max() - rows.min() + 1, fill=False, edgecolor="tab:red", lw=0.8))
        ax.set_title(f"ch {p.channel} at {p.position}\nact {p.activation:.2g}", fontsize=7)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[panels:]:
        ax.set_visible(False)
    fig.suptitle(title or "deconvnet: the strongest activation of each channel, back in pixel space", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)
