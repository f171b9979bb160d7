"""Recent optimizers, with the names, signatures and defaults of ``optax.contrib``.

Each lives in a private module named after its idea (``_muon.py``,
``_schedule_free.py``, ``_dog.py``, ...); this face re-exports the public
names. ``reduce_on_plateau`` is re-exported from
:mod:`gradtx.stateful_schedules`, where Optax code finds it as
``optax.contrib.reduce_on_plateau``. See ``docs/contrib.md`` and
``docs/contrib-more.md`` for the update rules and references.
"""

from gradtx.contrib._acprop import acprop as acprop
from gradtx.contrib._acprop import scale_by_acprop as scale_by_acprop
from gradtx.contrib._ademamix import ScaleByAdemamixState as ScaleByAdemamixState
from gradtx.contrib._ademamix import ScaleBySimplifiedAdEMAMixState as ScaleBySimplifiedAdEMAMixState
from gradtx.contrib._ademamix import ademamix as ademamix
from gradtx.contrib._ademamix import scale_by_ademamix as scale_by_ademamix
from gradtx.contrib._ademamix import scale_by_simplified_ademamix as scale_by_simplified_ademamix
from gradtx.contrib._ademamix import simplified_ademamix as simplified_ademamix
from gradtx.contrib._adopt import adopt as adopt
from gradtx.contrib._adopt import scale_by_adopt as scale_by_adopt
from gradtx.contrib._cocob import COCOBState as COCOBState
from gradtx.contrib._cocob import cocob as cocob
from gradtx.contrib._cocob import scale_by_cocob as scale_by_cocob
from gradtx.contrib._complex_valued import SplitRealAndImaginaryState as SplitRealAndImaginaryState
from gradtx.contrib._complex_valued import split_real_and_imaginary as split_real_and_imaginary
from gradtx.contrib._dadapt_adamw import DAdaptAdamWState as DAdaptAdamWState
from gradtx.contrib._dadapt_adamw import dadapt_adamw as dadapt_adamw
from gradtx.contrib._dog import DoGState as DoGState
from gradtx.contrib._dog import DoWGState as DoWGState
from gradtx.contrib._dog import dog as dog
from gradtx.contrib._dog import dowg as dowg
from gradtx.contrib._galore import GaLoreDimensionNumbers as GaLoreDimensionNumbers
from gradtx.contrib._galore import GaLoreState as GaLoreState
from gradtx.contrib._galore import galore as galore
from gradtx.contrib._galore import scale_by_galore as scale_by_galore
from gradtx.contrib._madgrad import MadgradState as MadgradState
from gradtx.contrib._madgrad import madgrad as madgrad
from gradtx.contrib._madgrad import scale_by_madgrad as scale_by_madgrad
from gradtx.contrib._mechanic import MechanicState as MechanicState
from gradtx.contrib._mechanic import mechanize as mechanize
from gradtx.contrib._momo import MomoAdamState as MomoAdamState
from gradtx.contrib._momo import MomoState as MomoState
from gradtx.contrib._momo import momo as momo
from gradtx.contrib._momo import momo_adam as momo_adam
from gradtx.contrib._muon import MuonDimensionNumbers as MuonDimensionNumbers
from gradtx.contrib._muon import MuonState as MuonState
from gradtx.contrib._muon import muon as muon
from gradtx.contrib._muon import orthogonalize_via_newton_schulz as orthogonalize_via_newton_schulz
from gradtx.contrib._muon import scale_by_muon as scale_by_muon
from gradtx.contrib._normalize import NormalizeState as NormalizeState
from gradtx.contrib._normalize import normalize as normalize
from gradtx.contrib._privacy import DifferentiallyPrivateAggregateState as DifferentiallyPrivateAggregateState
from gradtx.contrib._privacy import differentially_private_aggregate as differentially_private_aggregate
from gradtx.contrib._privacy import dpsgd as dpsgd
from gradtx.contrib._prodigy import ProdigyState as ProdigyState
from gradtx.contrib._prodigy import prodigy as prodigy
from gradtx.contrib._sam import SAMState as SAMState
from gradtx.contrib._sam import sam as sam
from gradtx.contrib._schedule_free import ScheduleFreeState as ScheduleFreeState
from gradtx.contrib._schedule_free import schedule_free as schedule_free
from gradtx.contrib._schedule_free import schedule_free_adamw as schedule_free_adamw
from gradtx.contrib._schedule_free import schedule_free_eval_params as schedule_free_eval_params
from gradtx.contrib._schedule_free import schedule_free_sgd as schedule_free_sgd
from gradtx.contrib._sophia import HutchinsonState as HutchinsonState
from gradtx.contrib._sophia import SophiaState as SophiaState
from gradtx.contrib._sophia import hutchinson_estimator_diag_hessian as hutchinson_estimator_diag_hessian
from gradtx.contrib._sophia import sophia as sophia
from gradtx.stateful_schedules.plateau import ReduceLROnPlateauState as ReduceLROnPlateauState
from gradtx.stateful_schedules.plateau import reduce_on_plateau as reduce_on_plateau

__all__ = [
    'acprop',
    'ademamix',
    'adopt',
    'cocob',
    'COCOBState',
    'dadapt_adamw',
    'DAdaptAdamWState',
    'differentially_private_aggregate',
    'DifferentiallyPrivateAggregateState',
    'dog',
    'DoGState',
    'dowg',
    'DoWGState',
    'dpsgd',
    'galore',
    'GaLoreDimensionNumbers',
    'GaLoreState',
    'hutchinson_estimator_diag_hessian',
    'HutchinsonState',
    'madgrad',
    'MadgradState',
    'MechanicState',
    'mechanize',
    'momo',
    'momo_adam',
    'MomoAdamState',
    'MomoState',
    'muon',
    'MuonDimensionNumbers',
    'MuonState',
    'normalize',
    'NormalizeState',
    'orthogonalize_via_newton_schulz',
    'prodigy',
    'ProdigyState',
    'reduce_on_plateau',
    'ReduceLROnPlateauState',
    'sam',
    'SAMState',
    'scale_by_acprop',
    'scale_by_ademamix',
    'scale_by_adopt',
    'scale_by_cocob',
    'scale_by_galore',
    'scale_by_madgrad',
    'scale_by_muon',
    'scale_by_simplified_ademamix',
    'ScaleByAdemamixState',
    'ScaleBySimplifiedAdEMAMixState',
    'schedule_free',
    'schedule_free_adamw',
    'schedule_free_eval_params',
    'schedule_free_sgd',
    'ScheduleFreeState',
    'simplified_ademamix',
    'sophia',
    'SophiaState',
    'split_real_and_imaginary',
    'SplitRealAndImaginaryState',
]
