"""Wrappers that add behaviour to any transformation.

Masking and partitions, gradient accumulation, conditional and finite-only
updates, lookahead, monitoring and parameter groups.
"""


from gradtx._masking import MaskedNode as MaskedNode
from gradtx._masking import MaskedState as MaskedState
from gradtx._masking import MaskOrFn as MaskOrFn
from gradtx._masking import masked as masked
from gradtx.wrappers._accumulate import MultiSteps as MultiSteps
from gradtx.wrappers._accumulate import MultiStepsState as MultiStepsState
from gradtx.wrappers._conditional import ApplyEvery as ApplyEvery
from gradtx.wrappers._conditional import ConditionFn as ConditionFn
from gradtx.wrappers._conditional import ConditionallyMaskState as ConditionallyMaskState
from gradtx.wrappers._conditional import ConditionallyTransformState as ConditionallyTransformState
from gradtx.wrappers._conditional import apply_every as apply_every
from gradtx.wrappers._conditional import conditionally_mask as conditionally_mask
from gradtx.wrappers._conditional import conditionally_transform as conditionally_transform
from gradtx.wrappers._finite import ApplyIfFiniteState as ApplyIfFiniteState
from gradtx.wrappers._finite import ShouldSkipUpdateFunction as ShouldSkipUpdateFunction
from gradtx.wrappers._finite import apply_if_finite as apply_if_finite
from gradtx.wrappers._finite import skip_large_updates as skip_large_updates
from gradtx.wrappers._finite import skip_not_finite as skip_not_finite
from gradtx.wrappers._flatten import flatten as flatten
from gradtx.wrappers._lookahead import LookaheadParams as LookaheadParams
from gradtx.wrappers._lookahead import LookaheadState as LookaheadState
from gradtx.wrappers._lookahead import lookahead as lookahead
from gradtx.wrappers._monitor import MonitorState as MonitorState
from gradtx.wrappers._monitor import SnapshotState as SnapshotState
from gradtx.wrappers._monitor import measure_with_ema as measure_with_ema
from gradtx.wrappers._monitor import monitor as monitor
from gradtx.wrappers._monitor import snapshot as snapshot
from gradtx.wrappers._param_groups import GroupAssignment as GroupAssignment
from gradtx.wrappers._param_groups import ParamGroups as ParamGroups
from gradtx.wrappers._param_groups import layerwise_lr_decay as layerwise_lr_decay
from gradtx.wrappers._param_groups import param_groups as param_groups
from gradtx.wrappers._param_groups import path_labels as path_labels
from gradtx.wrappers._param_groups import path_mask as path_mask
from gradtx.wrappers._partition import MultiTransformState as MultiTransformState
from gradtx.wrappers._partition import PartitionState as PartitionState
from gradtx.wrappers._partition import freeze as freeze
from gradtx.wrappers._partition import multi_transform as multi_transform
from gradtx.wrappers._partition import partition as partition
from gradtx.wrappers._partition import selective_transform as selective_transform

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
