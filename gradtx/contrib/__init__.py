"""Recent optimizers, with the names, signatures and defaults of ``optax.contrib``.

Each lives in a private module named after its idea (``_muon.py``,
``_schedule_free.py``, ...); this face re-exports the public names.
See ``docs/contrib.md`` for the update rules and references.
"""

# --- contrib part A ----------------------------------------------------------
from gradtx.contrib._adopt import adopt as adopt
from gradtx.contrib._adopt import scale_by_adopt as scale_by_adopt
from gradtx.contrib._ademamix import ScaleByAdemamixState as ScaleByAdemamixState
from gradtx.contrib._ademamix import ScaleBySimplifiedAdEMAMixState as ScaleBySimplifiedAdEMAMixState
from gradtx.contrib._ademamix import ademamix as ademamix
from gradtx.contrib._ademamix import scale_by_ademamix as scale_by_ademamix
from gradtx.contrib._ademamix import scale_by_simplified_ademamix as scale_by_simplified_ademamix
from gradtx.contrib._ademamix import simplified_ademamix as simplified_ademamix
from gradtx.contrib._dadapt_adamw import DAdaptAdamWState as DAdaptAdamWState
from gradtx.contrib._dadapt_adamw import dadapt_adamw as dadapt_adamw
from gradtx.contrib._madgrad import MadgradState as MadgradState
from gradtx.contrib._madgrad import madgrad as madgrad
from gradtx.contrib._madgrad import scale_by_madgrad as scale_by_madgrad
from gradtx.contrib._muon import MuonDimensionNumbers as MuonDimensionNumbers
from gradtx.contrib._muon import MuonState as MuonState
from gradtx.contrib._muon import muon as muon
from gradtx.contrib._muon import orthogonalize_via_newton_schulz as orthogonalize_via_newton_schulz
from gradtx.contrib._muon import scale_by_muon as scale_by_muon
from gradtx.contrib._prodigy import ProdigyState as ProdigyState
from gradtx.contrib._prodigy import prodigy as prodigy
from gradtx.contrib._sam import SAMState as SAMState
from gradtx.contrib._sam import sam as sam
from gradtx.contrib._schedule_free import ScheduleFreeState as ScheduleFreeState
from gradtx.contrib._schedule_free import schedule_free as schedule_free
from gradtx.contrib._schedule_free import schedule_free_adamw as schedule_free_adamw
from gradtx.contrib._schedule_free import schedule_free_eval_params as schedule_free_eval_params
from gradtx.contrib._schedule_free import schedule_free_sgd as schedule_free_sgd
from gradtx.schedules.plateau import ReduceLROnPlateauState as ReduceLROnPlateauState
from gradtx.schedules.plateau import reduce_on_plateau as reduce_on_plateau

_PART_A = [
    'DAdaptAdamWState',
    'MadgradState',
    'MuonDimensionNumbers',
    'MuonState',
    'ProdigyState',
    'ReduceLROnPlateauState',
    'SAMState',
    'ScaleByAdemamixState',
    'ScaleBySimplifiedAdEMAMixState',
    'ScheduleFreeState',
    'adopt',
    'ademamix',
    'dadapt_adamw',
    'madgrad',
    'muon',
    'orthogonalize_via_newton_schulz',
    'prodigy',
    'reduce_on_plateau',
    'sam',
    'scale_by_ademamix',
    'scale_by_adopt',
    'scale_by_madgrad',
    'scale_by_muon',
    'scale_by_simplified_ademamix',
    'schedule_free',
    'schedule_free_adamw',
    'schedule_free_eval_params',
    'schedule_free_sgd',
    'simplified_ademamix',
]
# --- end of contrib part A ---------------------------------------------------

__all__ = _PART_A
