"""Bad arguments and inputs, part two: recurrent layers, Flatten/Unflatten, softmax and reduction dims in
ember.ops, factories with negative sizes, Upsample, PixelShuffle, padding layers and the losses (shapes, class
indices, reduction, label_smoothing); then the cases where torch is quirky (an AttributeError for a NumPy input)
and Ember deliberately says more, and valid edge cases that must keep working.

The comparison with torch is the one in tests/test_bad_inputs_api.py (same runner, tests/bad_inputs.py).
"""

import numpy as np
import pytest

import ember
import ember.nn as nn
from bad_inputs import check_ids, check_like_torch, namespace, outcome

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

CASES = [
    ('bn2d-channels', 'nn.BatchNorm2d(4)(x2)', ['BatchNorm2d', '4', '3']),
    ('bn2d-rank', 'nn.BatchNorm2d(3)(x1)', ['BatchNorm2d']),
    ('bn1d-rank', 'nn.BatchNorm1d(3)(x2)', ['BatchNorm1d']),
    ('bn2d-neg', 'nn.BatchNorm2d(-1)', ['BatchNorm2d', '-1']),
    ('bn2d-double', 'nn.BatchNorm2d(3)(x2.double())', ['BatchNorm2d', 'float64']),
    ('bn1d-one', 'nn.BatchNorm1d(3)(T.randn(1, 3))', ['BatchNorm1d', '1']),
    ('bn3d-rank', 'nn.BatchNorm3d(2)(x2)', ['BatchNorm3d']),
    ('ln-shape', 'nn.LayerNorm(4)(v)', ['LayerNorm', '4', '5']),
    ('ln-double', 'nn.LayerNorm(5)(v.double())', ['LayerNorm', 'float64']),
    ('ln-neg', 'nn.LayerNorm(-5)', ['LayerNorm', '-5']),
    ('gn-div', 'nn.GroupNorm(2, 3)', ['GroupNorm', '2', '3']),
    ('gn-channels', 'nn.GroupNorm(2, 4)(x2)', ['GroupNorm', '4', '3']),
    ('in2d-rank', 'nn.InstanceNorm2d(3)(v)', ['InstanceNorm2d']),
    ('in2d-channels', 'nn.InstanceNorm2d(4, affine=True)(x2)', ['InstanceNorm2d', '4', '3']),
    ('in1d-rank', 'nn.InstanceNorm1d(3)(x2)', ['InstanceNorm1d']),
    ('rmsnorm-shape', 'nn.RMSNorm(4)(v)', ['RMSNorm', '4', '5']),
    ('lrn-rank', 'nn.LocalResponseNorm(2)(T.randn(3))', ['LocalResponseNorm']),
    ('dropout-p-neg', 'nn.Dropout(-0.1)', ['Dropout', '-0.1']),
    ('dropout-p-big', 'nn.Dropout(1.5)', ['Dropout', '1.5']),
    ('dropout2d-p', 'nn.Dropout2d(2)', ['Dropout2d', '2']),
    ('dropout1d-p', 'nn.Dropout1d(-1)', ['Dropout1d', '-1']),
    ('dropout3d-p', 'nn.Dropout3d(1.1)', ['Dropout3d', '1.1']),
    ('alphadropout-p', 'nn.AlphaDropout(1.1)', ['AlphaDropout', '1.1']),
    ('F-dropout-p', 'F.dropout(v, 1.5)', ['dropout', '1.5']),
    ('F-dropout2d-p', 'F.dropout2d(x2, -0.5)', ['dropout', '-0.5']),
    ('dropout-numpy', 'nn.Dropout(0.5)(np.zeros(3))', ['Dropout', 'ndarray']),
    ('emb-neg-index', 'nn.Embedding(10, 3)(T.tensor([-1]))', ['Embedding', '-1', '10']),
    ('emb-big-index', 'nn.Embedding(10, 3)(T.tensor([10]))', ['Embedding', '10']),
    ('emb-float-index', 'nn.Embedding(10, 3)(T.tensor([1.0]))', ['Embedding', 'float32']),
    ('emb-neg-size', 'nn.Embedding(-1, 3)', ['Embedding', '-1']),
    ('emb-neg-dim', 'nn.Embedding(10, -3)', ['Embedding', '-3']),
    ('emb-numpy', 'nn.Embedding(10, 3)(np.array([1, 2]))', ['Embedding', 'ndarray']),
    ('emb-list', 'nn.Embedding(10, 3)([1, 2])', ['Embedding', 'list']),
    ('F-emb-index', 'F.embedding(T.tensor([5]), T.randn(4, 3))', ['embedding', '5', '4']),
    ('rnn-input0', 'nn.RNN(0, 4)', ['RNN', 'input_size', '0']),
    ('rnn-hidden0', 'nn.RNN(3, 0)', ['RNN', 'hidden_size', '0']),
    ('rnn-layers0', 'nn.LSTM(3, 4, num_layers=0)', ['LSTM', 'num_layers', '0']),
    ('gru-hidden-neg', 'nn.GRU(3, -4)', ['GRU', 'hidden_size', '-4']),
    ('lstm-dropout', 'nn.LSTM(3, 4, dropout=1.5)', ['LSTM', 'dropout', '1.5']),
    ('gru-dropout-neg', 'nn.GRU(3, 4, dropout=-0.5)', ['GRU', 'dropout', '-0.5']),
    ('rnn-nonlin', "nn.RNN(3, 4, nonlinearity='sigmoid')", ['RNN', 'sigmoid']),
    ('rnn-features', 'nn.RNN(5, 4)(x1)', ['RNN', '5', '10']),
    ('lstm-features', 'nn.LSTM(5, 4)(x1)', ['LSTM', '5', '10']),
    ('gru-features', 'nn.GRU(4, 4, batch_first=True)(x1)', ['GRU', '4', '10']),
    ('rnn-rank', 'nn.RNN(5, 4)(T.randn(2, 3, 4, 5))', ['RNN', '4']),
    ('rnn-h0', 'nn.RNN(10, 4)(x1, T.zeros(1, 3, 5))', ['RNN', '(1, 3, 5)', '(1, 3, 4)']),
    ('gru-h0', 'nn.GRU(10, 4)(x1, T.zeros(2, 3, 4))', ['GRU', '(2, 3, 4)', '(1, 3, 4)']),
    ('lstm-h0', 'nn.LSTM(10, 4)(x1, (T.zeros(1, 3, 5), T.zeros(1, 3, 4)))', ['LSTM', '(1, 3, 5)']),
    ('lstm-c0', 'nn.LSTM(10, 4)(x1, (T.zeros(1, 3, 4), T.zeros(1, 2, 4)))', ['LSTM', '(1, 2, 4)']),
    ('rnn-double', 'nn.RNN(10, 4)(x1.double())', ['RNN', 'float64']),
    ('rnncell-features', 'nn.RNNCell(4, 3)(v)', ['RNNCell', '4', '5']),
    ('lstmcell-features', 'nn.LSTMCell(4, 3)(v)', ['LSTMCell', '4', '5']),
    ('grucell-h', 'nn.GRUCell(5, 3)(v, T.zeros(4, 4))', ['GRUCell', '4', '3']),
    ('flatten-start', 'nn.Flatten(start_dim=5)(x2)', ['Flatten', '5']),
    ('flatten-end', 'nn.Flatten(end_dim=7)(x2)', ['Flatten', '7']),
    ('flatten-order', 'nn.Flatten(start_dim=3, end_dim=1)(x2)', ['Flatten', '3', '1']),
    ('T-flatten-start', 'T.flatten(x2, 5)', ['flatten', '5']),
    ('unflatten-size', 'nn.Unflatten(1, (2, 2))(v)', ['Unflatten', '5']),
    ('unflatten-dim', 'nn.Unflatten(5, (1, 5))(v)', ['Unflatten', '5']),
    ('softmax-dim', 'nn.Softmax(dim=4)(x2)', ['Softmax', '4']),
    ('logsoftmax-dim', 'nn.LogSoftmax(dim=-5)(x2)', ['LogSoftmax', '-5']),
    ('F-softmax-dim', 'F.softmax(v, dim=2)', ['softmax', '2']),
    ('F-log_softmax-dim', 'F.log_softmax(v, dim=3)', ['log_softmax', '3']),
    ('softmin-dim', 'nn.Softmin(dim=3)(v)', ['Softmin', '3']),
    ('glu-dim', 'nn.GLU(dim=3)(v)', ['GLU', '3']),
    ('glu-odd', 'nn.GLU()(v)', ['GLU', '5']),
    ('cos-dim', 'nn.CosineSimilarity(dim=3)(v, v)', ['CosineSimilarity', '3']),
    ('sum-dim', 'T.sum(x2, dim=5)', ['sum', '5']),
    ('mean-dim', 'x2.mean(dim=-5)', ['mean', '-5']),
    ('max-dim', 'T.max(v, dim=2)', ['max', '2']),
    ('argmax-dim', 'T.argmax(v, dim=3)', ['argmax', '3']),
    ('softmax-T-dim', 'T.softmax(v, dim=2)', ['softmax', '2']),
    ('cumsum-dim', 'T.cumsum(v, dim=2)', ['cumsum', '2']),
    ('var-dim', 'T.var(v, dim=2)', ['var', '2']),
    ('logsumexp-dim', 'T.logsumexp(v, dim=2)', ['logsumexp', '2']),
    ('cat-dim', 'T.cat([v, v], dim=2)', ['cat', '2']),
    ('stack-dim', 'T.stack([v, v], dim=4)', ['stack', '4']),
    ('norm-dim', 'T.norm(v, dim=2)', ['norm', '2']),
    ('zeros-neg', 'T.zeros(-1)', ['zeros', '-1']),
    ('randn-neg', 'T.randn(2, -3)', ['randn', '-3']),
    ('empty-neg', 'T.empty(-2)', ['empty', '-2']),
    ('ones-neg', 'T.ones((3, -1))', ['ones', '-1']),
    ('rand-neg', 'T.rand(-4)', ['rand', '-4']),
    ('full-neg', 'T.full((-1,), 2.0)', ['full', '-1']),
    ('randint-neg', 'T.randint(0, 5, (-1,))', ['randint', '-1']),
    ('upsample-none', 'nn.Upsample()(x2)', ['Upsample', 'size', 'scale_factor']),
    ('upsample-both', 'nn.Upsample(size=4, scale_factor=2)(x2)', ['Upsample', 'size', 'scale_factor']),
    ('upsample-neg', 'nn.Upsample(scale_factor=-2)(x2)', ['Upsample', '-2']),
    ('upsample-size0', 'nn.Upsample(size=0)(x2)', ['Upsample', '0']),
    ('pixelshuffle-div', 'nn.PixelShuffle(2)(x2)', ['PixelShuffle', '3', '4']),
    ('pixelshuffle-zero', 'nn.PixelShuffle(0)(x2)', ['PixelShuffle', '0']),
    ('pixelunshuffle-div', 'nn.PixelUnshuffle(3)(x2)', ['PixelUnshuffle', '3', '8']),
    ('pixelshuffle-rank', 'nn.PixelShuffle(2)(v)', ['PixelShuffle']),
    ('reflpad-big', 'nn.ReflectionPad2d(8)(x2)', ['ReflectionPad2d', '8']),
    ('reflpad1d-big', 'nn.ReflectionPad1d(10)(x1)', ['ReflectionPad1d', '10']),
    ('constpad-rank', 'nn.ConstantPad3d(1, 0.0)(v)', ['ConstantPad3d']),
    ('F-pad-odd', 'F.pad(v, (1, 2, 3))', ['pad', '3']),
    ('F-pad-mode', "F.pad(x2, (1, 1), mode='mirror')", ['pad', 'mirror']),
    ('F-pad-toolong', 'F.pad(v, (1, 1, 1, 1, 1, 1))', ['pad', '6']),
    ('fold-kernel0', 'nn.Unfold(0)(x2)', ['Unfold', 'kernel']),
    ('channelshuffle-div', 'nn.ChannelShuffle(2)(x2)', ['ChannelShuffle', '2', '3']),
    ('prelu-params', 'nn.PReLU(4)(x2)', ['PReLU', '4', '3']),
    ('ce-index-big', 'nn.CrossEntropyLoss()(v, T.tensor([0, 1, 5, 2]))', ['CrossEntropyLoss', '5']),
    ('ce-index-neg', 'nn.CrossEntropyLoss()(v, T.tensor([0, 1, -2, 2]))', ['CrossEntropyLoss', '-2']),
    ('ce-batch', 'nn.CrossEntropyLoss()(v, T.tensor([0, 1, 2]))', ['CrossEntropyLoss', '4', '3']),
    ('ce-reduction', "nn.CrossEntropyLoss(reduction='avg')(v, idx)", ['CrossEntropyLoss', 'avg']),
    ('ce-smoothing', 'nn.CrossEntropyLoss(label_smoothing=1.5)(v, idx)', ['CrossEntropyLoss', '1.5']),
    ('ce-float-target-shape', 'nn.CrossEntropyLoss()(v, T.randn(4, 4))', ['CrossEntropyLoss', '(4, 4)', '(4, 5)']),
    ('ce-numpy', 'nn.CrossEntropyLoss()(np.zeros((4, 5), dtype=np.float32), idx)', ['CrossEntropyLoss', 'ndarray']),
    ('ce-weight', 'nn.CrossEntropyLoss(weight=T.ones(3))(v, idx)', ['CrossEntropyLoss', 'weight', '3']),
    ('F-ce-reduction', "F.cross_entropy(v, idx, reduction='total')", ['cross_entropy', 'total']),
    ('F-ce-index', 'F.cross_entropy(v, T.tensor([9, 0, 0, 0]))', ['cross_entropy', '9']),
    ('nll-index', 'nn.NLLLoss()(v, T.tensor([0, 7, 0, 0]))', ['NLLLoss', '7']),
    ('nll-batch', 'nn.NLLLoss()(v, T.tensor([0, 1]))', ['NLLLoss', '4', '2']),
    ('F-nll-index', 'F.nll_loss(v, T.tensor([0, -3, 0, 0]))', ['nll_loss', '-3']),
    ('nll-reduction', "nn.NLLLoss(reduction='avg')(v, idx)", ['NLLLoss', 'avg']),
    ('mse-reduction', "nn.MSELoss(reduction='avg')(v, v)", ['MSELoss', 'avg']),
    ('mse-shape', 'nn.MSELoss()(v, T.randn(3, 5))', ['MSELoss', '(3, 5)', '(4, 5)']),
    ('l1-shape', 'nn.L1Loss()(v, T.randn(4, 2))', ['L1Loss', '(4, 2)']),
    ('l1-reduction', "nn.L1Loss(reduction='max')(v, v)", ['L1Loss', 'max']),
    ('bce-shape', 'nn.BCELoss()(T.rand(4, 5), T.rand(4, 4))', ['BCELoss', '(4, 4)']),
    ('bcelogits-shape', 'nn.BCEWithLogitsLoss()(v, T.rand(4, 4))', ['BCEWithLogitsLoss', '(4, 4)']),
    ('smoothl1-reduction', "nn.SmoothL1Loss(reduction='x')(v, v)", ['SmoothL1Loss', "'x'"]),
    ('huber-delta', 'nn.HuberLoss(delta=-1.0)(v, v)', ['HuberLoss', '-1']),
    ('kldiv-reduction', "nn.KLDivLoss(reduction='avg')(v, v)", ['KLDivLoss', 'avg']),
    ('mse-numpy', 'nn.MSELoss()(np.zeros((4, 5)), v)', ['MSELoss', 'ndarray']),
    ('mha-embed', 'm = nn.MultiheadAttention(8, 2); m(T.randn(3, 2, 6), T.randn(3, 2, 6), T.randn(3, 2, 6))',
     ['MultiheadAttention', '8', '6']),
    ('enc-layer-heads', 'nn.TransformerEncoderLayer(10, 3)', ['embed_dim', 'num_heads']),
    ('prelu-neg', 'nn.PReLU(-1)', ['PReLU', '-1']),
    ('lrn-size0', 'nn.LocalResponseNorm(0)(x2)', ['LocalResponseNorm', '0']),
    ('softmax2d-rank', 'nn.Softmax2d()(v)', ['Softmax2d', '2D']),
    ('pairwise-shape', 'nn.PairwiseDistance()(v, T.randn(4, 3))', ['5', '3']),
    ('cos-shape', 'nn.CosineSimilarity()(v, T.randn(3, 5))', ['4', '3']),
    ('F-maxpool-kernel0', 'F.max_pool2d(x2, 0)', ['max_pool2d', 'kernel_size']),
    ('F-avgpool-stride0', 'F.avg_pool2d(x2, 2, stride=0)', ['avg_pool2d', 'stride']),
    ('F-maxpool1d-dil0', 'F.max_pool1d(x1, 2, dilation=0)', ['max_pool1d', 'dilation']),
    ('F-avgpool3d-kernel0', 'F.avg_pool3d(x3, 0)', ['avg_pool3d', 'kernel_size']),
    ('F-conv1d-numpy', 'F.conv1d(np.zeros((1, 3, 10), dtype=np.float32), T.randn(4, 3, 3))', ['conv1d', 'ndarray']),
    ('F-conv1d-stride0', 'F.conv1d(x1, T.randn(4, 3, 3), stride=0)', ['conv1d', 'stride']),
    ('F-conv3d-stride0', 'F.conv3d(x3, T.randn(4, 2, 3, 3, 3), stride=0)', ['conv3d', 'stride']),
    ('F-convT2d-stride0', 'F.conv_transpose2d(x2, T.randn(3, 4, 3, 3), stride=0)', ['conv_transpose2d', 'stride']),
    ('F-convT2d-dtype', 'F.conv_transpose2d(x2.double(), T.randn(3, 4, 3, 3))', ['conv_transpose2d', 'float64']),
    ('F-layer_norm-numpy', 'F.layer_norm(np.zeros((4, 5)), (5,))', ['layer_norm', 'ndarray']),
    ('F-layer_norm-dtype', 'F.layer_norm(v.double(), (5,), T.ones(5))', ['layer_norm', 'float64']),
    ('F-batch_norm-shape', 'F.batch_norm(x2, T.zeros(4), T.ones(4))', ['batch_norm', '4', '3']),
    ('F-group_norm-div', 'F.group_norm(x2, 2)', ['num_groups=2']),
    ('F-embedding-neg', 'F.embedding(T.tensor([-1]), T.randn(4, 3))', ['embedding', '-1']),
    ('F-one_hot-range', 'F.one_hot(T.tensor([0, 3]), 3)', ['one_hot', '3']),
    ('F-dropout-numpy', 'F.dropout(np.zeros(3), 0.5)', ['dropout', 'ndarray']),
    ('F-linear-dtype', 'F.linear(v.double(), T.randn(3, 5))', ['linear', 'float64']),
    ('F-linear-list', 'F.linear([[1.0] * 5], T.randn(3, 5))', ['linear', 'list']),
    ('F-bilinear-numpy', 'F.bilinear(np.zeros((4, 5)), v, T.randn(3, 5, 5))', ['bilinear', 'ndarray']),
    ('F-mse-shape', 'F.mse_loss(v, T.randn(5, 4))', ['mse_loss', '(5, 4)']),
    ('F-l1-reduction', "F.l1_loss(v, v, reduction='avg')", ['l1_loss', 'avg']),
    ('F-nll-batch', 'F.nll_loss(v, T.tensor([0]))', ['nll_loss', '4']),
    ('F-bce-shape', 'F.binary_cross_entropy(T.rand(4, 5), T.rand(5, 4))', ['binary_cross_entropy', '(5, 4)']),
    ('F-huber-delta', 'F.huber_loss(v, v, delta=0.0)', ['huber_loss', 'delta']),
    ('F-kl-reduction', "F.kl_div(v, v, reduction='avg')", ['kl_div', 'avg']),
    ('F-ce-smoothing', 'F.cross_entropy(v, idx, label_smoothing=2.0)', ['cross_entropy', '2.0']),
    ('F-ce-weight', 'F.cross_entropy(v, idx, weight=T.ones(2))', ['cross_entropy', 'weight']),
    ('F-softmax-dim-neg', 'F.softmax(x2, dim=-5)', ['softmax', '-5']),
    ('F-pixel_shuffle-zero', 'F.pixel_shuffle(x2, 0)', ['pixel_shuffle', '0']),
    ('F-glu-odd', 'F.glu(v, 1)', ['5']),
    ('F-unfold-kernel0', 'F.unfold(x2, 0)', ['unfold', 'kernel']),
    ('F-adaptive-neg', 'F.adaptive_avg_pool2d(x2, -3)', ['adaptive_avg_pool2d', '-3']),
    ('F-adaptive-max-neg', 'F.adaptive_max_pool2d(x2, (2, -1))', ['adaptive_max_pool2d', '-1']),
    ('T-min-dim', 'T.min(x2, dim=4)', ['min', '4']),
    ('T-prod-dim', 'T.prod(v, dim=2)', ['prod', '2']),
    ('T-std-dim', 'T.std(v, dim=-3)', ['-3']),
    ('T-amax-dim', 'T.amax(v, dim=2)', ['amax', '2']),
    ('T-argmin-dim', 'T.argmin(v, dim=-3)', ['argmin', '-3']),
    ('T-log_softmax-dim', 'T.log_softmax(v, dim=2)', ['log_softmax', '2']),
    ('T-squeeze-dim', 'T.squeeze(v, 2)', ['2']),
    ('T-unsqueeze-dim', 'T.unsqueeze(v, 3)', ['3']),
    ('T-transpose-dim', 'T.transpose(v, 0, 2)', ['2']),
    ('T-flatten-end', 'T.flatten(v, 0, 2)', ['flatten', '2']),
    ('T-flatten-order', 'T.flatten(x2, 2, 1)', ['flatten', 'start_dim']),
    ('T-matmul-shape', 'T.matmul(v, v)', ['5', '4']),
    ('T-empty-neg', 'T.empty(3, -1)', ['empty', '-1']),
    ('T-randn-neg-tuple', 'T.randn((2, -2))', ['randn', '-2']),
    ('T-ones-neg', 'T.ones(-3)', ['ones', '-3']),
    ('T-randint-neg', 'T.randint(5, (2, -1))', ['randint', '-1']),
    ('T-full-neg', 'T.full((2, -2), 1.0)', ['full', '-2']),
    ('T-zeros-neg-2', 'T.zeros(2, -5)', ['zeros', '-5']),
    ('x-view-bad', 'x2.view(-1, 7)', ['7']),
    ('x-reshape-bad', 'v.reshape(3, 3)', ['3']),
    ('x-sum-dim', 'x2.sum(dim=(0, 9))', ['sum', '9']),
    ('x-softmax-dim', 'x2.softmax(dim=4)', ['softmax', '4']),
    ('emb-2d-neg', 'nn.Embedding(5, 2)(T.tensor([[0, 1], [2, -3]]))', ['Embedding', '-3']),
    # tensor ops and factories
    ('add-broadcast', 'T.randn(3) + T.randn(4)', ['3', '4']),
    ('mul-broadcast', 'T.mul(T.randn(2, 3), T.randn(3, 2))', ['(2, 3)', '(3, 2)']),
    ('cat-shape', 'T.cat([T.randn(2, 3), T.randn(2, 4)], dim=0)', ['3', '4']),
    ('cat-empty', 'T.cat([])', ['cat']),
    ('stack-shape', 'T.stack([T.randn(2), T.randn(3)])', ['stack']),
    ('mm-shape', 'T.mm(v, v)', ['4', '5']),
    ('bmm-shape', 'T.bmm(T.randn(2, 3, 4), T.randn(2, 3, 4))', ['4', '3']),
    ('where-shape', 'T.where(T.randn(3) > 0, T.randn(4), T.randn(3))', ['3', '4']),
    ('gather-dim', 'T.gather(v, 2, T.zeros(4, 5, dtype=T.int64))', ['2']),
    ('index_select-range', 'T.index_select(v, 0, T.tensor([9]))', ['9']),
    ('topk-k', 'T.topk(v, 9)', ['9']),
    ('narrow-range', 'T.narrow(v, 1, 3, 4)', ['narrow']),
    ('split-zero', 'T.split(v, 0)', ['split']),
    ('chunk-zero', 'T.chunk(v, 0)', ['chunk']),
    ('repeat-short', 'v.repeat(2)', ['repeat']),
    ('expand-bad', 'v.expand(3, 5)', ['expand']),
    ('permute-bad', 'v.permute(0, 0)', ['permute']),
    ('permute-len', 'v.permute(0)', ['permute']),
    ('linspace-neg', 'T.linspace(0, 1, -1)', ['-1']),
    ('arange-step0', 'T.arange(0, 5, 0)', ['step']),
    ('eye-neg', 'T.eye(-2)', ['-2']),
    ('multinomial-neg', 'T.multinomial(T.tensor([0.5, -0.1]), 1)', ['multinomial']),
    ('randperm-neg', 'T.randperm(-1)', ['-1']),
    ('normal-std', 'T.normal(0.0, -1.0, size=(2,))', ['std']),
    ('clamp-none', 'T.clamp(v)', ['clamp']),
    ('one-hot-neg', 'F.one_hot(T.tensor([-1]), 3)', ['-1']),
    ('mean-int', 'T.tensor([1, 2]).mean()', ['mean', 'int64']),
    # more layers and losses
    ('chshuffle-0', 'nn.ChannelShuffle(0)(x2)', ['ChannelShuffle', '0']),
    ('unfold-padneg', 'nn.Unfold(2, padding=-1)(x2)', ['Unfold', 'padding']),
    ('upsample-scale0', 'nn.Upsample(scale_factor=0)(x2)', ['Upsample', 'scale_factor']),
    ('lppool-norm0', 'nn.LPPool2d(0, 2)(x2)', ['LPPool2d', 'division']),
    ('fold-outsize', 'nn.Fold((2, 2), 3)(T.randn(1, 27, 4))', ['Fold']),
    ('conv2d-weight-rank', 'F.conv2d(x2, T.randn(4, 3, 3))', ['conv2d', 'weight']),
    ('conv1d-weight-rank', 'F.conv1d(x1, T.randn(4, 3))', ['conv1d', 'weight']),
    ('linear-bias-shape', 'F.linear(v, T.randn(3, 5), T.randn(4))', ['linear', '4']),
    ('emb-maxnorm-neg', 'F.embedding(T.tensor([5]), T.randn(5, 3))', ['embedding', '5']),
    ('bn-momentum-1d', 'nn.BatchNorm1d(3)(T.randn(3))', ['BatchNorm1d']),
    ('ln-empty-shape', 'nn.LayerNorm([])(v)', ['LayerNorm']),
    ('ce-1d-target-class', 'F.cross_entropy(T.randn(5), T.tensor(5))', ['cross_entropy', '5']),
    ('nll-2d-target', 'F.nll_loss(T.randn(2, 5, 3), T.tensor([[0, 1, 6], [0, 0, 0]]))', ['nll_loss', '6']),
    ('bce-out-of-range', 'F.binary_cross_entropy(T.tensor([1.5]), T.tensor([1.0]))',
     ['binary_cross_entropy', 'between 0 and 1']),
    ('kl-div-shape', 'F.kl_div(v, T.randn(3, 5))', ['kl_div', '(3, 5)', '(4, 5)']),
    ('margin-rank-shape', 'F.margin_ranking_loss(T.randn(3), T.randn(4), T.randn(3))', ['margin_ranking_loss']),
    ('triplet-shape', 'F.triplet_margin_loss(v, v, T.randn(4, 3))', ['triplet_margin_loss']),
    ('cos-emb-shape', 'F.cosine_embedding_loss(v, T.randn(4, 3), T.ones(4))', ['cosine_embedding_loss']),
    ('smooth-l1-beta', 'F.smooth_l1_loss(v, v, beta=-1.0)', ['smooth_l1_loss', '-1']),
    ('poisson-shape', 'F.poisson_nll_loss(v, T.randn(4, 4))', ['poisson_nll_loss']),
    ('gaussian-var-neg', 'F.gaussian_nll_loss(v, v, -T.ones(4, 5))', ['gaussian_nll_loss', 'var']),
]


