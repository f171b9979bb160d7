"""Keras 3's optimizers, step for step: ``gradtx.compat.keras.optimizers``.

* :mod:`gradtx.compat.keras.optimizers`: ``SGD``, ``Adam``, ``AdamW``,
  ``Adamax``, ``Nadam``, ``RMSprop``, ``Adagrad``, ``Adadelta``, ``Lion``,
  ``Lamb``, ``Adafactor``, ``Ftrl``, with Keras' common options.
* :func:`keras_optimizer` and :class:`UpdateRule`: Keras' ``apply`` around
  any update rule, for writing another one.

Keras' learning-rate schedules are in :mod:`gradtx.schedules`
(``exponential_decay``, ``cosine_decay``, ``cosine_decay_restarts``,
``inverse_time_decay``, ``piecewise_constant_decay``, ``polynomial_decay``).
"""

from gradtx.compat.keras import optimizers as optimizers
from gradtx.compat.keras._base import KerasState as KerasState
from gradtx.compat.keras._base import UpdateRule as UpdateRule
from gradtx.compat.keras._base import keras_optimizer as keras_optimizer
from gradtx.compat.keras.optimizers import SGD as SGD
from gradtx.compat.keras.optimizers import Adadelta as Adadelta
from gradtx.compat.keras.optimizers import Adafactor as Adafactor
from gradtx.compat.keras.optimizers import Adagrad as Adagrad
from gradtx.compat.keras.optimizers import Adam as Adam
from gradtx.compat.keras.optimizers import Adamax as Adamax
from gradtx.compat.keras.optimizers import AdamW as AdamW
from gradtx.compat.keras.optimizers import Ftrl as Ftrl
from gradtx.compat.keras.optimizers import Lamb as Lamb
from gradtx.compat.keras.optimizers import Lion as Lion
from gradtx.compat.keras.optimizers import Nadam as Nadam
from gradtx.compat.keras.optimizers import RMSprop as RMSprop

__all__ = [
    'optimizers', 'keras_optimizer', 'KerasState', 'UpdateRule',
    'SGD', 'Adam', 'AdamW', 'Adamax', 'Nadam', 'RMSprop', 'Adagrad',
    'Adadelta', 'Lion', 'Lamb', 'Adafactor', 'Ftrl',
]
