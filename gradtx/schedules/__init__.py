"""Learning-rate schedules: pure, jittable functions of the step count.

* Optax's schedules, with Optax's names, signatures and values:
  :mod:`gradtx.schedules.basic` and :mod:`gradtx.schedules.cosine`.
* The policies of other frameworks, named after the class or function they
  reproduce: :mod:`~gradtx.schedules.torch` (PyTorch ``lr_scheduler``),
  :mod:`~gradtx.schedules.keras`, :mod:`~gradtx.schedules.mindspore`,
  :mod:`~gradtx.schedules.mxnet` and :mod:`~gradtx.schedules.huggingface`.
* :func:`plot` and :func:`evaluate_schedule` to see a curve before training.

Policies that keep state of their own (reduce on plateau, early stopping,
injected hyperparameters) are not functions of the step alone; they live in
:mod:`gradtx.stateful_schedules`.

Every schedule takes an int32 step (a Python int, an array or a tracer) and
uses no Python control flow on it, so it works under ``jit`` and ``vmap``.
"""

from __future__ import annotations

from gradtx.base import Schedule as Schedule
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
from gradtx.schedules.plot import evaluate_schedule as evaluate_schedule
from gradtx.schedules.plot import plot as plot
from gradtx.schedules.torch import cosine_annealing_lr as cosine_annealing_lr
from gradtx.schedules.torch import cosine_annealing_warm_restarts as cosine_annealing_warm_restarts
from gradtx.schedules.torch import cyclic_lr as cyclic_lr
from gradtx.schedules.torch import exponential_lr as exponential_lr
from gradtx.schedules.torch import linear_lr as linear_lr
from gradtx.schedules.torch import multi_step_lr as multi_step_lr
from gradtx.schedules.torch import one_cycle_lr as one_cycle_lr
from gradtx.schedules.torch import polynomial_lr as polynomial_lr
from gradtx.schedules.torch import step_lr as step_lr

# Optax keeps its stateful-hyperparameter wrappers in ``optax.schedules``;
# they live in :mod:`gradtx.stateful_schedules` and are re-exported here so
# that ``optax.schedules.inject_hyperparams`` code runs unchanged.
from gradtx.stateful_schedules import InjectHyperparamsState as InjectHyperparamsState
from gradtx.stateful_schedules import InjectStatefulHyperparamsState as InjectStatefulHyperparamsState
from gradtx.stateful_schedules import StatefulSchedule as StatefulSchedule
from gradtx.stateful_schedules import WrappedSchedule as WrappedSchedule
from gradtx.stateful_schedules import inject_hyperparams as inject_hyperparams
from gradtx.stateful_schedules import inject_stateful_hyperparams as inject_stateful_hyperparams

__all__ = [
    'Schedule',
    'constant_schedule',
    'constant_schedule_with_warmup',
    'cosine_annealing_lr',
    'cosine_annealing_warm_restarts',
    'cosine_decay',
    'cosine_decay_lr',
    'cosine_decay_restarts',
    'cosine_decay_schedule',
    'cosine_onecycle_schedule',
    'cosine_schedule_with_warmup',
    'cosine_scheduler',
    'cosine_with_hard_restarts_schedule_with_warmup',
    'cosine_with_min_lr_schedule_with_warmup',
    'cyclic_lr',
    'evaluate_schedule',
    'exponential_decay',
    'exponential_decay_lr',
    'exponential_lr',
    'factor_scheduler',
    'inject_hyperparams',
    'inject_stateful_hyperparams',
    'InjectHyperparamsState',
    'InjectStatefulHyperparamsState',
    'inverse_decay_lr',
    'inverse_sqrt_schedule',
    'inverse_time_decay',
    'join_schedules',
    'linear_lr',
    'linear_onecycle_schedule',
    'linear_schedule',
    'linear_schedule_with_warmup',
    'multi_factor_scheduler',
    'multi_step_lr',
    'natural_exp_decay',
    'natural_exp_decay_lr',
    'one_cycle_lr',
    'piecewise_constant_decay',
    'piecewise_constant_lr',
    'piecewise_constant_schedule',
    'piecewise_interpolate_schedule',
    'plot',
    'poly_scheduler',
    'polynomial_decay',
    'polynomial_decay_lr',
    'polynomial_decay_schedule_with_warmup',
    'polynomial_lr',
    'polynomial_schedule',
    'schedule_from_values',
    'sgdr_schedule',
    'StatefulSchedule',
    'step_lr',
    'warmup_constant_schedule',
    'warmup_cosine_decay_schedule',
    'warmup_exponential_decay_schedule',
    'warmup_lr',
    'WrappedSchedule',
    'wsd_schedule',
]
