"""gradtx: composable gradient transformations for JAX.

Every public name is re-exported here; the modules that define them are
named after their concepts (``gradtx.transforms.adam``,
``gradtx.optimizers.sgd``, ``gradtx.schedules``, ...).
"""

from gradtx import tree as tree

# --- core -------------------------------------------------------------------
from gradtx.base import EmptyState as EmptyState
from gradtx.base import GradientTransformation as GradientTransformation
from gradtx.base import GradientTransformationExtraArgs as GradientTransformationExtraArgs
from gradtx.base import OptState as OptState
from gradtx.base import Params as Params
from gradtx.base import ScalarOrSchedule as ScalarOrSchedule
from gradtx.base import Schedule as Schedule
from gradtx.base import TransformInitFn as TransformInitFn
from gradtx.base import TransformUpdateExtraArgsFn as TransformUpdateExtraArgsFn
from gradtx.base import TransformUpdateFn as TransformUpdateFn
from gradtx.base import Updates as Updates
from gradtx.base import chain as chain
from gradtx.base import identity as identity
from gradtx.base import init_empty_state as init_empty_state
from gradtx.base import named_chain as named_chain
from gradtx.base import set_to_zero as set_to_zero
from gradtx.base import stateless as stateless
from gradtx.base import stateless_with_tree_map as stateless_with_tree_map
from gradtx.base import transformation as transformation
from gradtx.base import transformation_with_extra_args as transformation_with_extra_args
from gradtx.base import with_extra_args_support as with_extra_args_support
from gradtx.numerics import global_norm as global_norm
from gradtx.numerics import safe_increment as safe_increment
from gradtx.numerics import safe_norm as safe_norm
from gradtx.numerics import safe_root_mean_squares as safe_root_mean_squares
from gradtx.numerics import scale_gradient as scale_gradient
from gradtx.tree import bias_correction as bias_correction
from gradtx.tree import map_params as tree_map_params
from gradtx.tree import update_infinity_moment as update_infinity_moment
from gradtx.tree import update_moment as update_moment
from gradtx.tree import update_moment_per_elem_norm as update_moment_per_elem_norm
from gradtx.updates import apply_updates as apply_updates
from gradtx.updates import incremental_update as incremental_update
from gradtx.updates import periodic_update as periodic_update

# --- transformations: scaling, momentum, decay ------------------------------
from gradtx.transforms.decay import AddDecayedWeightsState as AddDecayedWeightsState
from gradtx.transforms.decay import AddNoiseState as AddNoiseState
from gradtx.transforms.decay import add_decayed_weights as add_decayed_weights
from gradtx.transforms.decay import add_noise as add_noise
from gradtx.transforms.momentum import EmaState as EmaState
from gradtx.transforms.momentum import TraceState as TraceState
from gradtx.transforms.momentum import ema as ema
from gradtx.transforms.momentum import trace as trace
from gradtx.transforms.scaling import ScaleByScheduleState as ScaleByScheduleState
from gradtx.transforms.scaling import ScaleState as ScaleState
from gradtx.transforms.scaling import scale as scale
from gradtx.transforms.scaling import scale_by_learning_rate as scale_by_learning_rate
from gradtx.transforms.scaling import scale_by_schedule as scale_by_schedule
from gradtx.transforms.scaling import normalize_by_update_norm as normalize_by_update_norm

# --- transformations: Adam family --------------------------------------------
from gradtx.transforms.adam import ScaleByAdamState as ScaleByAdamState
from gradtx.transforms.adam import scale_by_adam as scale_by_adam
from gradtx.transforms.adam import ScaleByAmsgradState as ScaleByAmsgradState
from gradtx.transforms.adam import ScaleByBeliefState as ScaleByBeliefState
from gradtx.transforms.adam import ScaleByNovogradState as ScaleByNovogradState
from gradtx.transforms.adam import scale_by_adamax as scale_by_adamax
from gradtx.transforms.adam import scale_by_amsgrad as scale_by_amsgrad
from gradtx.transforms.adam import scale_by_belief as scale_by_belief
from gradtx.transforms.adam import scale_by_novograd as scale_by_novograd
from gradtx.transforms.adam import scale_by_radam as scale_by_radam
from gradtx.transforms.adam import scale_by_yogi as scale_by_yogi
from gradtx.transforms.trust_ratio import ScaleByTrustRatioState as ScaleByTrustRatioState
from gradtx.transforms.trust_ratio import scale_by_trust_ratio as scale_by_trust_ratio
# [adam-family transforms: helper A adds lines here]

