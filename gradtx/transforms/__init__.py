"""Gradient transformations: the building blocks of every optimizer.

One module per concept (``scaling``, ``momentum``, ``adam``, ``adan``, ``rms``,
``sign``, ``rprop``, ``optimistic``, ``polyak``, ``factored``, ``trust_ratio``,
``decay``, ``clipping``, ``constraints``, ``lbfgs``, ``linesearch``,
``zoom_linesearch``). This
face also carries the wrappers that Optax keeps in ``optax.transforms``
(``masked``, ``freeze``, ``MultiSteps``, ...), so ``gradtx.transforms.freeze``
works as ``optax.transforms.freeze`` does.
"""


from gradtx.transforms.adam import ScaleByAdamState as ScaleByAdamState
from gradtx.transforms.adam import ScaleByAmsgradState as ScaleByAmsgradState
from gradtx.transforms.adam import ScaleByBeliefState as ScaleByBeliefState
from gradtx.transforms.adam import ScaleByNovogradState as ScaleByNovogradState
from gradtx.transforms.adam import scale_by_adam as scale_by_adam
from gradtx.transforms.adam import scale_by_adamax as scale_by_adamax
from gradtx.transforms.adam import scale_by_amsgrad as scale_by_amsgrad
from gradtx.transforms.adam import scale_by_belief as scale_by_belief
from gradtx.transforms.adam import scale_by_novograd as scale_by_novograd
from gradtx.transforms.adam import scale_by_radam as scale_by_radam
from gradtx.transforms.adam import scale_by_yogi as scale_by_yogi
from gradtx.transforms.clipping import AdaptiveGradClipState as AdaptiveGradClipState
from gradtx.transforms.clipping import ClipByBlockRmsState as ClipByBlockRmsState
from gradtx.transforms.clipping import ClipByGlobalNormState as ClipByGlobalNormState
from gradtx.transforms.clipping import ClipState as ClipState
from gradtx.transforms.clipping import adaptive_grad_clip as adaptive_grad_clip
from gradtx.transforms.clipping import clip as clip
from gradtx.transforms.clipping import clip_by_block_rms as clip_by_block_rms
from gradtx.transforms.clipping import clip_by_global_norm as clip_by_global_norm
from gradtx.transforms.clipping import per_example_global_norm_clip as per_example_global_norm_clip
from gradtx.transforms.clipping import per_example_layer_norm_clip as per_example_layer_norm_clip
from gradtx.transforms.constraints import CentralizeState as CentralizeState
from gradtx.transforms.constraints import NonNegativeParamsState as NonNegativeParamsState
from gradtx.transforms.constraints import ZeroNansState as ZeroNansState
from gradtx.transforms.constraints import centralize as centralize
from gradtx.transforms.constraints import keep_params_nonnegative as keep_params_nonnegative
from gradtx.transforms.constraints import zero_nans as zero_nans
from gradtx.transforms.decay import AddDecayedWeightsState as AddDecayedWeightsState
from gradtx.transforms.decay import AddNoiseState as AddNoiseState
from gradtx.transforms.decay import add_decayed_weights as add_decayed_weights
from gradtx.transforms.decay import add_noise as add_noise
from gradtx.transforms.dog import ScaleByDistanceOverGradientsState as ScaleByDistanceOverGradientsState
from gradtx.transforms.dog import scale_by_distance_over_gradients as scale_by_distance_over_gradients
from gradtx.transforms.factored import FactoredState as FactoredState
from gradtx.transforms.factored import ScaleBySM3State as ScaleBySM3State
from gradtx.transforms.factored import scale_by_factored_rms as scale_by_factored_rms
from gradtx.transforms.factored import scale_by_sm3 as scale_by_sm3
from gradtx.transforms.momentum import EmaState as EmaState
from gradtx.transforms.momentum import TraceState as TraceState
from gradtx.transforms.momentum import ema as ema
from gradtx.transforms.momentum import trace as trace
from gradtx.transforms.rms import ScaleByAdaDeltaState as ScaleByAdaDeltaState
from gradtx.transforms.rms import ScaleByRStdDevState as ScaleByRStdDevState
from gradtx.transforms.rms import ScaleByRStdDevWithCountState as ScaleByRStdDevWithCountState
from gradtx.transforms.rms import ScaleByRmsState as ScaleByRmsState
from gradtx.transforms.rms import ScaleByRmsWithCountState as ScaleByRmsWithCountState
from gradtx.transforms.rms import ScaleByRssState as ScaleByRssState
from gradtx.transforms.rms import scale_by_adadelta as scale_by_adadelta
from gradtx.transforms.rms import scale_by_param_block_norm as scale_by_param_block_norm
from gradtx.transforms.rms import scale_by_param_block_rms as scale_by_param_block_rms
from gradtx.transforms.rms import scale_by_rms as scale_by_rms
from gradtx.transforms.rms import scale_by_rss as scale_by_rss
from gradtx.transforms.rms import scale_by_stddev as scale_by_stddev
from gradtx.transforms.scaling import ScaleByScheduleState as ScaleByScheduleState
from gradtx.transforms.scaling import ScaleState as ScaleState
from gradtx.transforms.scaling import normalize_by_update_norm as normalize_by_update_norm
from gradtx.transforms.scaling import scale as scale
from gradtx.transforms.scaling import scale_by_learning_rate as scale_by_learning_rate
from gradtx.transforms.scaling import scale_by_schedule as scale_by_schedule
from gradtx.transforms.sign import ScaleByLionState as ScaleByLionState
from gradtx.transforms.sign import ScaleBySignState as ScaleBySignState
from gradtx.transforms.sign import scale_by_lion as scale_by_lion
from gradtx.transforms.sign import scale_by_sign as scale_by_sign
from gradtx.transforms.trust_ratio import ScaleByTrustRatioState as ScaleByTrustRatioState
from gradtx.transforms.trust_ratio import scale_by_trust_ratio as scale_by_trust_ratio
from gradtx.transforms.adan import ScaleByAdanState as ScaleByAdanState
from gradtx.transforms.adan import scale_by_adan as scale_by_adan
from gradtx.transforms.clipping import unitwise_clip as unitwise_clip
from gradtx.transforms.clipping import unitwise_norm as unitwise_norm
from gradtx.transforms.lbfgs import ScaleByLBFGSState as ScaleByLBFGSState
from gradtx.transforms.lbfgs import scale_by_lbfgs as scale_by_lbfgs
from gradtx.transforms.linesearch import BacktrackingLinesearchInfo as BacktrackingLinesearchInfo
from gradtx.transforms.linesearch import ScaleByBacktrackingLinesearchState as ScaleByBacktrackingLinesearchState
from gradtx.transforms.linesearch import scale_by_backtracking_linesearch as scale_by_backtracking_linesearch
from gradtx.transforms.linesearch import value_and_grad_from_state as value_and_grad_from_state
from gradtx.transforms.optimistic import ScaleByOptimisticGradientState as ScaleByOptimisticGradientState
from gradtx.transforms.optimistic import scale_by_optimistic_gradient as scale_by_optimistic_gradient
from gradtx.transforms.polyak import scale_by_polyak as scale_by_polyak
from gradtx.transforms.rprop import ScaleByRpropState as ScaleByRpropState
from gradtx.transforms.rprop import scale_by_rprop as scale_by_rprop
from gradtx.transforms.zoom_linesearch import ScaleByZoomLinesearchState as ScaleByZoomLinesearchState
from gradtx.transforms.zoom_linesearch import ZoomLinesearchInfo as ZoomLinesearchInfo
from gradtx.transforms.zoom_linesearch import scale_by_zoom_linesearch as scale_by_zoom_linesearch

