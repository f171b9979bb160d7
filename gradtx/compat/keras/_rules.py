"""The ``update_step`` of each Keras 3 optimizer, as a :class:`UpdateRule`.

Rules whose step does not depend on Keras' step counter are gradtx
transformations followed by the learning rate (:func:`transform_rule`); the
others read ``local_step = iterations + 1``, which Keras also advances on the
steps where gradients are only accumulated.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

import jax
import jax.numpy as jnp

from gradtx import base
from gradtx import tree as tu
from gradtx.compat import _factored
from gradtx.compat.keras._base import UpdateRule
from gradtx import _leafwise
from gradtx.transforms import trust_ratio as _trust

_zeros = lambda params: _leafwise.zeros_state(params, None)


def _pow(b: float, t: jax.Array) -> jax.Array:
  """``bᵗ`` in float32, as Keras computes it."""
  return jnp.power(jnp.float32(b), t)


def _unzip(tree_of_tuples: Any, like: Any, n: int) -> list:
  treedef = jax.tree.structure(like)
  flat = treedef.flatten_up_to(tree_of_tuples)
  return [jax.tree.unflatten(treedef, [x[k] for x in flat]) for k in range(n)]


def transform_rule(
    pre: base.GradientTransformation,
    post: Optional[base.GradientTransformation] = None,
) -> UpdateRule:
  """``delta = −post(η·pre(g))``: a gradtx scaling, the lr, then ``post``."""
  def init(params):
    return (pre.init(params), post.init(params) if post is not None else ())

  def step(grads, slots, params, lr, local_step):
    del local_step
    u, s_pre = pre.update(grads, slots[0], params)
    u = jax.tree.map(lambda x: x * lr.astype(x.dtype), u)
    s_post = ()
    if post is not None:
      u, s_post = post.update(u, slots[1], params)
    return jax.tree.map(jnp.negative, u), (s_pre, s_post)

  return UpdateRule(init, step)


class SGDSlots(NamedTuple):
  momentums: Any  # like params with momentum, else ().


def sgd_rule(momentum: float, nesterov: bool) -> UpdateRule:
  """``m ← μm − ηg``; ``θ += m`` (nesterov: ``θ += μm − ηg``)."""
  def init(params):
    return SGDSlots(_zeros(params) if momentum != 0 else ())

  def step(grads, slots, params, lr, local_step):
    del params, local_step
    if momentum == 0:
      return jax.tree.map(lambda g: -lr * g, grads), slots
    m = jax.tree.map(lambda m_, g: momentum * m_ - lr * g, slots.momentums, grads)
    if nesterov:
      delta = jax.tree.map(lambda m_, g: momentum * m_ - lr * g, m, grads)
    else:
      delta = m
    return delta, SGDSlots(m)

  return UpdateRule(init, step)


class AdamSlots(NamedTuple):
  momentums: Any  # like params: the first moment.
  velocities: Any  # like params: the second moment.
  velocity_hats: Any  # like params with amsgrad, else ().


def adam_rule(beta_1, beta_2, epsilon, amsgrad) -> UpdateRule:
  """Keras ``Adam.update_step`` (form K: ``α = η√(1−β₂ᵗ)/(1−β₁ᵗ)``)."""
  def init(params):
    return AdamSlots(_zeros(params), _zeros(params),
                     _zeros(params) if amsgrad else ())

  def step(grads, slots, params, lr, t):
    del params
    alpha = lr * jnp.sqrt(1 - _pow(beta_2, t)) / (1 - _pow(beta_1, t))
    m = tu.update_moment(grads, slots.momentums, beta_1, 1)
    v = tu.update_moment(grads, slots.velocities, beta_2, 2)
    v_hat = (jax.tree.map(jnp.maximum, slots.velocity_hats, v)
             if amsgrad else ())
    delta = jax.tree.map(lambda m_, v_: -(m_ * alpha) / (jnp.sqrt(v_) + epsilon),
                         m, v_hat if amsgrad else v)
    return delta, AdamSlots(m, v, v_hat)

  return UpdateRule(init, step)


class AdamaxSlots(NamedTuple):
  m: Any  # like params: the first moment.
  u: Any  # like params: the weighted infinity norm.


def adamax_rule(beta_1, beta_2, epsilon) -> UpdateRule:
  """``u ← max(β₂u, |g|)``; ``θ −= ηm / ((1 − β₁ᵗ)(u + ε))``."""
  def init(params):
    return AdamaxSlots(_zeros(params), _zeros(params))

  def step(grads, slots, params, lr, t):
    del params
    m = tu.update_moment(grads, slots.m, beta_1, 1)
    u = tu.update_infinity_moment(grads, slots.u, beta_2)
    c = 1 - _pow(beta_1, t)
    delta = jax.tree.map(lambda m_, u_: -(lr * m_) / (c * (u_ + epsilon)), m, u)
    return delta, AdamaxSlots(m, u)

  return UpdateRule(init, step)


class NadamSlots(NamedTuple):
  momentums: Any  # like params: the first moment.
  velocities: Any  # like params: the second moment.
  u_product: jax.Array  # float32 scalar: the product of the μ_t so far.


def nadam_rule(beta_1, beta_2, epsilon) -> UpdateRule:
  """Keras ``Nadam``: ``μₜ = β₁(1 − ½·0.96ᵗ)`` and Dozat's look-ahead."""
  def init(params):
    return NadamSlots(_zeros(params), _zeros(params), jnp.ones([], jnp.float32))

  def step(grads, slots, params, lr, t):
    del params
    u_t = beta_1 * (1.0 - 0.5 * _pow(0.96, t))
    u_t1 = beta_1 * (1.0 - 0.5 * _pow(0.96, t + 1))
    prod = slots.u_product * u_t
    prod_1 = prod * u_t1
    m = tu.update_moment(grads, slots.momentums, beta_1, 1)
    v = tu.update_moment(grads, slots.velocities, beta_2, 2)
    c2 = 1 - _pow(beta_2, t)
    delta = jax.tree.map(
        lambda g, m_, v_: -((u_t1 * m_ / (1 - prod_1) + (1 - u_t) * g / (1 - prod))
                            * lr) / (jnp.sqrt(v_ / c2) + epsilon),
        grads, m, v)
    return delta, NadamSlots(m, v, prod)

  return UpdateRule(init, step)


