"""Battery cases: Adan, Rprop, optimistic gradients, Polyak steps and L-BFGS.

The line searches (and ``lbfgs`` with one) need ``value_fn``, which the
battery cannot give; they are driven against Optax on Rosenbrock and
quadratics in ``tests/test_lbfgs.py`` and ``tests/test_linesearch.py``.
"""

import warnings

import jax
import jax.numpy as jnp
import optax

import gradtx
from tests.cases import Case


def _then_lr(tx, lr, lib=gradtx):
  return lib.chain(tx, lib.scale_by_learning_rate(lr))


def _bare(name, ours, theirs, **kw):
  """A bare transformation chained with ``scale_by_learning_rate``."""
  return Case(name, lambda lr: _then_lr(ours(), lr),
              lambda lr: _then_lr(theirs(), lr, optax), **kw)


def _alias(name, make, args=None, **kw):
  """An optimizer with the same name and arguments in gradtx and Optax."""
  args = args or {}
  return Case(name, lambda lr: make(gradtx)(lr, **args),
              lambda lr: make(optax)(lr, **args), **kw)


def _with_value(tx):
  """The battery calls ``update`` without a loss: pass ``value = ‖g‖²/2``.

  With this stand-in the Polyak step is ``min(1/2 / s², γ_max)`` for an SGD
  scaling ``s``: a fixed step, enough to compare with Optax and to converge.
  """
  def update(updates, state, params=None):
    value = 0.5 * sum(jnp.sum(jnp.abs(g.astype(jnp.float32)) ** 2)
                      for g in jax.tree.leaves(updates))
    return tx.update(updates, state, params, value=value)

  return gradtx.GradientTransformation(tx.init, update)


def _optimistic_adam(lib, lr):
  """Optax's deprecated first form takes a constant learning rate only."""
  with warnings.catch_warnings():
    warnings.simplefilter('ignore', DeprecationWarning)
    return lib.optimistic_adam(0.02 if callable(lr) else lr, 0.5)


CASES = [
    # --- Adan ------------------------------------------------------------------
    _alias('adan', lambda m: m.adan,
           args=dict(b1=0.9, b2=0.8, b3=0.95, weight_decay=1e-2),
           complex_ok=True),
    _bare('scale_by_adan', lambda: gradtx.scale_by_adan(eps_root=1e-8),
          lambda: optax.scale_by_adan(eps_root=1e-8)),
    # --- Rprop (learning_rate is the initial step size, not a schedule) ------
    Case('rprop', lambda lr: gradtx.rprop(1e-2), lambda lr: optax.rprop(1e-2),
         needs_params=False),
    _bare('scale_by_rprop', lambda: gradtx.scale_by_rprop(
        0.5, eta_minus=0.4, eta_plus=1.3, min_step_size=1e-3, max_step_size=5.0),
          lambda: optax.scale_by_rprop(
              0.5, eta_minus=0.4, eta_plus=1.3, min_step_size=1e-3,
              max_step_size=5.0), needs_params=False),
    # --- optimistic gradients -----------------------------------------------
    _alias('optimistic_gradient_descent',
           lambda m: m.optimistic_gradient_descent, complex_ok=True,
           needs_params=False),
    _alias('optimistic_adam_v2', lambda m: m.optimistic_adam_v2,
           args=dict(alpha=1.0, beta=0.5, eps_root=1e-8), lr=1e-2),
    Case('optimistic_adam', lambda lr: _optimistic_adam(gradtx, lr),
         lambda lr: _optimistic_adam(optax, lr), lr=1e-2),
    _bare('scale_by_optimistic_gradient',
          lambda: gradtx.scale_by_optimistic_gradient(0.5, 0.3),
          lambda: optax.scale_by_optimistic_gradient(0.5, 0.3),
          complex_ok=True),
    # --- Polyak step size -----------------------------------------------------
    Case('polyak_sgd', lambda lr: _with_value(gradtx.polyak_sgd(
        max_learning_rate=0.3, scaling=lr, f_min=-1.0, eps=1e-3,
        variant='sps+')),
         lambda lr: _with_value(optax.polyak_sgd(
             max_learning_rate=0.3, scaling=lr, f_min=-1.0, eps=1e-3,
             variant='sps+'))),
    Case('scale_by_polyak', lambda lr: _with_value(_then_lr(
        gradtx.scale_by_polyak(max_learning_rate=0.8), lr)),
         lambda lr: _with_value(_then_lr(
             optax.scale_by_polyak(max_learning_rate=0.8), lr, optax))),
    # --- L-BFGS without a line search -----------------------------------------
    Case('lbfgs_no_linesearch',
         lambda lr: gradtx.lbfgs(lr, linesearch=None),
         lambda lr: optax.lbfgs(lr, linesearch=None), complex_ok=True),
    _bare('scale_by_lbfgs', lambda: gradtx.scale_by_lbfgs(
        memory_size=3, scale_init_precond=False),
          lambda: optax.scale_by_lbfgs(memory_size=3, scale_init_precond=False)),
]
