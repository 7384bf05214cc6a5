"""ember.vision.models: torchvision's builders over Ember's zoo.

torchvision is not installed, so its facts are written out here: the builders' signature, the parameter
counts it publishes (``weights.meta["num_params"]``), the state_dict keys of its architectures (ResNet-18's
listed by hand from torchvision's resnet.py), its legacy ``pretrained=`` warnings.
"""

import inspect
import warnings
from contextlib import contextmanager

import numpy as np
import pytest

import ember
from ember import nn
from ember.vision import models

NAMES = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn",
         "vgg16", "vgg16_bn", "vgg19", "vgg19_bn", "alexnet", "googlenet", "inception_v3"]

# torchvision's published parameter counts (1000 classes); GoogLeNet's 6,624,904 is without the aux heads.
TOTALS = {"resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032, "resnet101": 44_549_160,
          "resnet152": 60_192_808, "vgg11": 132_863_336, "vgg11_bn": 132_868_840, "vgg13": 133_047_848,
          "vgg13_bn": 133_053_736, "vgg16": 138_357_544, "vgg16_bn": 138_365_992, "vgg19": 143_667_240,
          "vgg19_bn": 143_678_248, "alexnet": 61_100_840, "googlenet": 6_624_904, "inception_v3": 27_161_264}

BN = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]


@contextmanager
def no_init():
    """Build without drawing random weights: the counts and keys do not depend on them, and VGG's 138 M
    normal draws would take most of this file's time."""
    with pytest.MonkeyPatch.context() as mp:
        for name in ("default_layer_init_", "kaiming_normal_", "normal_", "constant_", "trunc_normal_", "zeros_"):
            mp.setattr(nn.init, name, lambda tensor, *args, **kwargs: tensor)
        yield


def quick(build, **kwargs):
    """``build(**kwargs)`` without the random draws, every parameter set to 0.01 (shapes are what is tested)."""
    with no_init():
        model = build(**kwargs)
    for p in model.parameters():
        p.array[...] = 0.01
    return model


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def test_every_builder_is_listed_and_has_torchvisions_signature():
    assert models.list_models() == sorted(NAMES)
    assert models.list_models(include="vgg1[19]*") == ["vgg11", "vgg11_bn", "vgg19", "vgg19_bn"]
    assert models.list_models(module=models, exclude=["vgg*", "resnet*"]) == ["alexnet", "googlenet", "inception_v3"]
    for name in NAMES:
        params = inspect.signature(getattr(models, name)).parameters
        assert list(params) == ["weights", "progress", "kwargs"], name
        assert params["weights"].kind is inspect.Parameter.KEYWORD_ONLY and params["weights"].default is None
        assert params["progress"].default is True


@pytest.mark.parametrize("name", NAMES)
def test_parameter_counts_are_torchvisions(name):
    with no_init():
        kwargs = {"aux_logits": False} if name == "googlenet" else {}
        model = models.get_model(name, **kwargs)
    assert n_params(model) == TOTALS[name]
    assert models.get_model_weights(name).DEFAULT.meta["num_params"] == TOTALS[name]


def resnet18_keys():
    """torchvision's ResNet-18 state_dict keys, in order: the stem, four stages of two BasicBlocks (a
    conv1x1 + BN ``downsample`` on the first block of stages 2-4), the fc layer."""
    keys = ["conv1.weight"] + [f"bn1.{b}" for b in BN]
    for stage in (1, 2, 3, 4):
        for block in (0, 1):
            head = f"layer{stage}.{block}."
            keys += [head + "conv1.weight"] + [f"{head}bn1.{b}" for b in BN]
            keys += [head + "conv2.weight"] + [f"{head}bn2.{b}" for b in BN]
            if block == 0 and stage > 1:
                keys += [head + "downsample.0.weight"] + [f"{head}downsample.1.{b}" for b in BN]
    return keys + ["fc.weight", "fc.bias"]