def lamb_rule(beta_1, beta_2, epsilon) -> UpdateRule:
  """Keras ``Lamb``: the Adam direction times ``‖θ‖/‖u‖`` per variable."""
  trust = _trust.scale_by_trust_ratio()

  def init(params):
    return AdamSlots(_zeros(params), _zeros(params), ())

  def step(grads, slots, params, lr, t):
    m = tu.update_moment(grads, slots.momentums, beta_1, 1)
    v = tu.update_moment(grads, slots.velocities, beta_2, 2)
    c1, c2 = 1 - _pow(beta_1, t), 1 - _pow(beta_2, t)
    u = jax.tree.map(lambda m_, v_: (m_ / c1) / (jnp.sqrt(v_ / c2) + epsilon), m, v)
    u, _ = trust.update(u, trust.init(params), params)
    return jax.tree.map(lambda x: -lr * x, u), AdamSlots(m, v, ())

  return UpdateRule(init, step)


class AdafactorSlots(NamedTuple):
  r: Any  # per leaf: row statistics (shape[:-1]) for ndim ≥ 2, else a 0-d zero.
  c: Any  # per leaf: column statistics (shape[:-2] + shape[-1:]), or a 0-d zero.
  v: Any  # like params: the second-moment estimate.


def adafactor_rule(beta_2_decay, epsilon_1, epsilon_2, clip_threshold) -> UpdateRule:
  """Keras ``Adafactor``: factored second moments of the last two axes."""
  def init(params):
    r, c, _ = _unzip(jax.tree.map(_factored.init_leaf, params), params, 3)
    return AdafactorSlots(r, c, _zeros(params))

  def step(grads, slots, params, lr, t):
    rho_t = jnp.minimum(lr, 1 / jnp.sqrt(t))
    beta_2_t = 1 - jnp.power(t, beta_2_decay)

    def leaf(g, p, r, c, v):
      d = tu.compute_dtype(g, p)
      g, p = g.astype(d), p.astype(d)
      alpha_t = jnp.maximum(epsilon_2, _factored.rms(p)) * rho_t
      u, r, c, _, v = _factored.factored_update(
          g, r.astype(d), c.astype(d), v.astype(d), beta_2_t, epsilon_1,
          clip_threshold)
      return -alpha_t * u, r, c, v

    out = jax.tree.map(leaf, grads, params, slots.r, slots.c, slots.v)
    delta, r, c, v = _unzip(out, grads, 4)
    return delta, AdafactorSlots(r, c, v)

  return UpdateRule(init, step)


class FtrlSlots(NamedTuple):
  accumulators: Any  # like params: the sum of squared gradients (from s₀).
  linears: Any  # like params: the linear term.


def ftrl_rule(learning_rate_power, initial_accumulator_value,
              l1_regularization_strength, l2_regularization_strength,
              l2_shrinkage_regularization_strength, beta) -> UpdateRule:
  """Keras ``Ftrl``: follow the regularised leader, per coordinate."""
  p_ = learning_rate_power

  def init(params):
    return FtrlSlots(tu.full_like(params, initial_accumulator_value),
                     _zeros(params))

  def step(grads, slots, params, lr, t):
    del t
    l2 = l2_regularization_strength + beta / (2.0 * lr)

    def leaf(g, var, accum, linear):
      g_use = g + 2 * l2_shrinkage_regularization_strength * var
      new_accum = accum + jnp.square(g)
      linear = linear + g_use - (
          (jnp.power(new_accum, -p_) - jnp.power(accum, -p_)) / lr) * var
      quadratic = jnp.power(new_accum, -p_) / lr + 2 * l2
      clipped = jnp.clip(linear, -l1_regularization_strength,
                         l1_regularization_strength)
      return (clipped - linear) / quadratic - var, new_accum, linear

    out = jax.tree.map(leaf, grads, params, slots.accumulators, slots.linears)
    delta, accum, linear = _unzip(out, grads, 3)
    return delta, FtrlSlots(accum, linear)

  return UpdateRule(init, step)
