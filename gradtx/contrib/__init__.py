"""Contributed optimizers under Optax's ``optax.contrib`` names."""

# --- contrib part B ---
from gradtx.contrib._acprop import acprop as acprop
from gradtx.contrib._acprop import scale_by_acprop as scale_by_acprop
from gradtx.contrib._cocob import COCOBState as COCOBState
from gradtx.contrib._cocob import cocob as cocob
from gradtx.contrib._cocob import scale_by_cocob as scale_by_cocob
from gradtx.contrib._complex_valued import SplitRealAndImaginaryState as SplitRealAndImaginaryState
from gradtx.contrib._complex_valued import split_real_and_imaginary as split_real_and_imaginary
from gradtx.contrib._dog import DoGState as DoGState
from gradtx.contrib._dog import DoWGState as DoWGState
from gradtx.contrib._dog import dog as dog
from gradtx.contrib._dog import dowg as dowg
from gradtx.contrib._galore import GaLoreDimensionNumbers as GaLoreDimensionNumbers
from gradtx.contrib._galore import GaLoreState as GaLoreState
from gradtx.contrib._galore import galore as galore
from gradtx.contrib._galore import scale_by_galore as scale_by_galore
from gradtx.contrib._mechanic import MechanicState as MechanicState
from gradtx.contrib._mechanic import mechanize as mechanize
from gradtx.contrib._momo import MomoAdamState as MomoAdamState
from gradtx.contrib._momo import MomoState as MomoState
from gradtx.contrib._momo import momo as momo
from gradtx.contrib._momo import momo_adam as momo_adam
from gradtx.contrib._normalize import NormalizeState as NormalizeState
from gradtx.contrib._normalize import normalize as normalize
from gradtx.contrib._privacy import DifferentiallyPrivateAggregateState as DifferentiallyPrivateAggregateState
from gradtx.contrib._privacy import differentially_private_aggregate as differentially_private_aggregate
from gradtx.contrib._privacy import dpsgd as dpsgd
from gradtx.contrib._sophia import HutchinsonState as HutchinsonState
from gradtx.contrib._sophia import SophiaState as SophiaState
from gradtx.contrib._sophia import hutchinson_estimator_diag_hessian as hutchinson_estimator_diag_hessian
from gradtx.contrib._sophia import sophia as sophia

_PART_B = [
    'COCOBState', 'DifferentiallyPrivateAggregateState', 'DoGState',
    'DoWGState', 'GaLoreDimensionNumbers', 'GaLoreState', 'HutchinsonState',
    'MechanicState', 'MomoAdamState', 'MomoState', 'NormalizeState',
    'SophiaState', 'SplitRealAndImaginaryState', 'acprop', 'cocob',
    'differentially_private_aggregate', 'dog', 'dowg', 'dpsgd', 'galore',
    'hutchinson_estimator_diag_hessian', 'mechanize', 'momo', 'momo_adam',
    'normalize', 'scale_by_acprop', 'scale_by_cocob', 'scale_by_galore',
    'sophia', 'split_real_and_imaginary',
]
# --- end contrib part B ---

__all__ = _PART_B