def test_resnet18_state_dict_is_torchvisions():
    state = models.resnet18().state_dict()
    assert list(state) == resnet18_keys() and len(state) == 122
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    assert shapes["conv1.weight"] == (64, 3, 7, 7)  # the ImageNet stem, not the CIFAR one
    assert shapes["layer1.0.conv1.weight"] == (64, 64, 3, 3)
    assert shapes["layer3.0.downsample.0.weight"] == (256, 128, 1, 1)
    assert shapes["bn1.running_mean"] == (64,) and shapes["bn1.num_batches_tracked"] == ()
    assert shapes["fc.weight"] == (1000, 512) and shapes["fc.bias"] == (1000,)
    model = models.resnet18(num_classes=10)
    assert isinstance(model.maxpool, nn.MaxPool2d) and model.conv1.stride == (2, 2)
    assert tuple(model.fc.weight.shape) == (10, 512)


def test_resnet50_keys_have_bottlenecks_and_a_downsample_in_layer1():
    with no_init():
        state = models.resnet50().state_dict()
    assert "layer1.0.downsample.0.weight" in state and "layer1.1.downsample.0.weight" not in state
    assert tuple(state["layer4.2.conv3.weight"].shape) == (2048, 512, 1, 1)
    assert tuple(state["layer2.0.conv2.weight"].shape) == (128, 128, 3, 3)  # stride on the 3x3 (v1.5)


def test_vgg_alexnet_googlenet_inception_keys():
    with no_init():
        vgg = models.vgg16_bn(num_classes=3).state_dict()
        alex = models.alexnet().state_dict()
        goog = models.googlenet().state_dict()
        inc = models.inception_v3().state_dict()
    assert list(vgg)[:7] == ["features.0.weight", "features.0.bias"] + [f"features.1.{b}" for b in BN]
    assert list(vgg)[-6:] == [f"classifier.{i}.{p}" for i in (0, 3, 6) for p in ("weight", "bias")]
    assert tuple(vgg["classifier.0.weight"].shape) == (4096, 25088)
    assert tuple(vgg["classifier.6.weight"].shape) == (3, 4096)
    assert list(alex) == ([f"features.{i}.{p}" for i in (0, 3, 6, 8, 10) for p in ("weight", "bias")]
                          + [f"classifier.{i}.{p}" for i in (1, 4, 6) for p in ("weight", "bias")])
    for key in ("conv1.conv.weight", "conv1.bn.running_var", "inception3a.branch1.conv.weight",
                "inception3a.branch2.1.bn.weight", "inception4e.branch4.1.conv.weight", "aux1.conv.conv.weight",
                "aux1.fc1.weight", "aux2.fc2.bias", "fc.weight"):
        assert key in goog, key
    for key in ("Conv2d_1a_3x3.conv.weight", "Mixed_5b.branch5x5_1.conv.weight", "Mixed_6a.branch3x3.conv.weight",
                "Mixed_6e.branch7x7dbl_5.bn.running_mean", "Mixed_7b.branch3x3_2a.conv.weight",
                "Mixed_7c.branch3x3dbl_3b.conv.weight", "AuxLogits.conv0.conv.weight", "AuxLogits.fc.weight"):
        assert key in inc, key
    assert tuple(goog["aux1.fc1.weight"].shape) == (1024, 2048) and tuple(inc["fc.weight"].shape) == (1000, 2048)


def test_output_shapes():
    ember.manual_seed(0)
    x = ember.randn(2, 3, 64, 64)
    for build in (models.resnet18, models.resnet50):
        model = quick(build, num_classes=7).eval()
        with ember.no_grad():
            assert tuple(model(x).shape) == (2, 7)
    vgg = quick(models.vgg11, num_classes=5).eval()
    alex = quick(models.alexnet, num_classes=4).eval()
    with ember.no_grad():
        assert tuple(vgg(ember.randn(1, 3, 32, 32)).shape) == (1, 5)  # adaptive pooling: any size >= 32
        assert tuple(alex(ember.randn(1, 3, 63, 63)).shape) == (1, 4)


def test_googlenet_and_inception_return_torchvisions_outputs_in_training():
    goog = quick(models.googlenet, num_classes=6)
    out = goog(ember.randn(2, 3, 64, 64))
    assert isinstance(out, models.GoogLeNetOutputs) and tuple(out.logits.shape) == (2, 6)
    assert tuple(out.aux_logits1.shape) == (2, 6) and tuple(out.aux_logits2.shape) == (2, 6)
    with ember.no_grad():
        assert tuple(goog.eval()(ember.randn(1, 3, 64, 64)).shape) == (1, 6)
    inc = quick(models.inception_v3, num_classes=3, aux_logits=False).eval()
    with ember.no_grad():
        assert tuple(inc(ember.randn(1, 3, 75, 75)).shape) == (1, 3)
    assert quick(models.inception_v3, num_classes=3).aux_logits is True  # torchvision's default without weights


