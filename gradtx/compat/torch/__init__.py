"""PyTorch's optimizers, schedulers and clipping, step for step.

* :mod:`gradtx.compat.torch.optim`: ``SGD``, ``Adam``, ``AdamW``, ``NAdam``,
  ``RAdam``, ``Adamax``, ``Adagrad``, ``Adadelta``, ``RMSprop``, ``Rprop``,
  ``ASGD``, with PyTorch's arguments and defaults.
* :mod:`gradtx.compat.torch.lr_scheduler`: every ``lr_scheduler`` policy by
  its class name, with ``CyclicLR`` / ``OneCycleLR`` momentum cycling.
* ``clip_grad_norm_`` and ``clip_grad_value_``.

The optimizer names are also available here (``gradtx.compat.torch.SGD``).
"""

from gradtx.compat.torch import lr_scheduler as lr_scheduler
from gradtx.compat.torch import optim as optim
from gradtx.compat.torch._adam import TorchAdamState as TorchAdamState
from gradtx.compat.torch._adam import TorchNAdamState as TorchNAdamState
from gradtx.compat.torch._adam import scale_by_torch_adam as scale_by_torch_adam
from gradtx.compat.torch._adam import scale_by_torch_nadam as scale_by_torch_nadam
from gradtx.compat.torch._adam import scale_by_torch_radam as scale_by_torch_radam
from gradtx.compat.torch._momentum import ASGDState as ASGDState
from gradtx.compat.torch._momentum import RpropState as RpropState
from gradtx.compat.torch._momentum import TorchMomentumState as TorchMomentumState
from gradtx.compat.torch._momentum import asgd_step as asgd_step
from gradtx.compat.torch._momentum import rprop_step as rprop_step
from gradtx.compat.torch._momentum import torch_momentum as torch_momentum
from gradtx.compat.torch.clip import ClipGradNormState as ClipGradNormState
from gradtx.compat.torch.clip import clip_grad_norm_ as clip_grad_norm_
from gradtx.compat.torch.clip import clip_grad_value_ as clip_grad_value_
from gradtx.compat.torch.optim import ASGD as ASGD
from gradtx.compat.torch.optim import Adadelta as Adadelta
from gradtx.compat.torch.optim import Adagrad as Adagrad
from gradtx.compat.torch.optim import Adam as Adam
from gradtx.compat.torch.optim import Adamax as Adamax
from gradtx.compat.torch.optim import AdamW as AdamW
from gradtx.compat.torch.optim import NAdam as NAdam
from gradtx.compat.torch.optim import RAdam as RAdam
from gradtx.compat.torch.optim import RMSprop as RMSprop
from gradtx.compat.torch.optim import Rprop as Rprop
from gradtx.compat.torch.optim import SGD as SGD

__all__ = [
    'lr_scheduler', 'optim',
    'SGD', 'Adam', 'AdamW', 'NAdam', 'RAdam', 'Adamax', 'Adagrad', 'Adadelta',
    'RMSprop', 'Rprop', 'ASGD',
    'clip_grad_norm_', 'clip_grad_value_', 'ClipGradNormState',
    'torch_momentum', 'TorchMomentumState', 'rprop_step', 'RpropState',
    'asgd_step', 'ASGDState', 'scale_by_torch_adam', 'scale_by_torch_radam',
    'scale_by_torch_nadam', 'TorchAdamState', 'TorchNAdamState',
]