# Optax keeps these wrappers and the chain constructors in ``optax.transforms``;
# they live in :mod:`gradtx.wrappers` and :mod:`gradtx.base` and are
# re-exported here (last: the wrappers import transform modules) so that
# ``optax.transforms.<name>`` code runs with ``gradtx.transforms``.
from gradtx.base import chain as chain
from gradtx.base import named_chain as named_chain
from gradtx.wrappers import ApplyIfFiniteState as ApplyIfFiniteState
from gradtx.wrappers import ConditionFn as ConditionFn
from gradtx.wrappers import ConditionallyMaskState as ConditionallyMaskState
from gradtx.wrappers import ConditionallyTransformState as ConditionallyTransformState
from gradtx.wrappers import MaskedNode as MaskedNode
from gradtx.wrappers import MaskedState as MaskedState
from gradtx.wrappers import MonitorState as MonitorState
from gradtx.wrappers import MultiSteps as MultiSteps
from gradtx.wrappers import MultiStepsState as MultiStepsState
from gradtx.wrappers import PartitionState as PartitionState
from gradtx.wrappers import ShouldSkipUpdateFunction as ShouldSkipUpdateFunction
from gradtx.wrappers import SnapshotState as SnapshotState
from gradtx.wrappers import apply_if_finite as apply_if_finite
from gradtx.wrappers import conditionally_mask as conditionally_mask
from gradtx.wrappers import conditionally_transform as conditionally_transform
from gradtx.wrappers import flatten as flatten
from gradtx.wrappers import freeze as freeze
from gradtx.wrappers import masked as masked
from gradtx.wrappers import measure_with_ema as measure_with_ema
from gradtx.wrappers import monitor as monitor
from gradtx.wrappers import partition as partition
from gradtx.wrappers import selective_transform as selective_transform
from gradtx.wrappers import skip_large_updates as skip_large_updates
from gradtx.wrappers import skip_not_finite as skip_not_finite
from gradtx.wrappers import snapshot as snapshot

