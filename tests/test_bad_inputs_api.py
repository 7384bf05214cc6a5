"""Bad arguments and inputs to the layers get torch's exception class and a message that names the layer and the
bad value (issue 10, "loud, not silent"): Linear, Bilinear, every convolution, pooling, normalisation, dropout and
Embedding, their constructor arguments and their forward inputs (rank, channels, too-small inputs, dtype against
the parameters, a NumPy array or a list where a Tensor belongs).

Each case is one line of source run against torch and against Ember (tests/bad_inputs.py); the exception Ember
raises must be an instance of the builtin class torch raises, and its message must contain the ``needles``.
"""

import pytest

from bad_inputs import builtin_class, outcome

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

# (id, source, words the message must contain)
CASES = [
    ('linear-neg-in', 'nn.Linear(-1, 3)', ['Linear', '-1']),
    ('linear-neg-out', 'nn.Linear(3, -2)', ['Linear', '-2']),
    ('linear-features', 'nn.Linear(4, 3)(v)', ['Linear', '4', '5']),
    ('linear-double', 'nn.Linear(5, 3)(v.double())', ['Linear', 'float64', 'float32']),
    ('linear-numpy', 'nn.Linear(5, 3)(np.zeros((4, 5), dtype=np.float32))', ['Linear', 'ndarray', 'tensor']),
    ('linear-list', 'nn.Linear(2, 3)([[1.0, 2.0]])', ['Linear', 'list', 'tensor']),
    ('linear-int', 'nn.Linear(2, 3)(T.tensor([[1, 2]]))', ['Linear', 'int64']),
    ('F-linear-numpy', 'F.linear(np.zeros((4, 5), dtype=np.float32), T.randn(3, 5))', ['linear', 'ndarray']),
    ('F-linear-shape', 'F.linear(v, T.randn(3, 4))', ['linear', '5', '4']),
    ('bilinear-neg', 'nn.Bilinear(-1, 2, 3)', ['Bilinear', '-1']),
    ('bilinear-shape', 'nn.Bilinear(5, 4, 3)(v, v)', ['Bilinear', '4', '5']),
    ('bilinear-double', 'nn.Bilinear(5, 5, 3)(v.double(), v.double())', ['Bilinear', 'float64']),
    ('conv2d-dilation0', 'nn.Conv2d(3, 4, 3, dilation=0)(x2)', ['Conv2d', 'dilation', '0']),
    ('conv2d-stride0', 'nn.Conv2d(3, 4, 3, stride=0)(x2)', ['Conv2d', 'stride', '0']),
    ('conv2d-kernel0', 'nn.Conv2d(3, 4, 0)(x2)', ['Conv2d', 'kernel', '0']),
    ('conv2d-kernel-neg', 'nn.Conv2d(3, 4, -3)(x2)', ['Conv2d', 'kernel', '-3']),
    ('conv2d-padding-neg', 'nn.Conv2d(3, 4, 3, padding=-1)(x2)', ['Conv2d', 'padding', '-1']),
    ('conv2d-in-neg', 'nn.Conv2d(-3, 4, 3)', ['Conv2d', '-3']),
    ('conv2d-out-neg', 'nn.Conv2d(3, -4, 3)', ['Conv2d', '-4']),
    ('conv2d-out0-forward', 'nn.Conv2d(3, 0, 3)(x2)', ['Conv2d', 'out_channels', '0']),
    ('conv2d-groups0', 'nn.Conv2d(3, 3, 3, groups=0)', ['Conv2d', 'groups', '0']),
    ('conv2d-groups-div', 'nn.Conv2d(3, 4, 3, groups=2)', ['Conv2d', 'groups', '2']),
    ('conv2d-padmode', "nn.Conv2d(3, 4, 3, padding_mode='mirror')", ['Conv2d', 'mirror']),
    ('conv2d-padstr', "nn.Conv2d(3, 4, 3, padding='full')", ['Conv2d', 'full']),
    ('conv2d-same-stride', "nn.Conv2d(3, 4, 3, padding='same', stride=2)", ['Conv2d', 'same']),
    ('conv2d-channels', 'nn.Conv2d(4, 4, 3)(x2)', ['Conv2d', '4', '3']),
    ('conv2d-rank', 'nn.Conv2d(3, 4, 3)(v)', ['Conv2d', '(4, 5)']),
    ('conv2d-small', 'nn.Conv2d(3, 4, 9)(x2)', ['Conv2d', '9', '8']),
    ('conv2d-small-dil', 'nn.Conv2d(3, 4, 3, dilation=4)(x2)', ['Conv2d', '9', '8']),
    ('conv2d-double', 'nn.Conv2d(3, 4, 3)(x2.double())', ['Conv2d', 'float64', 'float32']),
    ('conv2d-numpy', 'nn.Conv2d(3, 4, 3)(np.zeros((1, 3, 8, 8), dtype=np.float32))',
     ['Conv2d', 'ndarray', 'ember.tensor']),
    ('conv2d-list', 'nn.Conv2d(3, 4, 3)([[0.0]])', ['Conv2d', 'list']),
    ('F-conv2d-stride0', 'F.conv2d(x2, T.randn(4, 3, 3, 3), stride=0)', ['conv2d', 'stride']),
    ('F-conv2d-dil0', 'F.conv2d(x2, T.randn(4, 3, 3, 3), dilation=0)', ['conv2d', 'dilation']),
    ('F-conv2d-padneg', 'F.conv2d(x2, T.randn(4, 3, 3, 3), padding=-2)', ['conv2d', 'padding', '-2']),
    ('F-conv2d-numpy', 'F.conv2d(np.zeros((1, 3, 8, 8), dtype=np.float32), T.randn(4, 3, 3, 3))',
     ['conv2d', 'ndarray']),
    ('F-conv2d-dtype', 'F.conv2d(x2.double(), T.randn(4, 3, 3, 3))', ['conv2d', 'float64']),
    ('F-conv2d-bias', 'F.conv2d(x2, T.randn(4, 3, 3, 3), T.randn(5))', ['conv2d', 'bias', '5']),
    ('conv1d-stride0', 'nn.Conv1d(3, 4, 3, stride=0)(x1)', ['Conv1d', 'stride']),
    ('conv1d-dil0', 'nn.Conv1d(3, 4, 3, dilation=0)(x1)', ['Conv1d', 'dilation']),
    ('conv1d-kernel0', 'nn.Conv1d(3, 4, 0)(x1)', ['Conv1d', 'kernel']),
    ('conv1d-channels', 'nn.Conv1d(5, 4, 3)(x1)', ['Conv1d', '5', '3']),
    ('conv1d-rank', 'nn.Conv1d(3, 4, 3)(x2)', ['Conv1d']),
    ('conv1d-small', 'nn.Conv1d(3, 4, 11)(x1)', ['Conv1d', '11', '10']),
    ('conv1d-double', 'nn.Conv1d(3, 4, 3)(x1.double())', ['Conv1d', 'float64']),
    ('conv1d-padneg', 'nn.Conv1d(3, 4, 3, padding=-1)(x1)', ['Conv1d', 'padding', '-1']),
    ('conv3d-stride0', 'nn.Conv3d(2, 4, 3, stride=0)(x3)', ['Conv3d', 'stride']),
    ('conv3d-dil0', 'nn.Conv3d(2, 4, 3, dilation=0)(x3)', ['Conv3d', 'dilation']),
    ('conv3d-kernel0', 'nn.Conv3d(2, 4, 0)(x3)', ['Conv3d', 'kernel']),
    ('conv3d-channels', 'nn.Conv3d(3, 4, 3)(x3)', ['Conv3d', '3', '2']),
    ('conv3d-small', 'nn.Conv3d(2, 4, 7)(x3)', ['Conv3d', '7', '6']),
    ('conv3d-double', 'nn.Conv3d(2, 4, 3)(x3.double())', ['Conv3d', 'float64']),
    ('conv3d-groups', 'nn.Conv3d(2, 3, 3, groups=2)', ['Conv3d', 'groups']),
    ('convT2d-stride0', 'nn.ConvTranspose2d(3, 4, 3, stride=0)(x2)', ['ConvTranspose2d', 'stride']),
    ('convT2d-dil0', 'nn.ConvTranspose2d(3, 4, 3, dilation=0)(x2)', ['ConvTranspose2d', 'dilation']),
    ('convT2d-kernel0', 'nn.ConvTranspose2d(3, 4, 0)(x2)', ['ConvTranspose2d', 'kernel']),
    ('convT2d-channels', 'nn.ConvTranspose2d(4, 4, 3)(x2)', ['ConvTranspose2d', '4', '3']),
    ('convT2d-outpad', 'nn.ConvTranspose2d(3, 4, 3, stride=2, output_padding=2)(x2)',
     ['ConvTranspose2d', 'output_padding']),
    ('convT2d-double', 'nn.ConvTranspose2d(3, 4, 3)(x2.double())', ['ConvTranspose2d', 'float64']),
    ('convT2d-padmode', "nn.ConvTranspose2d(3, 4, 3, padding_mode='reflect')", ['ConvTranspose2d', 'reflect']),
    ('convT1d-stride0', 'nn.ConvTranspose1d(3, 4, 3, stride=0)(x1)', ['ConvTranspose1d', 'stride']),
    ('convT1d-channels', 'nn.ConvTranspose1d(4, 4, 3)(x1)', ['ConvTranspose1d', '4', '3']),
    ('convT1d-double', 'nn.ConvTranspose1d(3, 4, 3)(x1.double())', ['ConvTranspose1d', 'float64']),
    ('convT2d-numpy', 'nn.ConvTranspose2d(3, 4, 3)(np.zeros((1, 3, 8, 8), dtype=np.float32))',
     ['ConvTranspose2d', 'ndarray']),
    ('maxpool2d-dil0', 'nn.MaxPool2d(2, dilation=0)(x2)', ['MaxPool2d', 'dilation', '0']),
    ('maxpool2d-stride0', 'nn.MaxPool2d(2, stride=0)(x2)', ['MaxPool2d', 'stride', '0']),
    ('maxpool2d-kernel0', 'nn.MaxPool2d(0)(x2)', ['MaxPool2d', 'kernel', '0']),
    ('maxpool2d-kernel-neg', 'nn.MaxPool2d(-2)(x2)', ['MaxPool2d', 'kernel', '-2']),
    ('maxpool2d-padneg', 'nn.MaxPool2d(2, padding=-1)(x2)', ['MaxPool2d', 'padding', '-1']),
    ('maxpool2d-padbig', 'nn.MaxPool2d(2, padding=2)(x2)', ['MaxPool2d', 'padding', '2']),
    ('maxpool2d-rank', 'nn.MaxPool2d(2)(v)', ['MaxPool2d', '(4, 5)']),
    ('maxpool2d-small', 'nn.MaxPool2d(9)(x2)', ['MaxPool2d', '9', '8']),
    ('maxpool2d-numpy', 'nn.MaxPool2d(2)(np.zeros((1, 3, 8, 8), dtype=np.float32))', ['MaxPool2d', 'ndarray']),
    ('avgpool2d-stride0', 'nn.AvgPool2d(2, stride=0)(x2)', ['AvgPool2d', 'stride']),
    ('avgpool2d-kernel0', 'nn.AvgPool2d(0)(x2)', ['AvgPool2d', 'kernel']),
    ('avgpool2d-padbig', 'nn.AvgPool2d(2, padding=2)(x2)', ['AvgPool2d', 'padding']),
    ('avgpool2d-padneg', 'nn.AvgPool2d(2, padding=-1)(x2)', ['AvgPool2d', 'padding']),
    ('avgpool2d-divisor0', 'nn.AvgPool2d(2, divisor_override=0)(x2)', ['AvgPool2d', 'divisor']),
    ('maxpool1d-stride0', 'nn.MaxPool1d(2, stride=0)(x1)', ['MaxPool1d', 'stride']),
    ('maxpool1d-dil0', 'nn.MaxPool1d(2, dilation=0)(x1)', ['MaxPool1d', 'dilation']),
    ('maxpool1d-kernel0', 'nn.MaxPool1d(0)(x1)', ['MaxPool1d', 'kernel']),
    ('maxpool1d-rank', 'nn.MaxPool1d(2)(x2)', ['MaxPool1d']),
    ('avgpool1d-kernel0', 'nn.AvgPool1d(0)(x1)', ['AvgPool1d', 'kernel']),
    ('avgpool1d-stride0', 'nn.AvgPool1d(2, stride=0)(x1)', ['AvgPool1d', 'stride']),
    ('maxpool3d-stride0', 'nn.MaxPool3d(2, stride=0)(x3)', ['MaxPool3d', 'stride']),
    ('maxpool3d-kernel0', 'nn.MaxPool3d(0)(x3)', ['MaxPool3d', 'kernel']),
    ('maxpool3d-dil0', 'nn.MaxPool3d(2, dilation=0)(x3)', ['MaxPool3d', 'dilation']),
    ('maxpool3d-rank', 'nn.MaxPool3d(2)(v)', ['MaxPool3d']),
    ('avgpool3d-kernel0', 'nn.AvgPool3d(0)(x3)', ['AvgPool3d', 'kernel']),
    ('avgpool3d-stride0', 'nn.AvgPool3d(2, stride=0)(x3)', ['AvgPool3d', 'stride']),
    ('adaptiveavg2d-neg', 'nn.AdaptiveAvgPool2d(-1)(x2)', ['AdaptiveAvgPool2d', '-1']),
    ('adaptiveavg2d-rank', 'nn.AdaptiveAvgPool2d(2)(v)', ['AdaptiveAvgPool2d']),
    ('adaptivemax2d-neg', 'nn.AdaptiveMaxPool2d(-2)(x2)', ['AdaptiveMaxPool2d', '-2']),
    ('adaptiveavg1d-neg', 'nn.AdaptiveAvgPool1d(-1)(x1)', ['AdaptiveAvgPool1d', '-1']),
    ('adaptivemax1d-rank', 'nn.AdaptiveMaxPool1d(2)(x2)', ['AdaptiveMaxPool1d']),
    ('lppool2d-kernel0', 'nn.LPPool2d(2, 0)(x2)', ['LPPool2d', 'kernel']),
    ('lppool2d-stride0', 'nn.LPPool2d(2, 2, stride=0)(x2)', ['LPPool2d', 'stride']),
    ('lppool1d-kernel0', 'nn.LPPool1d(2, 0)(x1)', ['LPPool1d', 'kernel']),
    ('in2d-neg', 'nn.InstanceNorm2d(-1, affine=True)', ['InstanceNorm2d', '-1']),
    ('rnncell-neg', 'nn.RNNCell(-1, 3)', ['RNNCell', '-1']),
    ('lstmcell-neg', 'nn.LSTMCell(3, -1)', ['LSTMCell', '-1']),
    ('grucell-double', 'nn.GRUCell(5, 3)(v.double())', ['GRUCell', 'float64']),
    ('unfold-stride0', 'nn.Unfold(2, stride=0)(x2)', ['Unfold', 'stride']),
    ('unfold-dil0', 'nn.Unfold(2, dilation=0)(x2)', ['Unfold', 'dilation']),
    ('fold-kernel0', 'nn.Fold((4, 4), 0)(T.randn(1, 12, 9))', ['Fold', 'kernel']),
    ('maxpool1d-padbig', 'nn.MaxPool1d(2, padding=2)(x1)', ['MaxPool1d', 'padding']),
    ('avgpool1d-padneg', 'nn.AvgPool1d(2, padding=-1)(x1)', ['AvgPool1d', 'padding']),
    ('convT1d-dil0', 'nn.ConvTranspose1d(3, 4, 3, dilation=0)(x1)', ['ConvTranspose1d', 'dilation']),
    ('conv1d-groups', 'nn.Conv1d(3, 4, 3, groups=2)', ['Conv1d', 'groups']),
    ('linear-float-size', 'nn.Linear(3.5, 2)', ['Linear', '3.5']),
    ('conv-float-channels', 'nn.Conv2d(3.0, 2, 3)', ['3.0']),
    ('emb-float-size', 'nn.Embedding(10.5, 3)', ['Embedding', '10.5']),
    ('lazyconv-stride0', 'nn.LazyConv2d(4, 3, stride=0)(x2)', ['stride']),
    ('bn1d-double', 'nn.BatchNorm1d(3)(T.randn(4, 3).double())', ['BatchNorm1d', 'float64']),
    ('in2d-double', 'nn.InstanceNorm2d(3, affine=True)(x2.double())', ['InstanceNorm2d', 'float64']),
    ('gn-double', 'nn.GroupNorm(1, 3)(x2.double())', ['GroupNorm', 'float64']),
    ('prelu-double', 'nn.PReLU()(v.double())', ['PReLU', 'float64']),
    ('emb-double-weight-int', 'nn.Embedding(10, 3)(T.tensor([1.5]))', ['Embedding', 'float']),
    ('lstm-layers-neg', 'nn.LSTM(3, 4, num_layers=-1)', ['LSTM', 'num_layers', '-1']),
    ('rnn-float-hidden', 'nn.RNN(3, 4.5)', ['RNN', '4.5']),
    ('bilinear-numpy', 'nn.Bilinear(5, 5, 3)(np.zeros((4, 5), dtype=np.float32), v)', ['Bilinear', 'ndarray']),
    ('ce-3d-index', 'nn.CrossEntropyLoss()(T.randn(2, 5, 3), T.tensor([[0, 1, 7], [0, 0, 0]]))',
     ['CrossEntropyLoss', '7']),
    ('relu-numpy', 'nn.ReLU()(np.zeros(3))', ['ReLU', 'ndarray']),
    ('relu-list', 'nn.ReLU()([1.0, -1.0])', ['ReLU', 'list']),
    ('seq-numpy', 'nn.Sequential(nn.Linear(5, 2))(np.zeros((1, 5), dtype=np.float32))', ['Linear', 'ndarray']),
    # functional forms, targets and shapes
    ('ce-float-target', 'nn.CrossEntropyLoss()(v, T.tensor([0., 1., 2., 3.]))', ['CrossEntropyLoss', 'float32']),
    ('nll-float-target', 'F.nll_loss(v, T.tensor([0., 1., 2., 3.]))', ['nll_loss', 'float32']),
    ('view-two-minus', 'v.view(-1, -1)', ['-1']),
    ('reshape-bad', 'T.reshape(v, (3, 7))', ['[3, 7]', '20']),
    ('view-neg', 'v.view(-2, 10)', ['-2']),
    ('expand-neg', 'v.expand(-2, 5)', ['-2']),
    ('repeat-neg', 'v.repeat(-1, 1)', ['-1']),
    ('squeeze-tuple-bad', 'T.squeeze(v, (0, 5))', ['5']),
    ('split-sizes', 'T.split(v, [2, 3], dim=0)', ['split']),
    ('index-select-float', 'T.index_select(v, 0, T.tensor([0.0]))', ['index']),
    ('topk-dim', 'T.topk(v, 2, dim=3)', ['3']),
    ('sort-dim', 'T.sort(v, dim=2)', ['sort', '2']),
    ('cumprod-dim', 'T.cumprod(v, dim=-3)', ['-3']),
    ('mean-dim-list', 'T.mean(x2, dim=[0, 4])', ['mean', '4']),
    ('emb-int32-neg', 'nn.Embedding(4, 2)(T.tensor([-5], dtype=T.int32))', ['Embedding', '-5']),
    ('F-conv2d-groups0', 'F.conv2d(x2, T.randn(4, 3, 3, 3), groups=0)', ['conv2d', 'groups', '0']),
    ('F-maxpool2d-rank', 'F.max_pool2d(v, 2)', ['max_pool2d']),
    ('F-avg-pool1d-rank', 'F.avg_pool1d(x2, 2)', ['avg_pool1d']),
    ('F-lp-pool2d-stride0', 'F.lp_pool2d(x2, 2, 2, stride=0)', ['stride']),
    ('F-relu-numpy', 'F.relu(np.zeros(3))', ['relu', 'ndarray']),
    ('F-gelu-list', 'F.gelu([1.0])', ['gelu', 'list']),
    ('F-sigmoid-numpy', 'T.sigmoid(np.zeros(3))', ['sigmoid', 'ndarray']),
    ('F-tanh-numpy', 'T.tanh(np.zeros(3))', ['tanh', 'ndarray']),
]


def _message(exc):
    return str(exc).lower()


@pytest.mark.parametrize("code, needles", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_torchs_exception_class_with_a_clear_message(code, needles):
    expected = outcome("torch", code)
    assert expected is not None, f"torch accepts {code!r}: the case belongs with the valid ones"
    got = outcome("ember", code)
    assert got is not None, f"Ember silently accepted {code!r} (torch raises {type(expected).__name__}: {expected})"
    assert isinstance(got, builtin_class(expected)), (
        f"{code!r}: torch raises {builtin_class(expected).__name__}, Ember {type(got).__name__}: {got}"
    )
    missing = [n for n in needles if n.lower() not in _message(got)]
    assert not missing, f"{code!r}: the message does not mention {missing}: {got}"


def test_every_case_has_a_unique_id_and_names_something():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))
    assert all(c[2] for c in CASES)
