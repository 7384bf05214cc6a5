"""``ember.backends``: switches and facts about the libraries behind the devices (``torch.backends``).

Ember's CPU arrays are NumPy's and its GPU arrays CuPy's, so ``cudnn`` and ``cuda`` report what CuPy
finds, ``mps`` (Apple GPUs) is never available, and ``cpu`` names the vector instructions NumPy uses.
The switches (``cudnn.benchmark``, ``cudnn.deterministic``...) are plain attributes that programs may set;
Ember's NumPy ops are deterministic whatever they say.
"""

from . import cpu, cuda, cudnn, mps  # noqa: F401
