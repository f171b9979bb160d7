"""Battery cases for the core transformations and the model Adam aliases."""

import optax

import gradtx
from tests.cases import Case


def _then_lr(tx, lr, lib=gradtx):
  return lib.chain(tx, lib.scale_by_learning_rate(lr))


CASES = [
    Case('scale_by_learning_rate', lambda lr: gradtx.scale_by_learning_rate(lr),
         lambda lr: optax.scale_by_learning_rate(lr), steps=500),
    Case('trace', lambda lr: _then_lr(gradtx.trace(0.9), lr),
         lambda lr: _then_lr(optax.trace(0.9), lr, optax), lr=1e-2, steps=2000),
    Case('trace_nesterov', lambda lr: _then_lr(gradtx.trace(0.9, nesterov=True), lr),
         lambda lr: _then_lr(optax.trace(0.9, nesterov=True), lr, optax), lr=1e-2,
         steps=2000),
    Case('ema', lambda lr: _then_lr(gradtx.ema(0.9), lr),
         lambda lr: _then_lr(optax.ema(0.9), lr, optax), lr=1e-2, steps=2000),
    Case('adam', lambda lr: gradtx.adam(lr), lambda lr: optax.adam(lr),
         complex_ok=True),
    Case('adam_nesterov', lambda lr: gradtx.adam(lr, nesterov=True),
         lambda lr: optax.adam(lr, nesterov=True)),
    Case('adam_eps_root', lambda lr: gradtx.adam(lr, eps_root=1e-8),
         lambda lr: optax.adam(lr, eps_root=1e-8)),
    Case('adamw', lambda lr: gradtx.adamw(lr, weight_decay=1e-2),
         lambda lr: optax.adamw(lr, weight_decay=1e-2)),
    Case('add_decayed_weights', lambda lr: gradtx.chain(
        gradtx.add_decayed_weights(1e-2), gradtx.scale_by_learning_rate(lr)),
         lambda lr: optax.chain(optax.add_decayed_weights(1e-2),
                                optax.scale_by_learning_rate(lr))),
    Case('scale_by_param_block_norm', lambda lr: _then_lr(
        gradtx.scale_by_param_block_norm(), lr),
         lambda lr: _then_lr(optax.scale_by_param_block_norm(), lr, optax),
         converges=False),
    Case('normalize_by_update_norm', lambda lr: _then_lr(
        gradtx.normalize_by_update_norm(), lr),
         lambda lr: _then_lr(optax.normalize_by_update_norm(), lr, optax),
         converges=False),
]
