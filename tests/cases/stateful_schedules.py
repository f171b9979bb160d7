"""Battery cases for plateau reduction and injected hyperparameters."""

import jax
import jax.numpy as jnp
import optax

import gradtx
from tests.cases import Case


def _monitor_grad_norm(tx):
  """The battery calls ``update`` without a value: monitor ‖g‖² instead."""
  def update(updates, state, params=None):
    value = sum(jnp.sum(jnp.abs(g.astype(jnp.float32)) ** 2)
                for g in jax.tree.leaves(updates))
    return tx.update(updates, state, params, value=value)

  return gradtx.GradientTransformation(tx.init, update)


def _adam_then(plateau, lr, lib=gradtx):
  return _monitor_grad_norm(lib.chain(lib.adam(lr), plateau))


# Large thresholds, so that reductions happen within the battery's 100 steps.
_PLATEAU = dict(factor=0.5, patience=3, min_scale=0.1)

CASES = [
    Case('reduce_on_plateau',
         lambda lr: _adam_then(gradtx.reduce_on_plateau(rtol=0.3, **_PLATEAU), lr),
         lambda lr: _adam_then(optax.contrib.reduce_on_plateau(rtol=0.3, **_PLATEAU),
                               lr, optax)),
    Case('torch_reduce_on_plateau', lambda lr: _adam_then(
        gradtx.torch_reduce_on_plateau(threshold=0.3, cooldown=2, **_PLATEAU), lr)),
    Case('keras_reduce_on_plateau', lambda lr: _adam_then(
        gradtx.keras_reduce_on_plateau(min_delta=0.5, cooldown=2, **_PLATEAU), lr)),
    Case('inject_hyperparams_adam',
         lambda lr: gradtx.inject_hyperparams(gradtx.adam)(lr, b1=0.85),
         lambda lr: optax.inject_hyperparams(optax.adam)(lr, b1=0.85),
         complex_ok=True),
    Case('inject_hyperparams_scale_by_adam', lambda lr: gradtx.chain(
        gradtx.inject_hyperparams(gradtx.scale_by_adam)(b1=lambda t: 0.9 - 0.4 / (t + 1)),
        gradtx.scale_by_learning_rate(lr)),
         lambda lr: optax.chain(
             optax.inject_hyperparams(optax.scale_by_adam)(
                 b1=lambda t: 0.9 - 0.4 / (t + 1)),
             optax.scale_by_learning_rate(lr))),
]