# --- transformations: RMS, sign, factored, trust ratio -----------------------
# [other adaptive transforms: helper B adds lines here]
from gradtx.transforms.factored import FactoredState as FactoredState
from gradtx.transforms.factored import ScaleBySM3State as ScaleBySM3State
from gradtx.transforms.factored import scale_by_factored_rms as scale_by_factored_rms
from gradtx.transforms.factored import scale_by_sm3 as scale_by_sm3
from gradtx.transforms.rms import ScaleByAdaDeltaState as ScaleByAdaDeltaState
from gradtx.transforms.rms import ScaleByRStdDevState as ScaleByRStdDevState
from gradtx.transforms.rms import ScaleByRStdDevWithCountState as ScaleByRStdDevWithCountState
from gradtx.transforms.rms import ScaleByRmsState as ScaleByRmsState
from gradtx.transforms.rms import ScaleByRmsWithCountState as ScaleByRmsWithCountState
from gradtx.transforms.rms import ScaleByRssState as ScaleByRssState
from gradtx.transforms.rms import scale_by_adadelta as scale_by_adadelta
from gradtx.transforms.rms import scale_by_param_block_rms as scale_by_param_block_rms
from gradtx.transforms.rms import scale_by_param_block_norm as scale_by_param_block_norm
from gradtx.transforms.rms import scale_by_rms as scale_by_rms
from gradtx.transforms.rms import scale_by_rss as scale_by_rss
from gradtx.transforms.rms import scale_by_stddev as scale_by_stddev
from gradtx.transforms.sign import ScaleByLionState as ScaleByLionState
from gradtx.transforms.sign import ScaleBySignState as ScaleBySignState
from gradtx.transforms.sign import scale_by_lion as scale_by_lion
from gradtx.transforms.sign import scale_by_sign as scale_by_sign

# --- transformations: clipping and constraints -------------------------------
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
# [clipping/constraints: helper C adds lines here]

# --- optimizers ----------------------------------------------------------------
from gradtx.optimizers.adam import adam as adam
from gradtx.optimizers.adam import adamw as adamw
from gradtx.optimizers.adam import adabelief as adabelief
from gradtx.optimizers.adam import adamax as adamax
from gradtx.optimizers.adam import adamaxw as adamaxw
from gradtx.optimizers.adam import amsgrad as amsgrad
from gradtx.optimizers.adam import nadam as nadam
from gradtx.optimizers.adam import nadamw as nadamw
from gradtx.optimizers.adam import novograd as novograd
from gradtx.optimizers.adam import radam as radam
from gradtx.optimizers.adam import yogi as yogi
from gradtx.optimizers.layerwise import fromage as fromage
from gradtx.optimizers.layerwise import lamb as lamb
from gradtx.optimizers.layerwise import lars as lars
# [adam-family optimizers: helper A adds lines here]
# [other optimizers: helper B adds lines here]
from gradtx.optimizers.adaptive import adadelta as adadelta
from gradtx.optimizers.adaptive import adafactor as adafactor
from gradtx.optimizers.adaptive import adagrad as adagrad
from gradtx.optimizers.adaptive import rmsprop as rmsprop
from gradtx.optimizers.adaptive import sm3 as sm3
from gradtx.optimizers.sgd import noisy_sgd as noisy_sgd
from gradtx.optimizers.sgd import sgd as sgd
from gradtx.optimizers.sgd import sign_sgd as sign_sgd
from gradtx.optimizers.sgd import signum as signum
from gradtx.optimizers.sign import lion as lion

