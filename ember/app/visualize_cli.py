"""``ember visualize CHECKPOINT``: every picture of ``ember.tools.visualize`` for a trained model.

    ember visualize runs/lenet5-mnist/best.npz                      # test image 0, everything
    ember visualize runs/lenet5-mnist/best.npz --image digit.png --what saliency,gradcam
    ember visualize runs/lenet5-mnist/best.npz --index 7 --layer features.3 --out viz/

The model is rebuilt from the checkpoint (as ``ember evaluate`` does); the image is the N-th of the
checkpoint's test set (``--index``, default 0) or a file (``--image``, read as ``ember predict`` reads it),
standardised as in training. Written into ``--out`` (default: a ``visualize`` folder next to the checkpoint):

    filters.png           the first convolution's filters
    features-LAYER.png    the feature maps of --layer (default: the first convolution) for the image
    stats.png, stats.txt  per-layer activation and gradient histograms and statistics on one test batch
    saliency.png          |d score / d pixel| for the predicted class, over the image
    gradcam.png           Grad-CAM from the last convolution (its ReLU's output), over the image
    deconv-LAYER.png      ZFNet's deconvnet: the strongest activation of each channel of --layer
                          (default: the last convolution) projected back to pixels
"""

import argparse
import os

#: What ``--what`` can ask for, in the order they are drawn.
WHAT = ("filters", "features", "stats", "saliency", "gradcam", "deconv")

#: At most this many channels get a deconvnet projection (the strongest ones).
DECONV_CHANNELS = 16


def _what(text):
    """``--what filters,saliency`` (or ``all``) as a tuple in WHAT's order; a stray name is refused."""
    asked = [w.strip() for w in text.split(",") if w.strip()]
    if asked == ["all"]:
        return WHAT
    unknown = [w for w in asked if w not in WHAT]
    if unknown or not asked:
        raise argparse.ArgumentTypeError(
            f"--what must be a comma-separated list of {', '.join(WHAT)} (or all), got {text!r}")
    return tuple(w for w in WHAT if w in asked)


def add_parser(commands):
    """Add ``ember visualize`` to the CLI's subcommands."""
    from .flags import type_for as F

    p = commands.add_parser("visualize", help="filters, feature maps, activation statistics, saliency, Grad-CAM "
                            "and deconvnet pictures of a checkpoint")
    p.add_argument("checkpoint", help="a checkpoint written by ember train, e.g. runs/lenet5-mnist/best.npz")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--image", default=None, metavar="FILE", help="an image file to look at (PNG, JPEG...)")
    source.add_argument("--index", type=F("index"), default=None, metavar="N",
                        help="look at the N-th image of the checkpoint's test set (default 0)")
    p.add_argument("--layer", default=None, metavar="NAME", help="the layer for the feature maps (default: the "
                   "first convolution) and the deconvnet (default: the last), as named by model.named_modules(), "
                   "e.g. features.3")
    p.add_argument("--out", default=None, metavar="DIR", help="output folder (default: CHECKPOINT's folder/visualize)")
    p.add_argument("--what", type=_what, default=None, metavar="LIST",
                   help=f"comma-separated, from: {','.join(WHAT)} (default: all that the model allows)")
    p.add_argument("--batch-size", type=F("batch_size"), default=128, metavar="N",
                   help="test images in the batch whose statistics are drawn (default 128)")
    p.add_argument("--root", default=None, metavar="DIR",
                   help="dataset folder (default: $EMBER_DATA or ~/.cache/ember)")
    return p


def run(args):
    """Run ``ember visualize`` from parsed arguments; prints what it found and the files it wrote."""
    visualize(args.checkpoint, image=args.image, index=args.index, layer=args.layer, out=args.out,
              what=args.what, batch_size=args.batch_size, root=args.root)


