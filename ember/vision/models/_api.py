"""torchvision.models' plumbing: the weight enums, the legacy ``pretrained=`` keyword, the model registry.

Ember never downloads weights. ``weights=None`` (the default) builds a freshly initialised model, exactly as
torchvision does; asking for pretrained weights (``weights=ResNet18_Weights.DEFAULT``, ``"IMAGENET1K_V1"``
or the old ``pretrained=True``) raises a ``RuntimeError`` that says how to load a weight file instead::

    model = ember.vision.models.resnet18()
    model.load_state_dict(ember.load("resnet18-f37072fd.pth"))   # the file, fetched once where there is a network

The enums keep torchvision's members, URLs and parameter counts (``meta["num_params"]``), so code that
names them, or reads ``.url`` to know which file to fetch, works unchanged.
"""

import enum
import fnmatch
import functools
import warnings


class Weights:
    """One set of pretrained weights: where torchvision publishes it and its ``meta`` (``num_params``...)."""

    def __init__(self, url, transforms=None, meta=None):
        self.url = url
        self.transforms = transforms
        self.meta = dict(meta or {})

    def __repr__(self):
        return f"Weights(url={self.url!r}, meta={self.meta!r})"


class WeightsEnum(enum.Enum):
    """Base of ``ResNet18_Weights`` and the rest: members are :class:`Weights`; ``DEFAULT`` is an alias."""

    @classmethod
    def verify(cls, obj):
        """``None``, a member, or a member's name (``"DEFAULT"``, ``"ResNet18_Weights.IMAGENET1K_V1"``)."""
        if obj is None or isinstance(obj, cls):
            return obj
        if isinstance(obj, str):
            name = obj.replace(cls.__name__ + ".", "")
            if name not in cls.__members__:
                raise ValueError(f"Failed to find Weights {obj} in {cls.__name__}. Try one of {list(cls.__members__)}")
            return cls[name]
        raise TypeError(
            f"Invalid Weight class provided; expected {cls.__name__} but received {obj.__class__.__name__}."
        )

    def get_state_dict(self, *args, **kwargs):
        raise RuntimeError(no_download_message(self))

    @property
    def url(self):
        return self.value.url

    @property
    def meta(self):
        return self.value.meta

    def __repr__(self):
        return f"{type(self).__name__}.{self._name_}"


def no_download_message(weights, builder=None):
    """Why pretrained weights are refused and how to load a weight file instead."""
    file = weights.url.rsplit("/", 1)[-1]
    call = f"{builder}(weights={weights!r})" if builder else repr(weights)
    make = f"ember.vision.models.{builder}()" if builder else "the model, built with weights=None"
    return (
        f"{call}: Ember does not download pretrained weights. Build the model without them and load a "
        f"weight file: model = {make}; model.load_state_dict(ember.load({file!r})) — the file "
        f"torchvision publishes at {weights.url}, fetched once on a machine with network access."
    )


def check_weights(builder, weights):
    """Refuse every pretrained request with the message above (``weights`` is verified or None)."""
    if weights is not None:
        raise RuntimeError(no_download_message(weights, builder))


