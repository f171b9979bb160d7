"""Battery cases for the wrappers (masking, partition, accumulation, ...)."""

import optax

import gradtx
from tests.cases import Case

_MASK = {'b': False, 'layer': {'kernel': True, 'scale': True}}
_LABELS = {'b': 'slow', 'layer': {'kernel': 'fast', 'scale': 'slow'}}


def _partition(lib, lr):
  sgd = lib.chain(lib.trace(0.9), lib.scale_by_learning_rate(lr))
  return lib.partition({'fast': lib.adam(lr), 'slow': sgd}, _LABELS)


CASES = [
    Case('masked_adamw_decay', lambda lr: gradtx.adamw(lr, weight_decay=0.1, mask=_MASK),
         lambda lr: optax.adamw(lr, weight_decay=0.1, mask=_MASK), converges=False),
    Case('partition_adam_momentum', lambda lr: _partition(gradtx, lr),
         lambda lr: _partition(optax, lr), converges=False),
    Case('multi_steps_adam', lambda lr: gradtx.MultiSteps(gradtx.adam(lr), 3).gradient_transformation(),
         lambda lr: optax.MultiSteps(optax.adam(lr), 3).gradient_transformation(),
         lr=0.3, steps=1500, rosenbrock_lr=3e-3),
    Case('apply_if_finite_adam', lambda lr: gradtx.apply_if_finite(gradtx.adam(lr), 3),
         lambda lr: optax.apply_if_finite(optax.adam(lr), 3)),
    Case('flatten_adam', lambda lr: gradtx.flatten(gradtx.adam(lr)),
         lambda lr: optax.flatten(optax.adam(lr))),
    Case('apply_every_2', lambda lr: gradtx.chain(gradtx.adam(lr), gradtx.apply_every(2)),
         lambda lr: optax.chain(optax.adam(lr), optax.apply_every(2)), converges=False),
    Case('conditionally_mask_adam', lambda lr: gradtx.conditionally_mask(
        gradtx.adam(lr), lambda step: step % 3 != 1),
         lambda lr: optax.conditionally_mask(optax.adam(lr), lambda step: step % 3 != 1),
         converges=False),
]