@pytest.mark.parametrize("code, needles", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_torchs_exception_class_with_a_clear_message(code, needles):
    check_like_torch(code, needles)


def test_every_case_has_a_unique_id_and_names_something():
    check_ids(CASES)


# Torch answers these with an AttributeError on the NumPy array or silently; Ember names the layer instead.
EMBER_ONLY = [
    ("bn-numpy", "nn.BatchNorm2d(3)(np.zeros((2, 3, 4, 4), dtype=np.float32))",
     TypeError, ["BatchNorm2d", "ndarray", "ember.tensor"]),
    ("rnn-numpy", "nn.RNN(10, 4)(np.zeros((2, 3, 10), dtype=np.float32))",
     TypeError, ["RNN", "ndarray", "ember.tensor"]),
    ("gru-list", "nn.GRU(2, 4)([[1.0, 2.0]])", TypeError, ["GRU", "list"]),
    ("ce-smoothing-neg", "nn.CrossEntropyLoss(label_smoothing=-0.1)(v, idx)", ValueError, ["cross_entropy", "-0.1"]),
    ("groupnorm-zero-groups", "nn.GroupNorm(0, 4)", ValueError, ["GroupNorm", "num_groups", "0"]),
    ("layer-norm-numpy", "nn.LayerNorm(5)(np.zeros((4, 5)))", TypeError, ["LayerNorm", "ndarray"]),
    ("avgpool-2d-on-matrix", "nn.AvgPool2d(2)(v)", RuntimeError, ["AvgPool2d", "(4, 5)"]),
    ("conv-kernel-triple", "nn.Conv2d(3, 4, (3, 3, 3))", ValueError, ["kernel_size", "(3, 3, 3)"]),
    ("lazy-linear-negative", "nn.LazyLinear(-3)", RuntimeError, ["Linear", "out_features", "-3"]),
    ("softmax-numpy", "nn.Softmax(dim=1)(np.zeros((2, 3)))", TypeError, ["Softmax", "ndarray", "ember.tensor"]),
    ("ce-integer-logits", "F.cross_entropy(T.tensor([[1, 2]]), T.tensor([0]))",
     RuntimeError, ["cross_entropy", "int64", "float"]),
]


@pytest.mark.parametrize("code, exc, needles", [c[1:] for c in EMBER_ONLY], ids=[c[0] for c in EMBER_ONLY])
def test_ember_is_clearer_than_torch_here(code, exc, needles):
    got = outcome("ember", code)
    assert isinstance(got, exc), f"{code!r}: expected {exc.__name__}, got {type(got).__name__}: {got}"
    missing = [n for n in needles if n.lower() not in str(got).lower()]
    assert not missing, f"{code!r}: the message does not mention {missing}: {got}"


# Edge cases at the border of the checks: valid in torch, so valid in Ember, with torch's output shape.
VALID = [
    ("dilation-1", "nn.Conv2d(3, 4, 3, dilation=1)(x2)"),
    ("padding-same", "nn.Conv2d(3, 4, 3, padding='same')(x2)"),
    ("padding-same-dilated", "nn.Conv2d(3, 4, 2, padding='same', dilation=2)(x2)"),
    ("padding-valid", "nn.Conv1d(3, 4, 3, padding='valid')(x1)"),
    ("kernel-equals-input", "nn.Conv2d(3, 4, 8)(x2)"),
    ("unbatched-conv2d", "nn.Conv2d(3, 4, 3)(x2[0])"),
    ("unbatched-conv3d", "nn.Conv3d(2, 4, 3)(x3[0])"),
    ("flatten-start-last", "nn.Flatten(start_dim=-1)(x2)"),
    ("flatten-all", "nn.Flatten(0, -1)(x2)"),
    ("flatten-same-dim", "T.flatten(x2, 2, 2)"),
    ("unflatten-negative-dim", "nn.Unflatten(-1, (5, 1))(v)"),
    ("unflatten-minus-one", "nn.Unflatten(1, (-1, 1))(v)"),
    ("softmax-dim-minus-one", "nn.Softmax(dim=-1)(x2)"),
    ("sum-dim-negative", "T.sum(x2, dim=-4)"),
    ("stack-last", "T.stack([v, v], dim=-1)"),
    ("stack-new-axis", "T.stack([v, v], dim=2)"),
    ("maxpool-pad-half", "nn.MaxPool2d(2, padding=1)(x2)"),
    ("maxpool-ceil", "nn.MaxPool2d(3, ceil_mode=True)(x2)"),
    ("avgpool1d", "nn.AvgPool1d(3, stride=1, padding=1)(x1)"),
    ("adaptive-none", "nn.AdaptiveAvgPool2d((None, 2))(x2)"),
    ("adaptive-zero", "nn.AdaptiveAvgPool2d(1)(x2)"),
    ("dropout-p0", "nn.Dropout(0.0)(v)"),
    ("dropout-p1", "nn.Dropout(1.0)(v)"),
    ("embedding-last-row", "nn.Embedding(10, 3)(T.tensor([9, 0]))"),
    ("embedding-empty", "nn.Embedding(10, 3)(T.tensor([], dtype=T.int64))"),
    ("embedding-padding-negative", "nn.Embedding(10, 3, padding_idx=-1)(T.tensor([9]))"),
    ("ce-ignore-index", "F.cross_entropy(v, T.tensor([0, -100, 4, 1]))"),
    ("ce-smoothing-1", "F.cross_entropy(v, idx, label_smoothing=1.0)"),
    ("ce-probabilities", "F.cross_entropy(v, T.softmax(T.randn(4, 5), dim=1))"),
    ("linear-zero-in", "nn.Linear(0, 3)(T.randn(2, 0))"),
    ("linear-3d", "nn.Linear(5, 3)(T.randn(2, 4, 5))"),
    ("lstm-h0", "nn.LSTM(10, 4)(x1, (T.zeros(1, 3, 4), T.zeros(1, 3, 4)))"),
    ("gru-unbatched", "nn.GRU(10, 4)(x1[0])"),
    ("double-layer-double-input", "nn.Linear(5, 3).double()(v.double())"),
    ("conv-double-double", "nn.Conv2d(3, 4, 3).double()(x2.double())"),
    ("bn-eval-one-sample", "m = nn.BatchNorm1d(3); m.eval(); m(T.randn(1, 3))"),
    ("pixelshuffle-1", "nn.PixelShuffle(1)(x2)"),
    ("upsample-scale-pair", "nn.Upsample(scale_factor=(2, 1))(x2)"),
    ("convT-output-padding", "nn.ConvTranspose2d(3, 4, 3, stride=2, output_padding=1)(x2)"),
    ("zeros-zero", "T.zeros(0, 3)"),
    ("glu-dim0", "nn.GLU(dim=0)(v)"),
]


def _shape(result):
    result = result[0] if isinstance(result, tuple) else result
    return tuple(result.shape)


@pytest.mark.parametrize("code", [c[1] for c in VALID], ids=[c[0] for c in VALID])
def test_valid_edge_cases_still_work_and_match_torchs_shape(code):
    *setup, expression = code.split("; ")  # "m = ...; m.eval(); m(x)": statements, then the value
    shapes = {}
    for lib in ("torch", "ember"):
        ns = namespace(lib)
        exec("\n".join(setup), ns)
        shapes[lib] = _shape(eval(expression, ns))
    assert shapes["ember"] == shapes["torch"]


def test_embedding_negative_index_is_loud_not_the_last_row():
    layer = nn.Embedding(10, 3)
    with pytest.raises(IndexError, match=r"index -1 .*num_embeddings=10"):
        layer(ember.tensor([-1]))


def test_a_float64_input_never_silently_comes_back_float64_from_a_float32_layer():
    x = ember.tensor(np.zeros((2, 3, 8, 8)))  # float64
    for layer in (nn.Conv2d(3, 4, 3), nn.Linear(8, 2), nn.BatchNorm2d(3), nn.LayerNorm(8), nn.ConvTranspose2d(3, 2, 3)):
        with pytest.raises(RuntimeError, match="float64"):
            layer(x)


def test_module_names_only_the_innermost_layer():
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(3, 2))
    with pytest.raises(RuntimeError) as info:
        model(ember.randn(2, 5))
    message = str(info.value)
    assert "in_features=3" in message and not message.startswith("Sequential")
