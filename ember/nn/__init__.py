"""Neural-network layers with PyTorch's names, parameter names and default initialisation."""

from . import functional, init
from . import utils
from .activation import ELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .batchnorm import BatchNorm1d, BatchNorm2d
from .containers import ModuleDict, ModuleList, Sequential
from .conv import Conv2d
from .embedding import Embedding
from .dropout import Dropout, Dropout2d, StochasticDepth
from .flatten import Flatten, Unflatten
from .linear import Identity, Linear
from .loss import (
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    MultiMarginLoss,
    NLLLoss,
    SmoothL1Loss,
)
from .lrn import LocalResponseNorm
from .module import Module
from .parameter import Parameter
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .upsampling import Upsample
from .lazy import (
    LazyBatchNorm1d,
    LazyBatchNorm2d,
    LazyConv2d,
    LazyLinear,
    LazyModuleMixin,
    UninitializedBuffer,
    UninitializedParameter,
)
from . import parallel
from .parallel import DataParallel
from .parallel import DistributedDataParallel
from .normalization import GroupNorm, LayerNorm
from .instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .multihead_attention import MultiheadAttention
from .transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from .activation import (
    CELU, GELU, SELU, Hardsigmoid, Hardswish, Hardtanh, LogSigmoid, Mish, PReLU, ReLU6, SiLU, Softmin, Softplus,
    Softsign, Tanhshrink, Threshold,
)
from .conv import Conv1d, ConvTranspose1d, ConvTranspose2d
from .dropout import AlphaDropout, Dropout1d, Dropout3d
from .padding import (
    CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d, ReflectionPad1d,
    ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d, ReplicationPad3d, ZeroPad1d, ZeroPad2d,
    ZeroPad3d,
)
from .pooling import AdaptiveAvgPool1d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AvgPool1d, MaxPool1d
from . import modules
from .parameter_containers import ParameterDict, ParameterList
from .distance import CosineSimilarity, PairwiseDistance
from .loss import (
    BCELoss, CosineEmbeddingLoss, GaussianNLLLoss, HingeEmbeddingLoss, KLDivLoss, MarginRankingLoss,
    MultiLabelMarginLoss, MultiLabelSoftMarginLoss, PoissonNLLLoss, SoftMarginLoss, TripletMarginLoss,
)
from .fold import Fold, Unfold
from .pixelshuffle import PixelShuffle, PixelUnshuffle
from .channelshuffle import ChannelShuffle
from .activation_more import GLU, Hardshrink, RReLU, Softmax2d, Softshrink
from .bilinear import Bilinear
from .rms_norm import RMSNorm
from .unpool import LPPool1d, LPPool2d, MaxUnpool2d
from .upsampling import UpsamplingBilinear2d, UpsamplingNearest2d
from .lazy_more import (
    LazyConv1d, LazyConvTranspose1d, LazyConvTranspose2d, LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d,
)
from .parameter import Buffer
from .batchnorm import BatchNorm3d
from .lazy_more import LazyBatchNorm3d
from .loss import TripletMarginWithDistanceLoss
from .unpool import MaxUnpool1d
from .conv3d import AvgPool3d, Conv3d, MaxPool3d
from .conv3d import LPPool3d
from .lazy_more import LazyConv3d
from .loss import NLLLoss2d
from .fractional_pool import FractionalMaxPool2d, FractionalMaxPool3d
from .maxout import Maxout
from .dropout_variants import DropConnect, VanillaDropout
from .sync_batchnorm import SyncBatchNorm
