"""What a prediction looked at: the saliency map and Grad-CAM.

**Saliency** (Simonyan, Vedaldi & Zisserman 2014, "Deep inside convolutional networks"): the class score
S_c is, near the image x, roughly linear in the pixels, S_c(x) ≈ wᵀx + b with w = ∂S_c/∂x; a pixel whose
change moves the score most matters most. The map is ``M_ij = max_channel |w_channel,i,j|``, one
backward pass from the (unnormalised) score S_c, not from the softmax.

**Grad-CAM** (Selvaraju et al. 2017): the last convolution's maps A^k still know *where*, the class score
knows *what*. Each map is weighted by how much the score rises with it on average,

    α_k = (1 / (h·w)) Σ_ij ∂S_c/∂A^k_ij             (global average pooling of the gradient)
    L_c = ReLU(Σ_k α_k A^k)                         (only what speaks *for* the class)

and L_c (h × w, coarse) is upsampled bilinearly to the image's size and scaled to [0, 1]. The paper (and
most code) stretches the h × w map over the whole image; that is right for padded ("same") convolutions,
but an unpadded network's last maps cover only the middle of the image (LeNet-5's 10 × 10 maps are centred
on pixels 4.5 … 22.5 of 28), and stretching moves the heat by up to 4 pixels. So by default
(``upsample="field"``) each map value is put at the centre of its unit's receptive field
(``ember.tools.receptive_field``: start + k·jump) and interpolated between those centres, the edges
held; ``upsample="stretch"`` is the paper's resize.

Both take the model as it is (call ``model.eval()`` first: dropout would make the map random) and a batch
``(N, C, H, W)`` or one image ``(C, H, W)``; ``target`` is the class per image (default: the prediction).
Gradients come from ``ember.autograd.grad``: no parameter's ``.grad`` changes.
"""

from ..autograd.engine import grad as autograd_grad
from ..autograd.grad_mode import enable_grad
from ..backend import xp
from ..nn.functional import interpolate
from ..tensor import Tensor
from .figure import display_image, new_figure, save_figure
from .layers import capture, find_layer, last_conv_maps


def _batch(x, who):
    x = x if isinstance(x, Tensor) else Tensor(xp.asarray(x))
    single = x.ndim == 3
    x = x.unsqueeze(0) if single else x
    if x.ndim != 4:
        raise ValueError(f"{who}: expected images (N, C, H, W) or one image (C, H, W), got shape {tuple(x.shape)}")
    return x, single


def _class_score(scores, target, who):
    """Σ_n S[n, c_n]: the images do not interact, so one backward gives every image its own gradient."""
    if scores.ndim != 2:
        raise ValueError(f"{who}: the model should return class scores (N, classes), got shape {tuple(scores.shape)}")
    n, classes = scores.shape
    if target is None:
        target = scores.array.argmax(axis=1)
    target = xp.broadcast_to(xp.asarray(getattr(target, "array", target), dtype=xp.int64), (n,))
    if target.min() < 0 or target.max() >= classes:
        raise IndexError(f"{who}: target classes must be in [0, {classes - 1}], got {target.tolist()}")
    pick = xp.zeros(scores.shape, dtype=scores.array.dtype)
    pick[xp.arange(n), target] = 1
    return (scores * Tensor(pick)).sum()


def saliency(model, x, target=None):
    """|∂S_c/∂x| maximised over the colour channels: ``(N, H, W)`` (or ``(H, W)`` for one image)."""
    x, single = _batch(x, "saliency")
    x = Tensor(x.array.copy(), requires_grad=True)  # a leaf of our own: the caller's tensor stays untouched
    with enable_grad():
        score = _class_score(model(x), target, "saliency")
    (dx,) = autograd_grad(score, x)
    heat = xp.abs(dx.array).max(axis=1)  # (N, H, W)
    return Tensor(heat[0] if single else heat)


