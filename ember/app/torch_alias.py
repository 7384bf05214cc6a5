"""Run a PyTorch program on Ember, unchanged: ``torch`` and ``torchvision`` are mapped onto Ember's modules.

    ember run train_mnist.py --epochs 1        # or: python -m ember.run train_mnist.py --epochs 1

Ember mirrors torch's module paths (``ember.nn.functional``, ``ember.utils.data``, ``ember.optim.lr_scheduler``,
``ember.nn.modules.conv`` ...) and torchvision's under ``ember.vision``. ``install()`` puts a finder on
``sys.meta_path`` that answers ``import torch.X.Y`` with the module ``ember.X.Y`` itself and
``import torchvision.X`` with ``ember.vision.X`` — the same module objects, so ``torch.nn.Module`` *is*
``ember.nn.Module`` and isinstance checks hold. A path Ember lacks fails with ModuleNotFoundError naming
the Ember module that was looked for.

In your own code the one-line form is ``import ember as torch`` (and ``import ember.vision as torchvision``).
"""

import importlib
import importlib.abc
import importlib.machinery
import os
import runpy
import sys

#: torch's top-level package names and the Ember package each one maps onto.
ALIASES = {"torch": "ember", "torchvision": "ember.vision"}


def target(fullname):
    """The Ember module name for a torch/torchvision module name (None when the name is not mapped)."""
    root, _, rest = fullname.partition(".")
    if root not in ALIASES:
        return None
    return ALIASES[root] + ("." + rest if rest else "")


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, ember_name):
        self.ember_name = ember_name

    def create_module(self, spec):
        try:
            return importlib.import_module(self.ember_name)
        except ModuleNotFoundError as error:
            if error.name is not None and not self.ember_name.startswith(error.name):
                raise  # a module the Ember module itself needs (an optional extra) is missing: say that
            raise ModuleNotFoundError(
                f"No module named {spec.name!r}: Ember has no {self.ember_name!r}, the module `ember run` maps it "
                "to (see the README's 'Run PyTorch code' section for what is covered)",
                name=spec.name,
            ) from None

    def exec_module(self, module):
        pass  # the Ember module is already imported and initialised


class TorchAliasFinder(importlib.abc.MetaPathFinder):
    """Answers imports of ``torch``/``torchvision`` (and their submodules) with Ember's modules."""

    def find_spec(self, fullname, path=None, target_module=None):
        ember_name = target(fullname)
        if ember_name is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(ember_name), is_package=True)


def install():
    """Map ``torch`` and ``torchvision`` onto Ember for every later import in this process (idempotent)."""
    for name in list(sys.modules):
        if target(name) is not None and not _is_ember(sys.modules[name]):
            raise RuntimeError(
                f"ember run: the real {name!r} is already imported in this process; run the program in a fresh "
                "interpreter (`ember run script.py`)"
            )
    if not any(isinstance(f, TorchAliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, TorchAliasFinder())
    _carry_into_spawned_processes()


class _InstallInChild:
    """Unpickled by a spawned child before it re-imports the program (``import torch``): maps torch there too."""

    def __reduce__(self):
        return install, ()


def _carry_into_spawned_processes():
    """Make processes started with the 'spawn'/'forkserver' methods map torch onto Ember as this one does.

    Such a child starts a fresh interpreter, unpickles the parent's preparation data, then imports the
    program's main module and unpickles the target: the mapping has to be in place between the first and
    the second step, so it travels inside the preparation data (a forked child simply inherits it).
    """
    import multiprocessing.spawn as spawn
    if getattr(spawn.get_preparation_data, "_ember_alias", False):
        return
    original = spawn.get_preparation_data

    def get_preparation_data(name):
        data = original(name)
        data["ember_torch_alias"] = _InstallInChild()  # prepare() ignores keys it does not know
        return data

    get_preparation_data._ember_alias = True
    spawn.get_preparation_data = get_preparation_data


def _is_ember(module):
    return getattr(module, "__name__", "").split(".")[0] == "ember"


def run_script(path, args=()):
    """Run the program at ``path`` as ``__main__`` with ``sys.argv = [path, *args]``, torch mapped to Ember.

    The program's directory goes first on ``sys.path``, as ``python path`` would do. Its exceptions and
    ``SystemExit`` propagate unchanged. Raises FileNotFoundError (one line for the CLI) if there is no file.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"ember run: no such program {path!r}")
    install()
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    sys.argv = [path, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        runpy.run_path(path, run_name="__main__")
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
