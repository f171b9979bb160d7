"""Mixed precision: loss scaling, casting policies and master weights.

Everything here is also available at the top level (``gradtx.with_loss_scale``,
``gradtx.DynamicLossScale``, ...).
"""

from gradtx.mixed_precision.loss_scale import DynamicLossScale as DynamicLossScale
from gradtx.mixed_precision.loss_scale import LossScale as LossScale
from gradtx.mixed_precision.loss_scale import NoOpLossScale as NoOpLossScale
from gradtx.mixed_precision.loss_scale import StaticLossScale as StaticLossScale
from gradtx.mixed_precision.master_weights import MasterWeightsState as MasterWeightsState
from gradtx.mixed_precision.master_weights import with_master_weights as with_master_weights
from gradtx.mixed_precision.policy import Policy as Policy
from gradtx.mixed_precision.policy import all_finite as all_finite
from gradtx.mixed_precision.policy import cast_floating as cast_floating
from gradtx.mixed_precision.policy import get_policy as get_policy
from gradtx.mixed_precision.policy import select_tree as select_tree
from gradtx.mixed_precision.presets import keras_loss_scale as keras_loss_scale
from gradtx.mixed_precision.presets import mindspore_loss_scale as mindspore_loss_scale
from gradtx.mixed_precision.presets import torch_grad_scaler as torch_grad_scaler
from gradtx.mixed_precision.wrapper import WithLossScaleState as WithLossScaleState
from gradtx.mixed_precision.wrapper import agreed_all_finite as agreed_all_finite
from gradtx.mixed_precision.wrapper import with_loss_scale as with_loss_scale

__all__ = [
    'agreed_all_finite',
    'all_finite',
    'cast_floating',
    'DynamicLossScale',
    'get_policy',
    'keras_loss_scale',
    'LossScale',
    'MasterWeightsState',
    'mindspore_loss_scale',
    'NoOpLossScale',
    'Policy',
    'select_tree',
    'StaticLossScale',
    'torch_grad_scaler',
    'with_loss_scale',
    'with_master_weights',
    'WithLossScaleState',
]
