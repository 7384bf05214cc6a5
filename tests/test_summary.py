"""ember.summary, ember.receptive_field, ember.tools.conv_output_size and `ember summary`.

Counts are checked on small models built here, where every figure is computed by hand in a comment,
then on the registered models against published figures (torchvision's parameter totals, the usual
GMACs, LeNet-5's table in LeCun et al. 1998). Only VGG-16 is slow-marked: building it (138 M random
weights) takes over 10 s on a small machine; its shapes themselves are traced in milliseconds.
"""

import math

import pytest

import ember
import ember.nn as nn
from ember import models
from ember.cli import main
from ember.ops.pool import max_pool2d
from ember.ops.window import output_size
from ember.tools import Summary, conv_output_size, receptive_field, summary


def _rows(s):
    return {r.name: r for r in s.rows}


# ---- counting rules on hand-computed examples -----------------------------------------------------------


class Small(nn.Module):
    """4×10×10 → grouped dilated conv → BN → ReLU → max-pool → avg-pool → global pool → Linear."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 8, 3, padding=2, dilation=2, groups=2)  # 8 filters of 2·3·3, 10×10 out
        self.bn = nn.BatchNorm2d(8)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)  # 10 → 5
        self.avg = nn.AvgPool2d(3, stride=2, padding=1)  # (5 - 3 + 2)/2 + 1 = 3
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 5)
        self.head = nn.Linear(5, 3, bias=False)

    def forward(self, x):
        x = self.gap(self.avg(self.pool(self.relu(self.bn(self.conv(x))))))
        return self.head(self.fc(x.flatten(1)))


def test_conv_with_groups_and_dilation_linear_and_pools_are_counted_by_hand():
    s = summary(Small(), (4, 10, 10))
    rows = _rows(s)
    conv = rows["conv"]
    assert conv.output_shape == (1, 8, 10, 10)
    assert conv.params == 8 * (4 // 2) * 3 * 3 + 8 == 152  # dilation adds no weights
    assert conv.macs == 800 * 18  # 8·10·10 outputs, each a dot product of in/groups·kH·kW = 2·9 = 18
    assert conv.connections == 800 * (18 + 1)  # + the bias wire
    assert (rows["bn"].params, rows["bn"].macs, rows["bn"].connections) == (16, 0, 0)
    assert (rows["relu"].macs, rows["relu"].connections) == (0, 0)
    assert rows["pool"].output_shape == (1, 8, 5, 5)
    assert (rows["pool"].macs, rows["pool"].connections) == (0, 200 * 4)  # 8·5·5 units × a 2×2 window
    assert rows["avg"].output_shape == (1, 8, 3, 3) and rows["avg"].connections == 72 * 9
    assert rows["gap"].connections == 8 * 3 * 3  # 8 units, each averaging a 3×3 map
    assert (rows["fc"].params, rows["fc"].macs, rows["fc"].connections) == (45, 40, 45)  # 5·(8 + 1)
    assert (rows["head"].params, rows["head"].macs, rows["head"].connections) == (15, 15, 15)  # no bias
    t = s.totals
    assert t["params_total"] == t["params_trainable"] == 152 + 16 + 45 + 15
    assert t["macs"] == 14_400 + 40 + 15
    assert t["connections"] == 15_200 + 800 + 648 + 72 + 45 + 15
    assert t["buffer_bytes"] == 8 * 4 * 2 + 8  # running mean and var (float32) and num_batches_tracked (int64)


def test_adaptive_pool_windows_overlap_when_the_size_does_not_divide():
    # 5 → 3: PyTorch's windows [⌊i·5/3⌋, ⌈(i+1)·5/3⌉) are [0, 2), [1, 4), [3, 5): lengths 2 + 3 + 2 = 7.
    s = summary(nn.Sequential(nn.AdaptiveAvgPool2d(3)), (2, 5, 5))
    assert s.rows[0].connections == 2 * 7 * 7


def test_activation_memory_input_and_parameter_bytes_by_hand():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8, 3))
    # Outputs per sample: conv 2·4·4 = 32, relu 32, pool 2·2·2 = 8, flatten 8, linear 3 → 83 values.
    for batch in (1, 5):
        t = summary(model, (1, 4, 4), batch_size=batch).totals
        assert t["activation_bytes"] == 83 * 4  # per sample, whatever the batch
        assert t["input_bytes"] == 16 * 4 and t["input_size"] == [(1, 4, 4)]
        assert t["param_bytes"] == {"float32": (20 + 27) * 4} and t["param_bytes_total"] == 188
    s = summary(model, (1, 4, 4), batch_size=5)
    assert s.rows[0].output_shape == (5, 2, 4, 4) and s.rows[0].macs == 32 * 9  # counts stay per sample
    double = summary(model.double(), (1, 4, 4), dtype=ember.float64).totals
    assert double["activation_bytes"] == 83 * 8 and double["param_bytes"] == {"float64": 47 * 8}
    assert double["input_dtype"] == "float64"


def test_frozen_parameters_are_counted_apart_and_shown():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    model[0].requires_grad_(False)
    s = summary(model, (4,))
    assert (s.rows[0].trainable, s.rows[0].frozen) == (0, 15)
    assert (s.totals["params_trainable"], s.totals["params_frozen"], s.totals["params_total"]) == (8, 15, 23)
    header = str(s).splitlines()[2]
    assert "Frozen" in header and "Params: 23 (8 trainable, 15 frozen)" in str(s)


class Counted(nn.Module):
    """A custom layer with children that reports its own counts (the count_ops protocol)."""

    def __init__(self):
        super().__init__()
        self.inner = nn.Conv2d(3, 4, 3)
        self.seen = []

    def forward(self, x):
        return self.inner(x)

    def count_ops(self, input_shape, output_shape):
        self.seen.append((input_shape, output_shape))
        return {"macs": 7, "connections": 11}


class Scaled(nn.Module):
    """Holds a parameter of its own besides its child: it gets a row for that parameter."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(ember.ones(4).array)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(x) * self.scale.reshape(1, 4, 1, 1)