# --- schedules -------------------------------------------------------------------
# [schedules: helper D adds lines here]
from gradtx import schedules as schedules
from gradtx.schedules.basic import constant_schedule as constant_schedule
from gradtx.schedules.basic import exponential_decay as exponential_decay
from gradtx.schedules.basic import join_schedules as join_schedules
from gradtx.schedules.basic import linear_schedule as linear_schedule
from gradtx.schedules.basic import piecewise_constant_schedule as piecewise_constant_schedule
from gradtx.schedules.basic import piecewise_interpolate_schedule as piecewise_interpolate_schedule
from gradtx.schedules.basic import polynomial_schedule as polynomial_schedule
from gradtx.schedules.cosine import cosine_decay_schedule as cosine_decay_schedule
from gradtx.schedules.cosine import cosine_onecycle_schedule as cosine_onecycle_schedule
from gradtx.schedules.cosine import linear_onecycle_schedule as linear_onecycle_schedule
from gradtx.schedules.cosine import sgdr_schedule as sgdr_schedule
from gradtx.schedules.cosine import warmup_constant_schedule as warmup_constant_schedule
from gradtx.schedules.cosine import warmup_cosine_decay_schedule as warmup_cosine_decay_schedule
from gradtx.schedules.cosine import warmup_exponential_decay_schedule as warmup_exponential_decay_schedule
from gradtx.schedules.huggingface import constant_schedule_with_warmup as constant_schedule_with_warmup
from gradtx.schedules.huggingface import cosine_schedule_with_warmup as cosine_schedule_with_warmup
from gradtx.schedules.huggingface import cosine_with_hard_restarts_schedule_with_warmup as cosine_with_hard_restarts_schedule_with_warmup
from gradtx.schedules.huggingface import cosine_with_min_lr_schedule_with_warmup as cosine_with_min_lr_schedule_with_warmup
from gradtx.schedules.huggingface import inverse_sqrt_schedule as inverse_sqrt_schedule
from gradtx.schedules.huggingface import linear_schedule_with_warmup as linear_schedule_with_warmup
from gradtx.schedules.huggingface import polynomial_decay_schedule_with_warmup as polynomial_decay_schedule_with_warmup
from gradtx.schedules.huggingface import wsd_schedule as wsd_schedule
from gradtx.schedules.keras import cosine_decay as cosine_decay
from gradtx.schedules.keras import cosine_decay_restarts as cosine_decay_restarts
from gradtx.schedules.keras import inverse_time_decay as inverse_time_decay
from gradtx.schedules.keras import piecewise_constant_decay as piecewise_constant_decay
from gradtx.schedules.keras import polynomial_decay as polynomial_decay
from gradtx.schedules.mindspore import cosine_decay_lr as cosine_decay_lr
from gradtx.schedules.mindspore import exponential_decay_lr as exponential_decay_lr
from gradtx.schedules.mindspore import inverse_decay_lr as inverse_decay_lr
from gradtx.schedules.mindspore import natural_exp_decay as natural_exp_decay
from gradtx.schedules.mindspore import natural_exp_decay_lr as natural_exp_decay_lr
from gradtx.schedules.mindspore import piecewise_constant_lr as piecewise_constant_lr
from gradtx.schedules.mindspore import polynomial_decay_lr as polynomial_decay_lr
from gradtx.schedules.mindspore import schedule_from_values as schedule_from_values
from gradtx.schedules.mindspore import warmup_lr as warmup_lr
from gradtx.schedules.mxnet import cosine_scheduler as cosine_scheduler
from gradtx.schedules.mxnet import factor_scheduler as factor_scheduler
from gradtx.schedules.mxnet import multi_factor_scheduler as multi_factor_scheduler
from gradtx.schedules.mxnet import poly_scheduler as poly_scheduler
from gradtx.schedules.torch import cosine_annealing_lr as cosine_annealing_lr
from gradtx.schedules.torch import cosine_annealing_warm_restarts as cosine_annealing_warm_restarts
from gradtx.schedules.torch import cyclic_lr as cyclic_lr
from gradtx.schedules.torch import exponential_lr as exponential_lr
from gradtx.schedules.torch import linear_lr as linear_lr
from gradtx.schedules.torch import multi_step_lr as multi_step_lr
from gradtx.schedules.torch import one_cycle_lr as one_cycle_lr
from gradtx.schedules.torch import polynomial_lr as polynomial_lr
from gradtx.schedules.torch import step_lr as step_lr
# stateful schedules (D2)
from gradtx.schedules.stopping import EarlyStopping as EarlyStopping
from gradtx.schedules.stopping import EarlyStoppingState as EarlyStoppingState
from gradtx.schedules.stopping import early_stopping as early_stopping
from gradtx.schedules.inject import InjectHyperparamsState as InjectHyperparamsState
from gradtx.schedules.inject import InjectStatefulHyperparamsState as InjectStatefulHyperparamsState
from gradtx.schedules.inject import WrappedSchedule as WrappedSchedule
from gradtx.schedules.inject import WrappedScheduleState as WrappedScheduleState
from gradtx.schedules.inject import current_learning_rate as current_learning_rate
from gradtx.schedules.inject import find_hyperparams as find_hyperparams
from gradtx.schedules.inject import inject_hyperparams as inject_hyperparams
from gradtx.schedules.inject import inject_stateful_hyperparams as inject_stateful_hyperparams
from gradtx.schedules.inject import set_hyperparams as set_hyperparams
from gradtx.schedules.plateau import ReduceLROnPlateauState as ReduceLROnPlateauState
from gradtx.schedules.plateau import keras_reduce_on_plateau as keras_reduce_on_plateau
from gradtx.schedules.plateau import plateau_scale as plateau_scale
from gradtx.schedules.plateau import reduce_on_plateau as reduce_on_plateau
from gradtx.schedules.plateau import torch_reduce_on_plateau as torch_reduce_on_plateau

