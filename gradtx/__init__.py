"""gradtx: composable gradient transformations for JAX.

The top level gathers the public faces of the subpackages, so every public
name is reachable as ``gradtx.<name>``:

* the core protocol and its helpers (this file: :mod:`gradtx.base`,
  :mod:`gradtx.numerics`, :mod:`gradtx.updates`);
* :mod:`gradtx.transforms`, :mod:`gradtx.optimizers`, :mod:`gradtx.wrappers`,
  :mod:`gradtx.schedules`, :mod:`gradtx.stateful_schedules`,
  :mod:`gradtx.mixed_precision` and :mod:`gradtx.losses`, each of which lists
  its names in ``__all__``;
* namespaces kept apart, as Optax keeps them: :mod:`gradtx.contrib`,
  :mod:`gradtx.projections`, the framework recipes of :mod:`gradtx.compat`, and
  :mod:`gradtx.distributed` for sharded and multi-process training, and
  :mod:`gradtx.checkpoint` for Orbax checkpoints and exact resume, and
  :mod:`gradtx.fast` for the flat-buffer fast path on many-leaf models;
* the tree helpers stay under :mod:`gradtx.tree` (and Optax's spelling under
  :mod:`gradtx.tree_utils`), with the few Optax keeps at its top level.

A name is added to its subpackage's ``__init__``; nothing is listed here twice.
"""

from gradtx import checkpoint as checkpoint
from gradtx import compat as compat
from gradtx import contrib as contrib
from gradtx import distributed as distributed
from gradtx import fast as fast
from gradtx import projections as projections
from gradtx import tree as tree
from gradtx import tree_utils as tree_utils

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
from gradtx.numerics import safe_increment as safe_int32_increment  # Optax's older name
from gradtx.numerics import safe_norm as safe_norm
from gradtx.numerics import safe_root_mean_squares as safe_root_mean_squares
from gradtx.numerics import scale_gradient as scale_gradient
from gradtx.updates import apply_updates as apply_updates
from gradtx.updates import incremental_update as incremental_update
from gradtx.updates import periodic_update as periodic_update
from gradtx.tree import bias_correction as bias_correction
from gradtx.tree import map_params as tree_map_params
from gradtx.tree import update_infinity_moment as update_infinity_moment
from gradtx.tree import update_moment as update_moment
from gradtx.tree import update_moment_per_elem_norm as update_moment_per_elem_norm

# The subpackages' public faces: each ``__all__`` is the list of its names.
from gradtx import losses as losses
from gradtx import mixed_precision as mixed_precision
from gradtx import optimizers as optimizers
from gradtx import schedules as schedules
from gradtx import stateful_schedules as stateful_schedules
from gradtx import transforms as transforms
from gradtx import wrappers as wrappers
from gradtx.losses import *  # noqa: F401,F403
from gradtx.mixed_precision import *  # noqa: F401,F403
from gradtx.optimizers import *  # noqa: F401,F403
from gradtx.schedules import *  # noqa: F401,F403
from gradtx.stateful_schedules import *  # noqa: F401,F403
from gradtx.transforms import *  # noqa: F401,F403
from gradtx.wrappers import *  # noqa: F401,F403

# Tools that belong to one subpackage and read badly at the top level
# (``gradtx.plot`` would not say what it plots).
_FACE_ONLY = ('plot', 'evaluate_schedule')
del plot, evaluate_schedule  # noqa: F821

_CORE = [
    'EmptyState',
    'GradientTransformation',
    'GradientTransformationExtraArgs',
    'OptState',
    'Params',
    'ScalarOrSchedule',
    'Schedule',
    'TransformInitFn',
    'TransformUpdateExtraArgsFn',
    'TransformUpdateFn',
    'Updates',
    'chain',
    'identity',
    'init_empty_state',
    'named_chain',
    'set_to_zero',
    'stateless',
    'stateless_with_tree_map',
    'transformation',
    'transformation_with_extra_args',
    'with_extra_args_support',
    'global_norm',
    'safe_increment',
    'safe_int32_increment',
    'safe_norm',
    'safe_root_mean_squares',
    'scale_gradient',
    'apply_updates',
    'incremental_update',
    'periodic_update',
    'bias_correction',
    'tree_map_params',
    'update_infinity_moment',
    'update_moment',
    'update_moment_per_elem_norm',
]

__all__ = sorted(
    set(_CORE).union(
        losses.__all__, mixed_precision.__all__, optimizers.__all__, schedules.__all__,
        stateful_schedules.__all__, transforms.__all__, wrappers.__all__,
    ).difference(_FACE_ONLY),
    key=str.lower,
)

__version__ = '0.1.0'