class Mystery(nn.Module):
    """A layer with parameters whose cost the summary cannot know: shown as '?'."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(ember.ones(4, 2).array)

    def forward(self, x):
        return x.mean(dim=(2, 3)) @ self.weight


def test_count_ops_protocol_custom_rows_and_unknown_layers():
    counted, scaled, mystery, unused = Counted(), Scaled(), Mystery(), nn.Linear(2, 2)
    model = nn.Sequential(counted, scaled, mystery)
    model.add_module("unused", unused)  # registered, never called
    model.add_module("empty", nn.ModuleList())  # holds nothing: no row, not "unused"
    model.forward = lambda x: mystery(scaled(counted(x)))
    s = summary(model, (3, 6, 6), batch_size=2)
    # In call order (a parent before its children); Counted is one row: its conv is not listed.
    assert [r.name for r in s.rows] == ["0", "1", "1.act", "2"]
    rows = _rows(s)
    assert (rows["0"].params, rows["0"].macs, rows["0"].connections) == (112, 7, 11)  # 4·3·9 + 4
    assert counted.seen == [((1, 3, 6, 6), (1, 4, 4, 4))]  # batch-1 shapes: the counts are per sample
    assert rows["1"].params == 4 and rows["1.act"].params == 0
    assert rows["2"].macs is None and rows["2"].connections is None
    text = str(s)
    assert "?" in text and "define count_ops" in text
    assert s.unused == ["unused"] and s.totals["params_unused"] == 6
    assert s.totals["params_total"] == 112 + 4 + 8 + 6  # the unused layer's parameters are in the totals
    assert "Not run in this forward pass (6 params" in text


def test_a_shared_layer_gets_a_row_per_call_and_its_parameters_once():
    fc = nn.Linear(4, 4)
    model = nn.Sequential(fc, nn.ReLU(), fc)
    s = summary(model, (4,))
    assert [(r.name, r.params, r.macs, r.first_call) for r in s.rows] == [
        ("0", 20, 16, True), ("1", 0, 0, True), ("0", 0, 16, False)]
    assert s.total_params == 20 and s.macs == 32
    assert "(reused)" in str(s)


def test_multi_input_models_take_a_list_of_shapes():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Conv2d(3, 4, 3), nn.Linear(5, 4)

        def forward(self, image, features):
            return self.a(image).mean(dim=(2, 3)) + self.b(features)

    s = summary(Two(), [(3, 8, 8), (5,)])
    assert s.totals["input_size"] == [(3, 8, 8), (5,)]
    assert s.totals["input_bytes"] == (3 * 64 + 5) * 4
    assert _rows(s)["a"].output_shape == (1, 4, 6, 6) and _rows(s)["b"].output_shape == (1, 4)
    with pytest.raises(ValueError, match="input_size must be one shape"):
        summary(Two(), [(3, 8, 8), "x"])


def test_table_and_to_dict():
    s = summary(models.create("lenet5"), (1, 28, 28))
    assert isinstance(s, Summary)
    lines = str(s).splitlines()
    assert lines[0] == "LeNet5"
    assert lines[2].split() == ["Layer", "Type", "Output", "shape", "Params", "MACs", "Connections", "RF", "Jump"]
    assert lines[4].split() == ["features.0", "Conv2d", "[1,", "6,", "28,", "28]", "156", "117,600", "122,304",
                                "5", "1"]
    assert "Params: 61,706 (61,706 trainable, 0 frozen)" in lines
    assert "MACs: 416,520 (416.52 kMACs) per sample" in lines
    d = s.to_dict()
    assert d["model"] == "LeNet5" and len(d["rows"]) == 12
    assert d["rows"][0] | {} == {"name": "features.0", "type": "Conv2d", "output_shape": (1, 6, 28, 28),
                                 "trainable": 156, "frozen": 0, "params": 156, "macs": 117_600,
                                 "connections": 122_304, "rf": (5, 5), "jump": (1, 1), "start": (0.5, 0.5),
                                 "first_call": True}
    assert d["totals"]["params_total"] == 61_706 and s.row("classifier.5").params == 10 * 84 + 10
    assert repr(s) == str(s)


# ---- the trace leaves the model as it was; dry runs give the same numbers ---------------------------


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.conv2, self.bn2 = nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = self.bn1(self.conv1(x)).relu()
        y = self.conv2(x)
        y += x  # in place on a layer's output: a new graph node, as in torchvision's blocks
        y = self.bn2(y).relu()
        return self.fc(self.drop(y.mean(dim=(2, 3))))


def test_summary_leaves_modes_statistics_hooks_and_random_stream_alone():
    ember.manual_seed(0)
    model = Residual().train()
    state = ember.get_rng_state()
    stats = model.bn1.running_mean.array.copy()
    for dry in (False, True):
        summary(model, (3, 8, 8), dry_run=dry)
        assert all(m.training for m in model.modules())
        assert (model.bn1.running_mean.array == stats).all() and int(model.bn1.num_batches_tracked.array) == 0
        assert all(not m._forward_hooks and not m._forward_pre_hooks and "forward" not in m.__dict__ for m in model.modules())
        assert ember.get_rng_state() == state
    with pytest.raises(ValueError, match="expected input with 3 channels, got 2"):
        summary(model, (2, 8, 8), dry_run=True)  # the dry run raises the layer's own error ...
    assert all(not m._forward_hooks and not m._forward_pre_hooks and "forward" not in m.__dict__ for m in model.modules())  # ... and cleans up


@pytest.mark.parametrize("name, size", [("lenet5", (1, 28, 28)), ("lenet5_classic", (1, 32, 32)),
                                        ("resnet20", (3, 32, 32)), ("googlenet", (3, 64, 64))])
def test_a_dry_run_gives_the_same_summary_as_a_real_forward(name, size):
    model = models.create(name)
    assert summary(model, size, dry_run=True).to_dict() == summary(model, size).to_dict()


def test_dry_run_of_the_hand_built_models():
    for model, size in ((Small(), (4, 10, 10)), (Residual(), (3, 8, 8))):
        assert summary(model, size, dry_run=True).to_dict() == summary(model, size).to_dict()


# ---- receptive fields ------------------------------------------------------------------------------------


def test_stacked_3x3_convolutions_see_5x5_then_7x7():
    stack = nn.Sequential(*[nn.Conv2d(1, 1, 3, padding=1) for _ in range(3)])
    fields = receptive_field(stack, (1, 16, 16))
    assert [f.rf for f in fields] == [(3, 3), (5, 5), (7, 7)]
    assert all(f.jump == (1, 1) and f.start == (0.5, 0.5) for f in fields)  # 'same' padding keeps the centre
    one = receptive_field(nn.Sequential(nn.Conv2d(1, 1, 5, padding=2)), (1, 16, 16))
    assert one[0].rf == fields[1].rf  # two 3×3 convolutions = one 5×5, with 18 weights instead of 25


def test_strides_pools_and_dilation_follow_the_recurrence():
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3),  # rf 1 + 2·1 = 3, jump 1, start 0.5 + 1 = 1.5
        nn.MaxPool2d(2),  # rf 3 + 1·1 = 4, jump 2, start 1.5 + 0.5 = 2
        nn.Conv2d(2, 2, 3, padding=1),  # rf 4 + 2·2 = 8, jump 2, start 2
        nn.Conv2d(2, 2, 3, stride=2),  # rf 8 + 2·2 = 12, jump 4, start 2 + 1·2 = 4
        nn.Conv2d(2, 2, 3, dilation=2, padding=2),  # rf 12 + 2·2·4 = 28, jump 4, start 4
        nn.Conv2d(2, 2, (1, 3)),  # height unchanged; width rf 28 + 2·4 = 36, start 4 + 4 = 8
    )
    fields = receptive_field(model, (1, 30, 30))
    assert [f.rf for f in fields] == [(3, 3), (4, 4), (8, 8), (12, 12), (28, 28), (28, 36)]
    assert [f.jump for f in fields] == [(1, 1), (2, 2), (2, 2), (4, 4), (4, 4), (4, 4)]
    assert [f.start for f in fields] == [(1.5, 1.5), (2, 2), (2, 2), (4, 4), (4, 4), (4, 8)]
    assert fields["5"].output_shape == (1, 2, 6, 4)
    assert "28×36" in str(fields)
    assert summary(model, (1, 30, 30)).rows[-1].rf == (28, 36)  # the summary's RF column is the same


def test_branches_meet_with_the_largest_field_found_through_the_graph():
    class TwoBranches(nn.Module):
        def __init__(self):
            super().__init__()
            self.wide = nn.Conv2d(1, 2, 7, padding=3)  # rf 7, runs first
            self.a1, self.a2 = nn.Conv2d(1, 2, 3, padding=1), nn.Conv2d(2, 2, 3, padding=1)  # rf 3, 5
            self.relu = nn.ReLU()

        def forward(self, x):
            wide = self.wide(x)
            return self.relu(self.a2(self.a1(x)) + wide)  # the add is no module: found via the graph

    with ember.no_grad():  # the trace enables grad itself
        fields = receptive_field(TwoBranches(), (1, 12, 12))
    assert fields["a2"].rf == (5, 5) and fields["relu"].rf == (7, 7)


def test_functional_pooling_between_layers_and_linear_after_flatten():
    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1, self.c2, self.fc = nn.Conv2d(1, 2, 3), nn.Conv2d(2, 2, 3), nn.Linear(2 * 2 * 2, 3)

        def forward(self, x):
            x = max_pool2d(self.c1(x), 2)  # 10×10 → 8×8, then a 2×2 pool the hooks cannot see → 4×4
            return self.fc(self.c2(x).flatten(1))

    fields = receptive_field(Functional(), (1, 10, 10))
    # c1: rf 3; the pool is inferred from 8 → 4 (window 2, stride 2): rf 4, jump 2; c2: 4 + 2·2 = 8;
    # fc sees c2's whole 2×2 map: 8 + (2 - 1)·2 = 10, the whole image.
    assert [f.rf for f in fields] == [(3, 3), (8, 8), (10, 10)]
    assert fields["c2"].jump == (2, 2) and fields["fc"].jump == (4, 4)


def test_models_without_spatial_input_have_no_receptive_field():
    s = summary(nn.Sequential(nn.Linear(6, 3), nn.ReLU()), (6,))
    assert s.rows[0].rf is None and s.rows[0].jump is None
    assert str(s).splitlines()[4].split()[-2:] == ["-", "-"]


# ---- the output-size formula -----------------------------------------------------------------------------


def test_conv_output_size_the_notes_examples():
    assert conv_output_size(7, 3).size == 5 and conv_output_size(7, 3).exact
    assert conv_output_size(7, 3, stride=2).size == 3
    assert conv_output_size(7, 3, stride=2).explanation == "(N - F + 2P)/S + 1 = (7 - 3 + 2·0)/2 + 1 = 3"
    r = conv_output_size(7, 3, stride=3)
    assert (r.size, r.exact) == (2, False)  # (7 - 3)/3 + 1 = 2.33: the filter does not fit
    assert "2.333" in r.explanation and "does not fit" in r.explanation
    assert "input pixel 6" in r.explanation  # windows at 0..2 and 3..5: pixel 6 is never read
    assert "padding 1 instead of 0" in r.explanation  # (7 - 3 + 2)/3 + 1 = 3 exactly
    assert "an input of 9 or 6 pixels" in r.explanation
    with pytest.raises(ValueError, match="does not fit"):
        conv_output_size(7, 3, stride=3, strict=True)
    assert int(conv_output_size(32, 5, padding=2)) == 32 and str(r) == r.explanation


def test_conv_output_size_with_padding_dilation_and_misfits():
    assert conv_output_size(7, 3, dilation=2).size == 3  # F = 2·(3-1)+1 = 5: (7 - 5)/1 + 1
    assert "F = D·(K-1)+1 = 2·(3-1)+1 = 5" in conv_output_size(7, 3, stride=3, dilation=2).explanation
    alexnet = conv_output_size(224, 11, stride=4, padding=2)
    assert (alexnet.size, alexnet.exact) == (55, False) and "227" in alexnet.explanation
    assert conv_output_size(227, 11, stride=4).exact  # the famous 227: (227 - 11)/4 + 1 = 55
    with pytest.raises(ValueError, match="spans 5 pixels but the padded input has only 4"):
        conv_output_size(4, 5)
    with pytest.raises(ValueError, match="stride must be an integer >= 1"):
        conv_output_size(7, 3, stride=0)
    for n in range(5, 14):
        for k, s, p, d in ((3, 1, 0, 1), (3, 2, 1, 1), (5, 3, 2, 1), (3, 2, 0, 2), (2, 2, 0, 1)):
            assert conv_output_size(n, k, s, p, d).size == output_size(n, k, s, p, p, d)  # the ops' own rule


# ---- the CLI ---------------------------------------------------------------------------------------------


def test_cli_summary_prints_the_table(capsys):
    assert main(["summary", "lenet5"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "lenet5 (LeNet5), input 1×28×28"
    assert "features.0" in out and "Params: 61,706 (61,706 trainable, 0 frozen)" in out
    assert main(["summary", "resnet20", "--input-size", "3", "32", "32", "--num-classes", "100"]) == 0
    assert "Params: 275,572" in capsys.readouterr().out  # 269,722 + 64·90 + 90 for 90 more classes
    assert main(["summary", "lenet5", "--compute"]) == 0
    assert capsys.readouterr().out == out


@pytest.mark.parametrize("argv, message", [
    (["summary", "lenet9"], "ember summary: error: unknown model 'lenet9'"),
    (["summary", "alexnet", "--input-size", "3", "8", "8"], "ember summary: error: alexnet"),
    (["summary", "lenet5", "--input-size", "1", "28", "30"], "built for square inputs"),
])
def test_cli_summary_mistakes_are_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_exports():
    assert ember.summary is summary and ember.receptive_field is receptive_field
    assert ember.tools.summary is summary and ember.tools.conv_output_size is conv_output_size


# ---- the registered models against published figures -----------------------------------------------------


def test_lenet5_classic_reproduces_the_paper_table():
    s = summary(models.create("lenet5_classic"), (1, 32, 32))
    rows = _rows(s)
    paper = {"c1": (156, 122_304), "s2": (12, 5_880), "c3": (1_516, 151_600), "s4": (32, 2_000),
             "c5": (48_120, 48_120), "f6": (10_164, 10_164)}
    for name, (params, connections) in paper.items():
        assert (rows[name].params, rows[name].connections) == (params, connections), name
    assert rows["output"].frozen == 840  # the RBF's fixed codes
    assert s.totals["params_trainable"] == 60_000 and s.totals["connections"] == 340_908
    fields = receptive_field(models.create("lenet5_classic"), (1, 32, 32))
    assert [fields[n].rf[0] for n in ("c1", "s2", "c3", "s4", "c5")] == [5, 6, 14, 16, 32]


@pytest.mark.parametrize("name, params", [("alexnet", 61_100_840), ("googlenet", 6_624_904),
                                          ("resnet18", 11_689_512), ("resnet50", 25_557_032)])
def test_torchvision_parameter_totals(name, params):
    s = summary(models.create(name), (3, 224, 224), dry_run=True)
    assert s.total_params == s.trainable_params == params
    assert not s.unused  # GoogLeNet without its auxiliary heads


def test_resnet50_and_alexnet_macs_and_receptive_fields():
    resnet = models.create("resnet50")
    s = summary(resnet, (3, 224, 224), dry_run=True)
    assert s.macs == 4_089_184_256  # "4.1 GMACs"
    assert s.row("layer4.2.conv3").rf == (427, 427) and s.row("layer4.2.conv3").jump == (32, 32)
    alexnet = summary(models.create("alexnet"), (3, 224, 224), dry_run=True)
    assert 0.71e9 < alexnet.macs < 0.72e9
    assert alexnet.row("features.12").rf == (195, 195)  # pool5


def test_cifar_resnets():
    r20 = summary(models.create("resnet20"), (3, 32, 32), dry_run=True)
    r110 = summary(models.create("resnet110"), (3, 32, 32), dry_run=True)
    assert round(r20.total_params / 1e6, 2) == 0.27 and round(r110.total_params / 1e6, 1) == 1.7
    assert math.isclose(r20.macs, 40.6e6, rel_tol=0.01)  # 41 M MACs at 32×32 (He et al.'s 0.27M / 41M)


@pytest.mark.slow
def test_vgg16_parameters_and_macs():
    s = summary(models.create("vgg16"), (3, 224, 224), dry_run=True)  # building it takes the time
    assert s.total_params == 138_357_544
    assert s.macs == 15_470_264_320  # "15.5 GMACs"
    assert s.row("features.29").rf == (196, 196) and s.row("features.30").rf == (212, 212)


# ---- recurrent models -----------------------------------------------------------------------------------


def test_recurrent_layers_are_counted_per_step_gate_and_direction():
    import torch

    from ember import models
    from ember import nn as enn

    lm = models.CharLM(28, hidden_size=256)  # one-hot -> LSTM -> Linear: d2l's character model
    table = ember.summary(lm, (35,), dtype=ember.int64)
    rnn_row = next(r for r in table.rows if r.type == "LSTM")
    assert rnn_row.trainable == sum(p.numel() for p in torch.nn.LSTM(28, 256).parameters()) == 292_864
    assert rnn_row.macs == 35 * 4 * 256 * (28 + 256)  # T steps × 4H gate units × (input + hidden)
    assert rnn_row.connections == 35 * 4 * 256 * (28 + 256 + 2)

    # Two layers, both directions: layer 2 reads 2H features. (A summary's inputs are batch-first.)
    gru = enn.Sequential(enn.GRU(10, 8, num_layers=2, bidirectional=True, batch_first=True))
    row = next(r for r in ember.summary(gru, (7, 10)).rows if r.type == "GRU")
    assert row.trainable == sum(p.numel() for p in torch.nn.GRU(10, 8, num_layers=2, bidirectional=True).parameters())
    assert row.macs == 2 * 7 * 3 * 8 * ((10 + 8) + (16 + 8))

    emb = models.CharLM(50, hidden_size=16, embedding_dim=4, cell="rnn")
    rows = {r.type: r for r in ember.summary(emb, (9,), dtype=ember.int64).rows}
    assert rows["Embedding"].trainable == 200 and rows["Embedding"].macs == 0
    assert rows["RNN"].macs == 9 * 16 * (4 + 16)
