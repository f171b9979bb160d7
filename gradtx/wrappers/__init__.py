"""Wrappers that add behaviour to any transformation.

Masking and partitions, gradient accumulation, conditional and finite-only
updates, lookahead, monitoring and parameter groups.
"""


from gradtx._masking import MaskedNode as MaskedNode
from gradtx._masking import MaskedState as MaskedState
from gradtx._masking import MaskOrFn as MaskOrFn
from gradtx._masking import masked as masked
from gradtx.wrappers.accumulate import MultiSteps as MultiSteps
from gradtx.wrappers.accumulate import MultiStepsState as MultiStepsState
from gradtx.wrappers.conditional import ApplyEvery as ApplyEvery
from gradtx.wrappers.conditional import ConditionFn as ConditionFn
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

__all__ = [
    'apply_every',
    'apply_if_finite',
    'ApplyEvery',
    'ApplyIfFiniteState',
    'conditionally_mask',
    'conditionally_transform',
    'ConditionFn',
    'ConditionallyMaskState',
    'ConditionallyTransformState',
    'flatten',
    'freeze',
    'GroupAssignment',
    'layerwise_lr_decay',
    'lookahead',
    'LookaheadParams',
    'LookaheadState',
    'masked',
    'MaskedNode',
    'MaskedState',
    'MaskOrFn',
    'measure_with_ema',
    'monitor',
    'MonitorState',
    'multi_transform',
    'MultiSteps',
    'MultiStepsState',
    'MultiTransformState',
    'param_groups',
    'ParamGroups',
    'partition',
    'PartitionState',
    'path_labels',
    'path_mask',
    'selective_transform',
    'ShouldSkipUpdateFunction',
    'skip_large_updates',
    'skip_not_finite',
    'snapshot',
    'SnapshotState',
]
