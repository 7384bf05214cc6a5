"""A model's layers by name (``dict(model.named_modules())``'s names, e.g. ``features.0``), and forward hooks
that catch what flows out of them.

    conv = find_layer(model, "features.0", "feature_maps")
    with capture(model, ["features.0", "features.3"]) as seen:
        model(x)
    seen["features.0"]            # the Tensor that layer returned (still in the autograd graph)
"""

from contextlib import contextmanager

from .. import nn


def find_layer(model, name, who):
    """The sub-module called ``name``; a ValueError naming ``who`` and listing the names there are."""
    modules = dict(model.named_modules())
    if not isinstance(name, str) or name not in modules or name == "":
        names = ", ".join(n for n in modules if n) or "(none: the model has no sub-modules)"
        raise ValueError(f"{who}: {type(model).__name__} has no layer named {name!r}; its layers are: {names}")
    return modules[name]


def conv_layers(model):
    """``(name, module)`` of every ``nn.Conv2d`` in the order the model registered them."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def first_conv(model, who):
    """The name of the model's first Conv2d (the layer that looks at pixels)."""
    return _one_conv(model, who, 0, "first")


def last_conv(model, who):
    """The name of the model's last Conv2d (the most abstract maps that still have a place in the image)."""
    return _one_conv(model, who, -1, "last")


def last_conv_maps(model, who):
    """Where Grad-CAM reads the last convolution's maps: the ReLU right after the last Conv2d when there is
    one (the rectified maps, as in the paper's Caffe networks, whose ReLUs run in place), else the Conv2d."""
    name = last_conv(model, who)
    leaves = leaf_layers(model)
    names = [n for n, _ in leaves]
    if name in names and names.index(name) + 1 < len(leaves):
        after_name, after = leaves[names.index(name) + 1]
        if isinstance(after, nn.ReLU):
            return after_name
    return name


def _one_conv(model, who, index, which):
    convs = conv_layers(model)
    if not convs:
        raise ValueError(f"{who}: {type(model).__name__} has no nn.Conv2d layer to take as the {which} "
                         f"convolution; name a layer instead")
    return convs[index][0]


def leaf_layers(model):
    """``(name, module)`` of every module without children (the layers that compute), in registration order."""
    return [(name, m) for name, m in model.named_modules() if name and not any(True for _ in m.children())]


@contextmanager
def capture(model, names):
    """Forward hooks on the layers ``names``: inside the ``with``, each forward stores the layer's output in
    the yielded dict under its name (a later call of the same layer overwrites it). Removed on exit."""
    seen, handles = {}, []

    def hook_for(name):
        def hook(module, inputs, output):
            seen[name] = output

        return hook

    try:
        for name in names:
            handles.append(find_layer(model, name, "capture").register_forward_hook(hook_for(name)))
        yield seen
    finally:
        for handle in handles:
            handle.remove()