def grad_cam(model, x, target=None, layer=None, normalize=True, upsample="field"):
    """Grad-CAM from ``layer``'s output maps: ``(N, H, W)`` (or ``(H, W)``), each map scaled to [0, 1] by its
    maximum when ``normalize`` (an all-zero map stays zero). The default layer is the last ``nn.Conv2d``, or
    the ReLU right after it when there is one (``ember.tools.layers.last_conv_maps``); ``upsample`` is
    ``"field"`` (each value at its receptive field's centre) or ``"stretch"`` (see the module docstring)."""
    x, single = _batch(x, "grad_cam")
    name = layer if layer is not None else last_conv_maps(model, "grad_cam")
    find_layer(model, name, "grad_cam")
    with enable_grad(), capture(model, [name]) as seen:
        score = _class_score(model(x), target, "grad_cam")
    maps = seen.get(name)
    if not isinstance(maps, Tensor) or maps.ndim != 4:
        shape = tuple(maps.shape) if isinstance(maps, Tensor) else None
        raise ValueError(f"grad_cam: layer {name!r} should output feature maps (N, K, h, w), got {shape}; "
                         "name a convolutional layer")
    (d_maps,) = autograd_grad(score, maps)
    alpha = d_maps.array.mean(axis=(2, 3), keepdims=True)  # (N, K, 1, 1): α_k
    cam = xp.maximum((alpha * maps.array).sum(axis=1, keepdims=True), 0)  # (N, 1, h, w): ReLU(Σ_k α_k A^k)
    if upsample == "stretch":
        cam = interpolate(Tensor(cam), size=tuple(x.shape[2:]), mode="bilinear", align_corners=False).array[:, 0]
    elif upsample == "field":
        from .receptive_field import receptive_field

        field = receptive_field(model, tuple(x.shape[1:]))[name]
        cam = cam[:, 0]
        for axis in (1, 2):  # separable: rows, then columns
            cam = _at_centres(cam, axis, x.shape[1 + axis], field.start[axis - 1] - 0.5, field.jump[axis - 1])
    else:
        raise ValueError(f"grad_cam: upsample must be 'field' or 'stretch', got {upsample!r}")
    if normalize:
        peak = cam.max(axis=(1, 2), keepdims=True)
        cam = xp.where(peak > 0, cam / xp.where(peak > 0, peak, 1), 0).astype(cam.dtype)
    return Tensor(cam[0] if single else cam)


def _at_centres(cam, axis, size, first, jump):
    """Linear interpolation along ``axis`` from values at pixel positions first, first + jump, ... to the
    pixels 0 … size-1; pixels before the first centre or after the last take the nearest value."""
    n = cam.shape[axis]
    u = xp.clip((xp.arange(size) - first) / jump, 0, n - 1)  # each pixel's position on the map's grid
    i0 = xp.floor(u).astype(xp.int64)
    i1 = xp.minimum(i0 + 1, n - 1)
    t = (u - i0).astype(cam.dtype)
    shape = [1, 1, 1]
    shape[axis] = size
    t = t.reshape(shape)
    return xp.take(cam, i0, axis=axis) * (1 - t) + xp.take(cam, i1, axis=axis) * t


def plot_heatmap(image, heat, path, title=None, what="saliency"):
    """Three panels: the image, the heat map with its colour bar, and the map laid over the image
    (``jet``, half transparent). ``image`` as ``display_image`` takes it; ``heat`` ``(H, W)``."""
    picture = display_image(image)
    heat = xp.asarray(getattr(heat, "array", heat), dtype=xp.float64)
    while heat.ndim > 2 and heat.shape[0] == 1:
        heat = heat[0]
    fig = new_figure(figsize=(9.5, 3.4))
    ax_image, ax_heat, ax_both = fig.subplots(1, 3)
    grey = "gray" if picture.ndim == 2 else None
    ax_image.imshow(picture, cmap=grey)
    ax_image.set_title("input", fontsize=9)
    shown = ax_heat.imshow(heat, cmap="jet")
    fig.colorbar(shown, ax=ax_heat, fraction=0.046, pad=0.04)
    ax_heat.set_title(what, fontsize=9)
    ax_both.imshow(picture, cmap=grey)
    ax_both.imshow(heat, cmap="jet", alpha=0.5)
    ax_both.set_title(f"{what} over the input", fontsize=9)
    for ax in (ax_image, ax_heat, ax_both):
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)
