"""Battery cases for public transformations that had none of their own.

``tests/test_api.py`` fails when a public name that builds a transformation
is neither called by a case nor listed in its exemptions; these cases close
that gap: the elementary transformations, the remaining ``scale_by_*`` and
a few wrappers, each against its Optax namesake. (Names tested elsewhere
are listed, with the test, in ``NO_BATTERY_CASE`` of ``tests/test_api.py``.)
"""

import jax
import optax

import gradtx
from tests.cases import Case


def _then_lr(tx, lr, lib=gradtx):
  return lib.chain(tx, lib.scale_by_learning_rate(lr))


def _bare(name, make, **kw):
  """``make(lib)`` chained with ``scale_by_learning_rate`` in both libraries."""
  return Case(name, lambda lr: _then_lr(make(gradtx), lr),
              lambda lr: _then_lr(make(optax), lr, optax), **kw)


def _both(name, make, **kw):
  """``make(lib, lr)`` built the same way in both libraries."""
  return Case(name, lambda lr: make(gradtx, lr), lambda lr: make(optax, lr),
              **kw)


def _matrices(params):
  """Mask: True for the leaves with two or more dimensions (any tree)."""
  return jax.tree.map(lambda p: p.ndim > 1, params)


def _kind(params):
  """Labels: 'matrix' for leaves with two or more dimensions, else 'vector'."""
  return jax.tree.map(lambda p: 'matrix' if p.ndim > 1 else 'vector', params)


CASES = [
    # --- elementary --------------------------------------------------------------
    _bare('identity', lambda m: m.identity(), steps=500),
    _bare('scale', lambda m: m.scale(0.5), steps=1000),
    _both('set_to_zero_in_partition', lambda m, lr: m.multi_transform(
        {'matrix': m.adam(lr), 'vector': m.set_to_zero()}, _kind),
          converges=False),
    # --- remaining scale_by_* ------------------------------------------------------
    _bare('scale_by_adadelta', lambda m: m.scale_by_adadelta(rho=0.9, eps=1e-4),
          converges=False),
    _bare('scale_by_rss', lambda m: m.scale_by_rss(0.1, 1e-7), lr=0.5,
          rosenbrock_lr=0.05),
    _bare('scale_by_sign', lambda m: m.scale_by_sign(), lr=1e-2,
          needs_params=False),
    _bare('scale_by_stddev', lambda m: m.scale_by_stddev(0.9, 1e-8),
          lr=1e-2, converges=False),
    _bare('scale_by_param_block_rms',
          lambda m: m.scale_by_param_block_rms(1e-3), converges=False),
    _both('scale_by_schedule', lambda m, lr: m.chain(
        m.scale_by_adam(), m.scale_by_schedule(lambda t: -0.5 * lr(t) if
                                               callable(lr) else -0.5 * lr))),
    Case('add_noise', lambda lr: _then_lr(gradtx.add_noise(1e-4, 0.55, 3), lr),
         None, steps=500, needs_params=False),  # noise: tests/test_sgd_family.py
    # --- wrappers ------------------------------------------------------------------
    _both('masked_adam', lambda m, lr: m.chain(
        m.masked(m.scale_by_adam(), _matrices), m.scale_by_learning_rate(lr)),
          converges=False),
    _both('conditionally_transform', lambda m, lr: m.conditionally_transform(
        m.adam(lr), lambda step: step % 2 == 0), converges=False),
    # measure_with_ema's output is the EMA of the updates (no pass-through).
    _both('measure_with_ema', lambda m, lr: m.chain(
        m.measure_with_ema(lambda u: u, 0.9), m.adam(lr)), converges=False),
]
