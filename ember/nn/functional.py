"""``ember.nn.functional`` (import it as F): the layers' operations as plain functions, PyTorch's signatures."""

from ..ops.activation import elu, leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from ..ops.conv import conv2d
from ..ops.dropout import dropout, dropout2d, stochastic_depth
from ..ops.embedding import embedding, one_hot
from ..ops.linalg import linear
from ..ops.loss import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    multi_margin_loss,
    nll_loss,
    smooth_l1_loss,
)
from ..ops.norm import batch_norm, local_response_norm
from ..ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from ..ops.resample import interpolate
from ..ops.shape import flatten

__all__ = [
    "adaptive_avg_pool2d", "avg_pool2d", "batch_norm", "binary_cross_entropy_with_logits", "conv2d",
    "cross_entropy", "dropout", "dropout2d", "elu", "flatten", "huber_loss", "l1_loss", "leaky_relu", "linear",
    "log_softmax", "max_pool2d", "mse_loss", "multi_margin_loss", "nll_loss", "relu", "sigmoid", "smooth_l1_loss",
    "softmax", "tanh",
    "interpolate", "local_response_norm", "stochastic_depth", "embedding", "one_hot",
]

from ..ops.attention import multi_head_attention_forward, scaled_dot_product_attention
from ..ops.norm import group_norm, instance_norm, layer_norm

__all__ += [
    "group_norm", "instance_norm", "layer_norm", "multi_head_attention_forward", "scaled_dot_product_attention",
]
from ..ops.activation_extra import (
    celu, gelu, hardsigmoid, hardswish, hardtanh, logsigmoid, mish, prelu, relu6, selu, silu, softmin, softplus,
    softsign, tanhshrink, threshold,
)
from ..ops.conv import conv1d, conv_transpose1d, conv_transpose2d
from ..ops.dropout import alpha_dropout, dropout1d, dropout3d
from ..ops.padding import pad
from ..ops.pool import adaptive_avg_pool1d, adaptive_max_pool1d, adaptive_max_pool2d, avg_pool1d, max_pool1d

__all__ += [
    "celu", "gelu", "hardsigmoid", "hardswish", "hardtanh", "logsigmoid", "mish", "prelu", "relu6", "selu", "silu",
    "softmin", "softplus", "softsign", "tanhshrink", "threshold",
    "conv1d", "conv_transpose1d", "conv_transpose2d", "alpha_dropout", "dropout1d", "dropout3d", "pad",
    "adaptive_avg_pool1d", "adaptive_max_pool1d", "adaptive_max_pool2d", "avg_pool1d", "max_pool1d",
]
from ..ops.distance import cosine_similarity, normalize, pairwise_distance, pdist
from ..ops.loss_more import (
    binary_cross_entropy, cosine_embedding_loss, gaussian_nll_loss, hinge_embedding_loss, kl_div,
    margin_ranking_loss, multilabel_margin_loss, multilabel_soft_margin_loss, poisson_nll_loss, soft_margin_loss,
    triplet_margin_loss,
)

__all__ += [
    "cosine_similarity", "normalize", "pairwise_distance", "pdist", "binary_cross_entropy", "cosine_embedding_loss",
    "gaussian_nll_loss", "hinge_embedding_loss", "kl_div", "margin_ranking_loss", "multilabel_margin_loss",
    "multilabel_soft_margin_loss", "poisson_nll_loss", "soft_margin_loss", "triplet_margin_loss",
]
from ..ops.fold import channel_shuffle, fold, pixel_shuffle, pixel_unshuffle, unfold
from ..ops.grid_sample import affine_grid, grid_sample

__all__ += ["channel_shuffle", "fold", "pixel_shuffle", "pixel_unshuffle", "unfold", "affine_grid", "grid_sample"]
from ..ops.activation_more import glu, gumbel_softmax, hardshrink, rrelu, softshrink
from ..ops.bilinear import bilinear
from ..ops.rms_norm import rms_norm
from ..ops.unpool import lp_pool1d, lp_pool2d, max_pool2d_with_indices, max_unpool2d
from ..ops.resample import upsample, upsample_bilinear, upsample_nearest
from .functional_inplace import celu_, elu_, hardtanh_, leaky_relu_, relu_, rrelu_, selu_, threshold_
from .functional_inplace import elu, leaky_relu, relu  # noqa: F811  (the same, plus torch's inplace flag)

__all__ += [
    "glu", "gumbel_softmax", "hardshrink", "rrelu", "softshrink", "bilinear", "rms_norm", "lp_pool1d", "lp_pool2d",
    "max_pool2d_with_indices", "max_unpool2d", "upsample", "upsample_bilinear", "upsample_nearest", "celu_", "elu_",
    "hardtanh_", "leaky_relu_", "relu_", "rrelu_", "selu_", "threshold_",
]
from ..ops.loss_more import triplet_margin_with_distance_loss
from ..ops.unpool import max_unpool1d

__all__ += ["triplet_margin_with_distance_loss", "max_unpool1d"]
from ..ops.unpool import (
    adaptive_max_pool1d_with_indices, adaptive_max_pool2d_with_indices, max_pool1d_with_indices,
)

__all__ += ["adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices", "max_pool1d_with_indices"]
from ..ops.conv3d import avg_pool3d, conv3d, max_pool3d

__all__ += ["avg_pool3d", "conv3d", "max_pool3d"]
from ..ops.conv3d import lp_pool3d

__all__ += ["lp_pool3d"]
from .functional_losses import (  # noqa: F811  torch's signatures, with the legacy size_average/reduce
    binary_cross_entropy_with_logits, cross_entropy, l1_loss, mse_loss, multi_margin_loss, nll_loss, smooth_l1_loss,
)
from ..ops.fractional_pool import fractional_max_pool2d, fractional_max_pool3d

__all__ += ["fractional_max_pool2d", "fractional_max_pool3d"]
from ..ops.maxout import maxout
from ..ops.dropout_variants import vanilla_dropout

__all__ += ["maxout", "vanilla_dropout"]
from ..ops.fractional_pool import fractional_max_pool2d_with_indices, fractional_max_pool3d_with_indices

__all__ += ["fractional_max_pool2d_with_indices", "fractional_max_pool3d_with_indices"]
from .distillation import distillation_loss

__all__ += ["distillation_loss"]
