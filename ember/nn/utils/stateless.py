"""``functional_call``: run a module with some parameters and buffers swapped for the given tensors, then put
the originals back (``torch.nn.utils.stateless``): meta-learning, per-sample gradients, ensembles."""

import contextlib


def _owner(module, name):
    *path, leaf = name.split(".")
    for part in path:
        module = getattr(module, part)
    return module, leaf


@contextlib.contextmanager
def _reparametrize(module, tensors, strict=False):
    saved = []
    known = dict(module.named_parameters(remove_duplicate=False)) | dict(module.named_buffers(remove_duplicate=False))
    missing = [k for k in tensors if k not in known]
    if strict and (missing or set(known) - set(tensors)):
        raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}: unexpected keys {missing}, "
                           f"missing keys {sorted(set(known) - set(tensors))}")
    try:
        for name, value in tensors.items():
            owner, leaf = _owner(module, name)
            if leaf in owner._parameters:
                saved.append((owner._parameters, leaf, owner._parameters[leaf]))
                owner._parameters[leaf] = value
            elif leaf in owner._buffers:
                saved.append((owner._buffers, leaf, owner._buffers[leaf]))
                owner._buffers[leaf] = value
            else:
                had = leaf in owner.__dict__
                saved.append((owner.__dict__, leaf, owner.__dict__.get(leaf) if had else _MISSING))
                owner.__dict__[leaf] = value
        yield
    finally:
        for store, leaf, original in reversed(saved):
            if original is _MISSING:
                del store[leaf]
            else:
                store[leaf] = original


_MISSING = object()


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """``module(*args, **kwargs)`` with the named parameters/buffers replaced by the dict's tensors (a tuple of
    dicts is merged); the module is unchanged afterwards and gradients flow to the given tensors."""
    if isinstance(parameter_and_buffer_dicts, (list, tuple)):
        merged = {}
        for d in parameter_and_buffer_dicts:
            overlap = set(merged) & set(d)
            if overlap:
                raise ValueError(f"{sorted(overlap)} appeared in multiple dictionaries; behavior of functional call "
                                 "is ambiguous")
            merged.update(d)
        parameter_and_buffer_dicts = merged
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrize(module, dict(parameter_and_buffer_dicts), strict):
        return module(*args, **(kwargs or {}))