def visualize(checkpoint, image=None, index=None, layer=None, out=None, what=None, batch_size=128, root=None,
              log=print):
    """Draw ``what`` (default: everything this model allows) for a checkpoint (see the module docstring);
    returns the paths written."""
    from ..autograd.grad_mode import no_grad
    from ..backend import xp
    from ..tensor import Tensor
    from ..tools import visualize as viz
    from ..tools.layers import conv_layers, last_conv_maps
    from . import recipes
    from .images import load_image
    from .usage import UsageError

    model, config, _ = recipes._load(checkpoint)
    if model is None:
        raise UsageError(f"{checkpoint} is a char-lm checkpoint; ember visualize draws image models")
    layers = dict(model.named_modules())
    if layer is not None and (layer not in layers or layer == ""):
        raise UsageError(f"--layer: {config['model']} has no layer named {layer!r}; its layers are: "
                         f"{', '.join(n for n in layers if n)}")
    standardize = recipes._standardizer(None, config["standardize"])
    prepare = recipes._eval_transform(standardize)
    names = config.get("classes") or [str(i) for i in range(config["num_classes"])]

    test = None
    if image is None or "stats" in what:
        test = recipes._dataset(config["dataset"], False, root)
    if image is not None:
        raw = load_image(image, config["input_size"], config["in_channels"], config.get("dataset"))
        truth, source = None, image
    else:
        index = 0 if index is None else index
        if index >= len(test):
            raise UsageError(f"--index must be below the {len(test)} images of the {config['dataset']} test set, "
                             f"got {index}")
        raw, truth, source = test.data[index], int(test.targets[index]), f"{config['dataset']} test image {index}"
    x = prepare(raw[None])  # (1, C, H, W), standardised as in training
    with no_grad():
        probs = model(x).softmax(1).array[0]
    predicted = int(probs.argmax())
    seen = f"predicted {names[predicted]} ({probs[predicted]:.1%})"
    seen += "" if truth is None else f", true {names[truth]}"
    log(f"{source}: {seen}")

    # What cannot be drawn for this model (no convolution; a network the deconvnet cannot reverse) is left
    # out with a note when everything was asked for by default, and refused before any file is written
    # when it was asked for by name.
    asked, what = what is not None, list(WHAT if what is None else what)

    def cannot(item, error, hint=""):
        if asked:
            raise UsageError(f"{error}{hint}") from error
        log(f"{item}: left out: {error}")
        what.remove(item)

    convs = conv_layers(model)
    first, last = (convs[0][0], convs[-1][0]) if convs else (None, None)
    for item in ("filters", "features", "gradcam", "deconv"):
        needs_conv = not (item in ("features", "deconv") and layer is not None)
        if item in what and needs_conv and not convs:
            cannot(item, UsageError(f"{config['model']} has no convolution (nn.Conv2d) to draw {item} from"),
                   "; --what stats,saliency work on any model")
    strongest = None
    if "deconv" in what:
        try:
            strongest = viz.deconvnet(model, x, layer or last)
        except (NotImplementedError, ValueError) as error:
            cannot("deconv", error)

    out = out or os.path.join(os.path.dirname(os.path.abspath(checkpoint)), "visualize")
    os.makedirs(out, exist_ok=True)
    written = []

    def wrote(path):
        written.append(path)
        log(f"wrote {path}")

    if "filters" in what:
        wrote(viz.save_filters(model, os.path.join(out, "filters.png"), layer=first))
        log(f"  the filters of {first}: {tuple(layers[first].weight.shape)}")
    if "features" in what:
        name = layer or first
        maps = viz.feature_maps(model, x, name)
        wrote(viz.plot_feature_maps(maps, os.path.join(out, f"features-{name}.png"), image=raw,
                                    title=f"{name} ({type(layers[name]).__name__}) on {source}"))
    if "stats" in what:
        count = min(batch_size, len(test))
        batch, labels = prepare(test.data[:count]), Tensor(xp.asarray(test.targets[:count], dtype=xp.int64))
        stats = viz.layer_statistics(model, batch, labels)
        table = viz.format_statistics(stats)
        log(table)
        text = f"{count} {config['dataset']} test images; gradients of the cross-entropy loss\n{table}\n"
        wrote(_write_text(os.path.join(out, "stats.txt"), text))
        wrote(viz.plot_statistics(stats, os.path.join(out, "stats.png"),
                                  title=f"{config['model']}: activations (blue) and gradients (orange) "
                                  f"on {count} {config['dataset']} test images"))
    if "saliency" in what:
        heat = viz.saliency(model, x, predicted)
        wrote(viz.plot_heatmap(raw, heat[0], os.path.join(out, "saliency.png"), what="saliency |dS/dx|",
                               title=f"saliency for class {names[predicted]}: {seen}"))
    if "gradcam" in what:
        cam_layer = last_conv_maps(model, "ember visualize")
        cam = viz.grad_cam(model, x, predicted, layer=cam_layer)
        wrote(viz.plot_heatmap(raw, cam[0], os.path.join(out, "gradcam.png"), what=f"Grad-CAM ({cam_layer})",
                               title=f"Grad-CAM for class {names[predicted]}: {seen}"))
    if "deconv" in what:
        name = layer or last
        maps = viz.feature_maps(model, x, strongest.layer).array  # rank the channels by their largest activation
        order = xp.argsort(-maps.reshape(maps.shape[0], -1).max(axis=1))[:DECONV_CHANNELS]
        projections = [viz.deconvnet(model, x, name, channel=int(c)) for c in order]
        wrote(viz.plot_projections(raw, projections, os.path.join(out, f"deconv-{name}.png"),
                                   title=f"deconvnet from {strongest.layer}: the strongest activation of each of "
                                   f"its {len(order)} strongest channels, back in pixel space ({source})"))
    return written


def _write_text(path, text):
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return path
