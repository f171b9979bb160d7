"""Hugging Face ``transformers.optimization``: every schedule and Adafactor.

See :mod:`gradtx.compat.hf.optimization`.
"""

from gradtx.compat.hf import optimization as optimization
from gradtx.compat.hf.optimization import Adafactor as Adafactor
from gradtx.compat.hf.optimization import AdafactorState as AdafactorState
from gradtx.compat.hf.optimization import get_constant_schedule as get_constant_schedule
from gradtx.compat.hf.optimization import get_constant_schedule_with_warmup as get_constant_schedule_with_warmup
from gradtx.compat.hf.optimization import get_cosine_schedule_with_warmup as get_cosine_schedule_with_warmup
from gradtx.compat.hf.optimization import get_cosine_with_hard_restarts_schedule_with_warmup as get_cosine_with_hard_restarts_schedule_with_warmup
from gradtx.compat.hf.optimization import get_cosine_with_min_lr_schedule_with_warmup as get_cosine_with_min_lr_schedule_with_warmup
from gradtx.compat.hf.optimization import get_cosine_with_min_lr_schedule_with_warmup_lr_rate as get_cosine_with_min_lr_schedule_with_warmup_lr_rate
from gradtx.compat.hf.optimization import get_inverse_sqrt_schedule as get_inverse_sqrt_schedule
from gradtx.compat.hf.optimization import get_linear_schedule_with_warmup as get_linear_schedule_with_warmup
from gradtx.compat.hf.optimization import get_polynomial_decay_schedule_with_warmup as get_polynomial_decay_schedule_with_warmup
from gradtx.compat.hf.optimization import get_reduce_on_plateau_schedule as get_reduce_on_plateau_schedule
from gradtx.compat.hf.optimization import get_scheduler as get_scheduler
from gradtx.compat.hf.optimization import get_wsd_schedule as get_wsd_schedule

__all__ = [
    'optimization', 'Adafactor', 'AdafactorState', 'get_scheduler',
    'get_reduce_on_plateau_schedule',
    'get_constant_schedule', 'get_constant_schedule_with_warmup',
    'get_linear_schedule_with_warmup', 'get_cosine_schedule_with_warmup',
    'get_cosine_with_hard_restarts_schedule_with_warmup',
    'get_polynomial_decay_schedule_with_warmup', 'get_inverse_sqrt_schedule',
    'get_cosine_with_min_lr_schedule_with_warmup',
    'get_cosine_with_min_lr_schedule_with_warmup_lr_rate', 'get_wsd_schedule',
]
