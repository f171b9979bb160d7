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
from gradtx.base import named_chain as named_chain
from gradtx.base import set_to_zero as set_to_zero
from gradtx.base import stateless as stateless
from gradtx.base import stateless_with_tree_map as stateless_with_tree_map
from gradtx.base import transformation as transformation
from gradtx.base import transformation_with_extra_args as transformation_with_extra_args
from gradtx.base import with_extra_args_support as with_extra_args_support
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

# --- transformations: Adam family --------------------------------------------
from gradtx.transforms.adam import ScaleByAdamState as ScaleByAdamState
from gradtx.transforms.adam import scale_by_adam as scale_by_adam
# [adam-family transforms: helper A adds lines here]

# --- transformations: RMS, sign, factored, trust ratio -----------------------
# [other adaptive transforms: helper B adds lines here]

# --- transformations: clipping and constraints -------------------------------
# [clipping/constraints: helper C adds lines here]

# --- optimizers ----------------------------------------------------------------
from gradtx.optimizers.adam import adam as adam
from gradtx.optimizers.adam import adamw as adamw
# [adam-family optimizers: helper A adds lines here]
# [other optimizers: helper B adds lines here]

# --- schedules -------------------------------------------------------------------
# [schedules: helper D adds lines here]

# --- wrappers ----------------------------------------------------------------------
from gradtx.wrappers.masking import MaskedNode as MaskedNode
from gradtx.wrappers.masking import MaskedState as MaskedState
from gradtx.wrappers.masking import masked as masked
# [wrappers: helper E adds lines here]

# --- mixed precision ----------------------------------------------------------------
# [mixed precision: helper F adds lines here]

__version__ = '0.1.0'