def test_torchvision_class_signatures():
    assert list(inspect.signature(models.VGG).parameters) == ["features", "num_classes", "init_weights", "dropout"]
    assert list(inspect.signature(models.AlexNet).parameters) == ["num_classes", "dropout"]
    assert list(inspect.signature(models.ResNet).parameters)[:8] == [
        "block", "layers", "num_classes", "zero_init_residual", "groups", "width_per_group",
        "replace_stride_with_dilation", "norm_layer"]  # fmt: skip
    with no_init():
        model = models.alexnet(num_classes=2, dropout=0.25)
    assert isinstance(model, models.AlexNet) and model.classifier[0].p == 0.25


@pytest.mark.parametrize("call", [
    lambda: models.resnet18(weights=models.ResNet18_Weights.DEFAULT),
    lambda: models.resnet18(weights="IMAGENET1K_V1"),
    lambda: models.get_model("resnet18", weights="DEFAULT"),
])  # fmt: skip
def test_pretrained_weights_raise_a_clear_error(call):
    with pytest.raises(RuntimeError) as info:
        call()
    message = str(info.value)
    assert "Ember does not download pretrained weights" in message
    assert "model.load_state_dict(ember.load('resnet18-f37072fd.pth'))" in message
    assert "https://download.pytorch.org/models/resnet18-f37072fd.pth" in message


def test_legacy_pretrained_keyword_warns_as_torchvision():
    with pytest.warns(UserWarning) as record, no_init():
        model = models.vgg11(pretrained=False, num_classes=2)
    messages = [str(w.message) for w in record]
    assert messages[0] == ("The parameter 'pretrained' is deprecated since 0.13 and may be removed in the future, "
                           "please use 'weights' instead.")
    assert messages[1].endswith("The current behavior is equivalent to passing `weights=None`.")
    assert tuple(model.classifier[6].weight.shape) == (2, 4096)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="alexnet-owt-7be5be79.pth"):
            models.alexnet(pretrained=True)
        with pytest.raises(RuntimeError, match="resnet50-0676ba61.pth"):  # pretrained=True meant IMAGENET1K_V1
            models.resnet50(True)


def test_weight_enums():
    w = models.ResNet50_Weights
    assert w.DEFAULT is w.IMAGENET1K_V2 and repr(w.DEFAULT) == "ResNet50_Weights.IMAGENET1K_V2"
    assert w.verify("ResNet50_Weights.IMAGENET1K_V1") is w.IMAGENET1K_V1 and w.verify(None) is None
    assert models.get_weight("VGG16_Weights.DEFAULT") is models.VGG16_Weights.IMAGENET1K_V1
    with pytest.raises(TypeError, match="expected ResNet50_Weights but received ResNet18_Weights"):
        w.verify(models.ResNet18_Weights.DEFAULT)
    with pytest.raises(ValueError, match="Unknown model resnet9"):
        models.get_model("resnet9")
    with pytest.raises(RuntimeError, match="Ember does not download"):
        w.DEFAULT.get_state_dict(progress=False)


def test_submodule_paths_mirror_torchvision():
    from ember.vision.models.resnet import BasicBlock, Bottleneck, ResNet
    from ember.vision.models.vgg import cfgs, make_layers

    assert ResNet is models.ResNet and BasicBlock.expansion == 1 and Bottleneck.expansion == 4
    assert [len([v for v in cfgs[k] if v != "M"]) for k in "ABDE"] == [8, 10, 13, 16]
    layers = make_layers([4, "M"], batch_norm=True)
    assert [type(m).__name__ for m in layers] == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d"]


def test_load_state_dict_round_trip_between_builders():
    a, b = models.resnet18(num_classes=3), models.resnet18(num_classes=3)
    b.load_state_dict({k: v.numpy().copy() for k, v in a.state_dict().items()})
    np.testing.assert_array_equal(a.fc.weight.detach().numpy(), b.fc.weight.detach().numpy())
