"""Which layers a file of ember.nn defines: what each torch-path submodule of ember.nn.modules exports."""

from ..module import Module


def layers_defined_in(module):
    """The public Module subclasses defined in ``module`` (not merely imported there), sorted by name."""
    return sorted(
        name for name, obj in vars(module).items()
        if isinstance(obj, type) and issubclass(obj, Module) and obj.__module__ == module.__name__
        and not name.startswith("_")
    )
