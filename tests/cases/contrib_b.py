"""Battery cases for gradtx.contrib, part B (oracle: optax.contrib, 0.2.8).

``momo``/``momo_adam`` (they need the loss value) and ``sophia`` (it needs
the objective) have dedicated parity tests in tests/test_contrib_b.py.
"""

import jax
import jax.numpy as jnp
import optax

import gradtx
from gradtx import contrib
from tests.cases import Case


def _then_lr(tx, lr, lib=gradtx):
  return lib.chain(tx, lib.scale_by_learning_rate(lr))


def _contrib(name, make, **kw):
  """An optimizer with the same name and arguments in both ``contrib``s."""
  args = kw.pop('args', {})
  return Case(name, lambda lr: make(contrib)(lr, **args),
              lambda lr: make(optax.contrib)(lr, **args), **kw)


def _rank_promotion_allowed(tx):
  """Optax's LDoG broadcasts a (1,) array against each leaf; the test
  config raises on rank promotion, so the oracle runs with it allowed."""
  def init(params):
    with jax.numpy_rank_promotion('allow'):
      return tx.init(params)

  def update(updates, state, params=None):
    with jax.numpy_rank_promotion('allow'):
      return tx.update(updates, state, params)

  return optax.GradientTransformation(init, update)


def _per_example(lib):
  """Turns a gradient into a batch of 3 "per-example" gradients that sum to
  3·g, with different norms, so that DP clipping bites on some examples."""
  def update(updates, state, params=None):
    del params
    return jax.tree.map(
        lambda g: jnp.stack([0.2 * g, 0.8 * g, 2.0 * g]), updates), state
  if lib is gradtx:
    return gradtx.transformation('per_example', lambda p: gradtx.EmptyState(),
                                 update)
  return optax.GradientTransformation(lambda p: optax.EmptyState(), update)


def _dpsgd(lib, lr, **kw):
  mod = contrib if lib is gradtx else optax.contrib
  return lib.chain(_per_example(lib), mod.dpsgd(lr, **kw))


def _times(k, lr):
  """``k·lr`` for a constant or a schedule: DoG-style optimizers take the
  learning rate as a multiplier of their own step, around 1."""
  return (lambda t: k * lr(t)) if callable(lr) else k * lr


def _dog_like(name, make, **kw):
  """``make(lib)(20·lr, **args)``; the battery's schedule peaks at 1."""
  args = kw.pop('args', {})
  kw.setdefault('lr', 0.05)
  kw.setdefault('rosenbrock_lr', 0.05)
  return Case(name, lambda lr: make(contrib)(_times(20, lr), **args),
              lambda lr: make(optax.contrib)(_times(20, lr), **args), **kw)


_DP = dict(l2_norm_clip=1.5, noise_multiplier=0.01, seed=3)

CASES = [
    _contrib('cocob', lambda m: m.cocob, args=dict(weight_decay=1e-3),
             lr=1.0, rosenbrock_lr=1.0),
    _dog_like('dog', lambda m: m.dog),
    _dog_like('dog_lr_init_wd', lambda m: m.dog,
              args=dict(init_step=('learning_rate', 1e-2), weight_decay=1e-3)),
    _dog_like('dowg', lambda m: m.dowg),
    Case('scale_by_distance_over_gradients',
         lambda lr: _then_lr(gradtx.scale_by_distance_over_gradients(
             reps_rel=1e-4), _times(20, lr)),
         lambda lr: _then_lr(_rank_promotion_allowed(
             optax.scale_by_distance_over_gradients(reps_rel=1e-4)),
                             _times(20, lr), optax),
         lr=0.05, rosenbrock_lr=0.05),
    Case('mechanize_adam',
         lambda lr: contrib.mechanize(gradtx.adam(lr)),
         lambda lr: optax.contrib.mechanize(optax.adam(lr)),
         rtol=1e-4, rosenbrock_lr=0.1),
    _contrib('acprop', lambda m: m.acprop,
             args=dict(b2=0.99, eps=1e-8, weight_decay=1e-2)),
    _contrib('galore', lambda m: m.galore,
             args=dict(rank=2, update_proj_gap=40, weight_decay=1e-3),
             rtol=1e-4, lr=0.05),
    Case('dpsgd', lambda lr: _dpsgd(gradtx, lr, momentum=0.9, **_DP),
         lambda lr: _dpsgd(optax, lr, momentum=0.9, **_DP), lr=0.01,
         rosenbrock_lr=1e-4),
    Case('normalize', lambda lr: _then_lr(contrib.normalize(), lr),
         lambda lr: _then_lr(optax.contrib.normalize(), lr, optax),
         converges=False),
    Case('split_real_and_imaginary_adam',
         lambda lr: contrib.split_real_and_imaginary(gradtx.adam(lr)),
         lambda lr: optax.contrib.split_real_and_imaginary(optax.adam(lr)),
         complex_ok=True),
]