def handle_legacy_interface(default_weights):
    """torchvision's compatibility for ``builder(pretrained=True)`` and ``builder(True)`` (weights, progress
    given positionally): the old arguments are mapped to ``weights`` with torchvision's deprecation warnings."""

    def decorate(builder):
        @functools.wraps(builder)
        def wrapper(*args, **kwargs):
            if args:
                names = ("weights", "progress")[: len(args)]
                warnings.warn(
                    f"Using {sequence_to_str(names, separate_last='and ')} as positional parameter(s) is "
                    f"deprecated since 0.13 and may be removed in the future. Please use keyword parameter(s) "
                    f"instead."
                )
                if len(args) > 2:
                    raise TypeError(f"{builder.__name__}() takes at most 2 positional arguments ({len(args)} given)")
                kwargs.update(zip(names, args))
            weights_arg = kwargs.get("weights", None)
            legacy = "pretrained" in kwargs or not (
                weights_arg is None or isinstance(weights_arg, (WeightsEnum, str))
            )
            if legacy:
                positional = "pretrained" not in kwargs
                pretrained = kwargs.pop("weights") if positional else kwargs.pop("pretrained")
                default = default_weights if pretrained else None
                if not positional:
                    warnings.warn(
                        "The parameter 'pretrained' is deprecated since 0.13 and may be removed in the future, "
                        "please use 'weights' instead."
                    )
                msg = (
                    "Arguments other than a weight enum or `None` for 'weights' are deprecated since 0.13 and may "
                    f"be removed in the future. The current behavior is equivalent to passing `weights={default}`."
                )
                if pretrained:
                    msg += (f" You can also use `weights={type(default).__name__}.DEFAULT` to get the most up-to-date "
                            "weights.")
                warnings.warn(msg)
                kwargs["weights"] = default
            return builder(**kwargs)

        return wrapper

    return decorate


def sequence_to_str(seq, separate_last=""):
    if not seq:
        return ""
    if len(seq) == 1:
        return f"'{seq[0]}'"
    head = "'" + "', '".join([str(item) for item in seq[:-1]]) + "'"
    tail = f"{'' if separate_last and len(seq) == 2 else ','} {separate_last}'{seq[-1]}'"
    return head + tail


# ------------------------------------------------------------------------------------------- the registry

BUILTIN_MODELS = {}
_WEIGHTS = {}


def register_model(name=None, weights=None):
    """Decorator: list a builder under ``name`` (default: its own name) with its weights enum."""

    def add(fn):
        key = name if name is not None else fn.__name__
        if key in BUILTIN_MODELS:
            raise ValueError(f"An entry is already registered under the name '{key}'.")
        BUILTIN_MODELS[key] = fn
        _WEIGHTS[key] = weights
        return fn

    return add


def list_models(module=None, include=None, exclude=None):
    """The sorted names of the registered builders, optionally only those of ``module`` (e.g.
    ``ember.vision.models``) and filtered by ``include``/``exclude`` fnmatch patterns (a string or a list)."""
    models = {k for k, v in BUILTIN_MODELS.items()
              if module is None or v.__module__.rsplit(".", 1)[0] == module.__name__}
    if include:
        patterns = [include] if isinstance(include, str) else include
        models = {m for m in models if any(fnmatch.fnmatch(m, p) for p in patterns)}
    if exclude:
        patterns = [exclude] if isinstance(exclude, str) else exclude
        models = {m for m in models if not any(fnmatch.fnmatch(m, p) for p in patterns)}
    return sorted(models)


def get_model_builder(name):
    """The builder function registered as ``name`` (case ignored)."""
    name = name.lower()
    if name not in BUILTIN_MODELS:
        raise ValueError(f"Unknown model {name}")
    return BUILTIN_MODELS[name]


def get_model(name, **config):
    """``get_model("resnet18", num_classes=10)``: the model built by the builder ``name`` with ``config``."""
    return get_model_builder(name)(**config)


def get_model_weights(name):
    """The weights enum class of a builder, given its name or the builder itself."""
    key = name if isinstance(name, str) else name.__name__
    get_model_builder(key)
    return _WEIGHTS[key.lower()]


def get_weight(name):
    """A weights member from its full name, e.g. ``get_weight("ResNet50_Weights.IMAGENET1K_V2")``."""
    try:
        enum_name, value_name = name.split(".")
    except ValueError:
        raise ValueError(f"Invalid weight name provided: '{name}'.") from None
    for enum_cls in _WEIGHTS.values():
        if enum_cls is not None and enum_cls.__name__ == enum_name:
            return enum_cls.verify(value_name)
    raise ValueError(f"The weight enum '{enum_name}' for the specific method couldn't be retrieved.")

