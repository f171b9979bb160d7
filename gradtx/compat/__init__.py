"""Framework-exact recipes: other frameworks' optimizers under their own names.

Each submodule reproduces one framework's optimizers (and schedules, clipping
and options) with that framework's names, argument names and defaults, built
from gradtx parts, so that a ported recipe follows the same trajectory step
for step:

* :mod:`gradtx.compat.torch`: ``torch.optim`` and ``torch.optim.lr_scheduler``.
* :mod:`gradtx.compat.keras`: ``keras.optimizers`` (Keras 3).
* :mod:`gradtx.compat.hf`: Hugging Face ``transformers.optimization``.
* :mod:`gradtx.compat.mxnet`: ``mx.optimizer`` (MXNet 1.9).
* :mod:`gradtx.compat.mindspore`: ``mindspore.nn`` optimizers (MindSpore 2.x).

See ``docs/porting.md`` for the tables and the places where the frameworks
differ.
"""

from gradtx.compat import hf as hf
from gradtx.compat import keras as keras
from gradtx.compat import mindspore as mindspore
from gradtx.compat import mxnet as mxnet
from gradtx.compat import torch as torch

__all__ = ['hf', 'keras', 'mindspore', 'mxnet', 'torch']