__all__ = [
    'scale_by_distance_over_gradients',
    'ScaleByDistanceOverGradientsState',
    'adaptive_grad_clip',
    'AdaptiveGradClipState',
    'add_decayed_weights',
    'add_noise',
    'AddDecayedWeightsState',
    'AddNoiseState',
    'apply_if_finite',
    'ApplyIfFiniteState',
    'BacktrackingLinesearchInfo',
    'centralize',
    'CentralizeState',
    'chain',
    'clip',
    'clip_by_block_rms',
    'clip_by_global_norm',
    'ClipByBlockRmsState',
    'ClipByGlobalNormState',
    'ClipState',
    'conditionally_mask',
    'conditionally_transform',
    'ConditionFn',
    'ConditionallyMaskState',
    'ConditionallyTransformState',
    'ema',
    'EmaState',
    'FactoredState',
    'flatten',
    'freeze',
    'keep_params_nonnegative',
    'masked',
    'MaskedNode',
    'MaskedState',
    'measure_with_ema',
    'monitor',
    'MonitorState',
    'MultiSteps',
    'MultiStepsState',
    'named_chain',
    'NonNegativeParamsState',
    'normalize_by_update_norm',
    'partition',
    'PartitionState',
    'per_example_global_norm_clip',
    'per_example_layer_norm_clip',
    'scale',
    'scale_by_adadelta',
    'scale_by_adam',
    'scale_by_adamax',
    'scale_by_adan',
    'scale_by_amsgrad',
    'scale_by_backtracking_linesearch',
    'scale_by_belief',
    'scale_by_factored_rms',
    'scale_by_lbfgs',
    'scale_by_learning_rate',
    'scale_by_lion',
    'scale_by_novograd',
    'scale_by_optimistic_gradient',
    'scale_by_param_block_norm',
    'scale_by_param_block_rms',
    'scale_by_polyak',
    'scale_by_radam',
    'scale_by_rms',
    'scale_by_rprop',
    'scale_by_rss',
    'scale_by_schedule',
    'scale_by_sign',
    'scale_by_sm3',
    'scale_by_stddev',
    'scale_by_trust_ratio',
    'scale_by_yogi',
    'scale_by_zoom_linesearch',
    'ScaleByAdaDeltaState',
    'ScaleByAdamState',
    'ScaleByAdanState',
    'ScaleByAmsgradState',
    'ScaleByBacktrackingLinesearchState',
    'ScaleByBeliefState',
    'ScaleByLBFGSState',
    'ScaleByLionState',
    'ScaleByNovogradState',
    'ScaleByOptimisticGradientState',
    'ScaleByRmsState',
    'ScaleByRmsWithCountState',
    'ScaleByRpropState',
    'ScaleByRssState',
    'ScaleByRStdDevState',
    'ScaleByRStdDevWithCountState',
    'ScaleByScheduleState',
    'ScaleBySignState',
    'ScaleBySM3State',
    'ScaleByTrustRatioState',
    'ScaleByZoomLinesearchState',
    'ScaleState',
    'selective_transform',
    'ShouldSkipUpdateFunction',
    'skip_large_updates',
    'skip_not_finite',
    'snapshot',
    'SnapshotState',
    'trace',
    'TraceState',
    'unitwise_clip',
    'unitwise_norm',
    'value_and_grad_from_state',
    'zero_nans',
    'ZeroNansState',
    'ZoomLinesearchInfo',
]
