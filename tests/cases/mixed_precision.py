"""Battery cases for the mixed-precision wrappers."""

import optax

import gradtx
from tests.cases import Case


def _momentum(lr, lib=gradtx):
  return lib.chain(lib.trace(0.9), lib.scale_by_learning_rate(lr))


CASES = [
    # Gradients reaching update are unscaled by 1/8 (the battery feeds true
    # gradients), so the oracle scales by 1/8 first; no overflow occurs.
    Case('with_loss_scale', lambda lr: gradtx.with_loss_scale(
        _momentum(lr), gradtx.DynamicLossScale(init_scale=8.0, growth_interval=10**6)),
         lambda lr: optax.chain(optax.scale(1 / 8), _momentum(lr, optax)),
         lr=1e-1, steps=2000),
    Case('with_loss_scale_adam_torch', lambda lr: gradtx.with_loss_scale(
        gradtx.adam(lr), gradtx.torch_grad_scaler(init_scale=1.0)),
         lambda lr: optax.adam(lr)),
    # The battery expects updates in the gradients' dtype; the default (exact,
    # float32 updates) is tested in tests/test_master_weights.py.
    Case('with_master_weights', lambda lr: gradtx.with_master_weights(
        gradtx.adam(lr), updates_in_master_dtype=False),
         lambda lr: optax.adam(lr)),
]
