"""Battery cases for gradtx.compat: framework-exact optimizers.

Their trajectories are tested against the frameworks in
``tests/test_compat_<framework>.py``; here one or two per framework join the
common checks (convergence, jit, recompilation, dtypes, structure errors).
The oracle is Optax where Optax has the same rule. A compat constructor
whose rule is a core case's (PyTorch's Adam is Optax's ``adam``, MindSpore's
Momentum is ``gradtx.sgd`` after its pre-processing) is not repeated here:
the core cases cover the rule, and ``tests/test_compat_<framework>.py`` the
constructor under jit, in bfloat16 and against the framework (LARS runs
MindSpore's Momentum here).
"""

import optax

from gradtx.compat import hf
from gradtx.compat import keras as kc
from gradtx.compat import mindspore as msc
from gradtx.compat import mxnet as mxc
from gradtx.compat import torch as tc
from tests.cases import Case

CASES = [
    Case('compat_torch_sgd_nesterov',
         lambda lr: tc.optim.SGD(lr=lr, momentum=0.9, nesterov=True),
         lambda lr: optax.sgd(lr, momentum=0.9, nesterov=True), lr=0.05),
    Case('compat_torch_nadam', lambda lr: tc.optim.NAdam(lr=lr)),
    Case('compat_torch_rmsprop',
         lambda lr: tc.optim.RMSprop(lr=lr, alpha=0.9),
         lambda lr: optax.rmsprop(lr, decay=0.9, eps=1e-8, eps_in_sqrt=False),
         lr=1e-2),
    Case('compat_torch_rprop', lambda lr: tc.optim.Rprop(lr=0.01), rosenbrock=False),
    Case('compat_torch_asgd', lambda lr: tc.optim.ASGD(lr=lr), lr=0.05),
    Case('compat_keras_sgd_nesterov',
         lambda lr: kc.optimizers.SGD(lr, momentum=0.9, nesterov=True), lr=0.05),
    Case('compat_keras_adam_options',
         lambda lr: kc.optimizers.Adam(lr, amsgrad=True, weight_decay=1e-3,
                                       global_clipnorm=10.0, use_ema=True)),
    Case('compat_keras_lion', lambda lr: kc.optimizers.Lion(lr),
         lambda lr: optax.lion(lr, b1=0.9, b2=0.99, weight_decay=0.0), lr=1e-2,
         rosenbrock_lr=1e-3),
    Case('compat_keras_adafactor_accumulate',
         lambda lr: kc.optimizers.Adafactor(lr, gradient_accumulation_steps=2),
         lr=0.5, steps=3000, rosenbrock=False),
    Case('compat_hf_adafactor',
         lambda lr: hf.Adafactor(lr=lr, relative_step=False, scale_parameter=False,
                                 beta1=0.9), lr=1e-2, rosenbrock=False),
    Case('compat_mxnet_sgd_momentum',
         lambda lr: mxc.SGD(momentum=0.9, learning_rate=lr, wd=1e-4), lr=0.05),
    # LARS around Momentum (its trajectory is tested by hand in
    # test_compat_mindspore.py). As in MindSpore, a zero weight gets a zero
    # step, so it cannot leave the convergence checks' zero start.
    Case('compat_mindspore_lars_momentum',
         lambda lr: msc.LARS(lambda: msc.Momentum(learning_rate=lr, momentum=0.9,
                                                  weight_decay=1e-4),
                             coefficient=10.0, use_clip=True), converges=False),
    Case('compat_mindspore_rmsprop',
         lambda lr: msc.RMSProp(learning_rate=lr, momentum=0.5),
         lambda lr: optax.rmsprop(lr, decay=0.9, eps=1e-10, initial_scale=1.0,
                                  momentum=0.5), lr=1e-2),
]
