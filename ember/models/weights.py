"""Load pretrained torchvision weights into an Ember model, from data files only (never a pickle).

torchvision ships its weights as ``torch.save`` pickles; unpickling runs code, so Ember does not read them.
Convert once on a machine with torch, to an ``.npz`` (NumPy only) or a ``.safetensors`` file:

    import numpy as np, torchvision
    np.savez("resnet18.npz", **{k: v.numpy() for k, v in torchvision.models.resnet18(weights="DEFAULT").state_dict().items()})

    # or, with the safetensors package:
    from safetensors.torch import save_file
    save_file(torchvision.models.resnet18(weights="DEFAULT").state_dict(), "resnet18.safetensors")

then, anywhere NumPy runs:

    model = ember.models.create("resnet18")
    ember.models.load_torchvision_weights(model, "resnet18.npz")

Ember's models use torchvision's module names, so the keys match 1:1 and the load is strict: a missing
or unexpected key, or a shape mismatch, is an error that lists every problem.
"""

import os

from ..backend import xp


def _read_npz(path):
    with xp.load(path, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def _read_safetensors(path):
    try:
        from safetensors.numpy import load_file
    except ImportError as error:
        raise ImportError(
            f"load_torchvision_weights: reading {path} needs the optional 'safetensors' package; install it with "
            "`pip install safetensors`, or export the weights to .npz instead (see the docstring)"
        ) from error
    return load_file(path)


def read_state_dict(path):
    """The arrays of a torch state_dict saved as ``.npz`` or ``.safetensors``, by key."""
    ext = os.path.splitext(str(path))[1].lower()
    if ext == ".npz":
        return _read_npz(path)
    if ext == ".safetensors":
        return _read_safetensors(path)
    if ext in (".pt", ".pth", ".bin", ".ckpt"):
        raise ValueError(
            f"load_torchvision_weights: {path} is a torch pickle; Ember does not unpickle (loading a pickle can run "
            'code). Convert it once where torch is installed: np.savez("model.npz", **{k: v.numpy() for k, v in '
            "torch.load(path).items()})"
        )
    raise ValueError(f"load_torchvision_weights: expected a .npz or .safetensors file, got {path}")


def load_torchvision_weights(model, path, strict=True):
    """Load a torchvision state_dict saved as ``.npz`` or ``.safetensors`` into ``model``; returns ``model``.

    Export on the torch side (one line)::

        np.savez("resnet18.npz", **{k: v.numpy() for k, v in torchvision.models.resnet18(weights="DEFAULT").state_dict().items()})

    The keys must match the model's exactly (``strict=True``, as ``load_state_dict``): the model has to be
    built with the same architecture, ``num_classes`` and ``input_size`` ≥ 64 stem as the checkpoint.
    Values are copied in place and keep the model's dtype.
    """
    model.load_state_dict(read_state_dict(path), strict=strict)
    return model
