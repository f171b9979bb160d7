"""Stateful hyperparameter policies: schedules that are not functions of the step.

A schedule in :mod:`gradtx.schedules` is a pure function of the step count.
The policies here keep state of their own and react to training:

* :func:`inject_hyperparams` moves hyperparameters into the optimizer state, so
  that they can be logged, changed between steps without recompiling, or driven
  by a :class:`WrappedSchedule` / stateful schedule;
* :func:`reduce_on_plateau` (and the PyTorch and Keras forms) scale the updates
  when a monitored metric stops improving;
* :func:`early_stopping` stops updating once a metric has not improved for a
  given number of evaluations.
"""

from gradtx.stateful_schedules.inject import InjectHyperparamsState as InjectHyperparamsState
from gradtx.stateful_schedules.inject import InjectStatefulHyperparamsState as InjectStatefulHyperparamsState
from gradtx.stateful_schedules.inject import StatefulSchedule as StatefulSchedule
from gradtx.stateful_schedules.inject import WrappedSchedule as WrappedSchedule
from gradtx.stateful_schedules.inject import WrappedScheduleState as WrappedScheduleState
from gradtx.stateful_schedules.inject import current_learning_rate as current_learning_rate
from gradtx.stateful_schedules.inject import find_hyperparams as find_hyperparams
from gradtx.stateful_schedules.inject import inject_hyperparams as inject_hyperparams
from gradtx.stateful_schedules.inject import inject_stateful_hyperparams as inject_stateful_hyperparams
from gradtx.stateful_schedules.inject import set_hyperparams as set_hyperparams
from gradtx.stateful_schedules.plateau import ReduceLROnPlateauState as ReduceLROnPlateauState
from gradtx.stateful_schedules.plateau import keras_reduce_on_plateau as keras_reduce_on_plateau
from gradtx.stateful_schedules.plateau import plateau_scale as plateau_scale
from gradtx.stateful_schedules.plateau import reduce_on_plateau as reduce_on_plateau
from gradtx.stateful_schedules.plateau import torch_reduce_on_plateau as torch_reduce_on_plateau
from gradtx.stateful_schedules.stopping import EarlyStopping as EarlyStopping
from gradtx.stateful_schedules.stopping import EarlyStoppingState as EarlyStoppingState
from gradtx.stateful_schedules.stopping import early_stopping as early_stopping

__all__ = [
    'current_learning_rate',
    'early_stopping',
    'EarlyStopping',
    'EarlyStoppingState',
    'find_hyperparams',
    'inject_hyperparams',
    'inject_stateful_hyperparams',
    'InjectHyperparamsState',
    'InjectStatefulHyperparamsState',
    'keras_reduce_on_plateau',
    'plateau_scale',
    'reduce_on_plateau',
    'ReduceLROnPlateauState',
    'set_hyperparams',
    'StatefulSchedule',
    'torch_reduce_on_plateau',
    'WrappedSchedule',
    'WrappedScheduleState',
]