# --- wrappers ----------------------------------------------------------------------
from gradtx.wrappers.masking import MaskedNode as MaskedNode
from gradtx.wrappers.masking import MaskedState as MaskedState
from gradtx.wrappers.masking import masked as masked
from gradtx.wrappers.masking import MaskOrFn as MaskOrFn
# [wrappers: helper E adds lines here]
from gradtx.wrappers.accumulate import MultiSteps as MultiSteps
from gradtx.wrappers.accumulate import MultiStepsState as MultiStepsState
from gradtx.wrappers.conditional import ApplyEvery as ApplyEvery
from gradtx.wrappers.conditional import ConditionallyMaskState as ConditionallyMaskState
from gradtx.wrappers.conditional import ConditionallyTransformState as ConditionallyTransformState
from gradtx.wrappers.conditional import apply_every as apply_every
from gradtx.wrappers.conditional import conditionally_mask as conditionally_mask
from gradtx.wrappers.conditional import conditionally_transform as conditionally_transform
from gradtx.wrappers.finite import ApplyIfFiniteState as ApplyIfFiniteState
from gradtx.wrappers.finite import ShouldSkipUpdateFunction as ShouldSkipUpdateFunction
from gradtx.wrappers.finite import apply_if_finite as apply_if_finite
from gradtx.wrappers.finite import skip_large_updates as skip_large_updates
from gradtx.wrappers.finite import skip_not_finite as skip_not_finite
from gradtx.wrappers.flatten import flatten as flatten
from gradtx.wrappers.lookahead import LookaheadParams as LookaheadParams
from gradtx.wrappers.lookahead import LookaheadState as LookaheadState
from gradtx.wrappers.lookahead import lookahead as lookahead
from gradtx.wrappers.monitor import MonitorState as MonitorState
from gradtx.wrappers.monitor import SnapshotState as SnapshotState
from gradtx.wrappers.monitor import measure_with_ema as measure_with_ema
from gradtx.wrappers.monitor import monitor as monitor
from gradtx.wrappers.monitor import snapshot as snapshot
from gradtx.wrappers.param_groups import GroupAssignment as GroupAssignment
from gradtx.wrappers.param_groups import ParamGroups as ParamGroups
from gradtx.wrappers.param_groups import layerwise_lr_decay as layerwise_lr_decay
from gradtx.wrappers.param_groups import param_groups as param_groups
from gradtx.wrappers.param_groups import path_labels as path_labels
from gradtx.wrappers.param_groups import path_mask as path_mask
from gradtx.wrappers.partition import MultiTransformState as MultiTransformState
from gradtx.wrappers.partition import PartitionState as PartitionState
from gradtx.wrappers.partition import freeze as freeze
from gradtx.wrappers.partition import multi_transform as multi_transform
from gradtx.wrappers.partition import partition as partition
from gradtx.wrappers.partition import selective_transform as selective_transform

# --- mixed precision ----------------------------------------------------------------
# [mixed precision: helper F adds lines here]
from gradtx import mixed_precision as mixed_precision
from gradtx.mixed_precision import DynamicLossScale as DynamicLossScale
from gradtx.mixed_precision import LossScale as LossScale
from gradtx.mixed_precision import MasterWeightsState as MasterWeightsState
from gradtx.mixed_precision import NoOpLossScale as NoOpLossScale
from gradtx.mixed_precision import Policy as Policy
from gradtx.mixed_precision import StaticLossScale as StaticLossScale
from gradtx.mixed_precision import WithLossScaleState as WithLossScaleState
from gradtx.mixed_precision import all_finite as all_finite
from gradtx.mixed_precision import get_policy as get_policy
from gradtx.mixed_precision import keras_loss_scale as keras_loss_scale
from gradtx.mixed_precision import mindspore_loss_scale as mindspore_loss_scale
from gradtx.mixed_precision import select_tree as select_tree
from gradtx.mixed_precision import torch_grad_scaler as torch_grad_scaler
from gradtx.mixed_precision import with_loss_scale as with_loss_scale
from gradtx.mixed_precision import with_master_weights as with_master_weights

__version__ = '0.1.0'
