"""``with_loss_scale``: an optimizer that owns its loss scale and skips overflows."""

from __future__ import annotations

from typing import Any, NamedTuple, Optional, Sequence, Union

import jax
import jax.numpy as jnp

from gradtx import _hyper
from gradtx import _leafwise
from gradtx import base
from gradtx import tree as tu
from gradtx.mixed_precision import loss_scale as _ls

AxisName = Union[str, Sequence[str], None]


class WithLossScaleState(NamedTuple):
  """State of :func:`with_loss_scale`."""

  loss_scale: Any  # the current loss scale (a NoOp/Static/DynamicLossScale).
  inner_state: Any  # the wrapped optimizer's state; untouched on skipped steps.
  skipped_steps: jax.Array  # int32 scalar: steps skipped so far (overflows).
  last_finite: jax.Array  # bool scalar: whether the last step's grads were finite.


def agreed_all_finite(tree: Any, axis_name: AxisName = None) -> jax.Array:
  """``all_finite(tree)``, agreed across the devices of ``axis_name``.

  Under ``pmap`` or ``shard_map`` each replica sees its own gradients; with an
  ``axis_name`` the result is True on every replica only when it is True on
  all of them (a ``lax.pmin`` of the per-replica flags), so no replica steps
  while another skips.

  Args:
    tree: a pytree of arrays.
    axis_name: a mapped axis name (or a tuple of names), or None.

  Returns:
    A boolean scalar.

  Example:
    >>> import functools, jax, jax.numpy as jnp
    >>> from gradtx.mixed_precision import agreed_all_finite
    >>> g = jnp.array([[1.0, 2.0], [3.0, jnp.inf]])  # one row per replica
    >>> jax.vmap(functools.partial(agreed_all_finite, axis_name='i'),
    ...          axis_name='i')(g)
    Array([False, False], dtype=bool)
    >>> jax.vmap(agreed_all_finite)(g)  # no axis_name: each replica on its own
    Array([ True, False], dtype=bool)
  """
  finite = tu.all_finite(tree)
  if axis_name is None:
    return finite
  return jax.lax.pmin(finite.astype(jnp.int32), axis_name) > 0


def with_loss_scale(
    inner: base.GradientTransformation,
    loss_scale: Optional[Any] = None,
    axis_name: AxisName = None,
) -> base.GradientTransformationExtraArgs:
  r"""Wraps an optimizer so that it unscales gradients and skips overflows.

  The wrapper owns the loss scale: it lives in the state, where the train step
  reads it to scale the loss (``state.loss_scale.scale(loss)``). Each
  ``update`` receives the gradients of the *scaled* loss and

  .. code-block:: text

    g ← loss_scale.unscale(g)                       (g · 1/S, in float32)
    finite ← all_finite(g)        (and agreed over axis_name by a pmin)
    u, s' ← inner.update(g if finite else 0, s)
    u ← u if finite else −0         s ← s' if finite else s
    loss_scale ← loss_scale.adjust(finite)
    skipped_steps ← skipped_steps + (not finite)

  The choice is made with ``jnp.where`` (no Python control flow), so the
  whole step compiles once. On a skipped step the inner state is returned bit
  for bit, and the updates are negative zeros, so
  :func:`gradtx.apply_updates` leaves every parameter bit for bit unchanged
  (even a ``-0.0`` one). The inner optimizer sees zeros instead of non-finite
  gradients, so nothing inside it ever computes on inf or NaN.

  Args:
    inner: the optimizer to wrap.
    loss_scale: the initial loss scale: a :class:`~gradtx.DynamicLossScale`
      (default: ``DynamicLossScale()``), :class:`~gradtx.StaticLossScale`,
      :class:`~gradtx.NoOpLossScale` or a preset such as
      :func:`gradtx.torch_grad_scaler`.
    axis_name: under ``pmap``/``shard_map``, the name(s) of the mapped axes
      over which replicas must agree on skipping. Give it whenever the
      gradients reaching ``update`` can differ between replicas (they have
      not been averaged yet, or they are sharded).

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` whose state is a
    :class:`WithLossScaleState`.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> opt = gradtx.with_loss_scale(
    ...     gradtx.adam(1e-2), gradtx.DynamicLossScale(init_scale=2.0**15))
    >>> params = jnp.array([1.0, -2.0])
    >>> state = opt.init(params)
    >>> def loss_fn(p):
    ...   return jnp.sum(p ** 2)
    >>> scaled_loss = lambda p, s: s.loss_scale.scale(loss_fn(p))
    >>> grads = jax.grad(scaled_loss)(params, state)   # grads of S · loss
    >>> updates, state = opt.update(grads, state, params)
    >>> params = gradtx.apply_updates(params, updates)
    >>> int(state.skipped_steps), bool(state.last_finite)
    (0, True)

  References:
    Micikevicius et al., *Mixed Precision Training*, ICLR 2018.
  """
  if loss_scale is None:
    loss_scale = _ls.DynamicLossScale()
  for member in ('loss_scale', 'scale', 'unscale', 'adjust'):
    if not hasattr(loss_scale, member):
      raise ValueError(
          'loss_scale must be a loss scale such as gradtx.DynamicLossScale(), '
          f'gradtx.StaticLossScale(1024.0) or gradtx.NoOpLossScale(); got '
          f'{loss_scale!r}, which has no {member!r}'
      )
  inner = base.with_extra_args_support(inner)

  def init_fn(params):
    return WithLossScaleState(
        loss_scale=loss_scale,
        inner_state=inner.init(params),
        skipped_steps=_hyper.zero_count(),
        last_finite=jnp.array(True),
    )

  def update_fn(updates, state, params=None, **extra_args):
    scale = state.loss_scale
    grads = scale.unscale(updates)
    finite = agreed_all_finite(grads, axis_name)
    safe_grads = jax.tree.map(
        lambda g: None if g is None else jnp.where(finite, g, jnp.zeros_like(g)),
        grads, is_leaf=lambda x: x is None,
    )
    new_updates, new_inner = inner.update(
        safe_grads, state.inner_state, params, **extra_args
    )
    out = tu.where(finite, new_updates, _leafwise.no_op_updates(new_updates))
    inner_state = tu.where(finite, new_inner, state.inner_state)
    skipped = jnp.where(
        finite, state.skipped_steps, tu.safe_increment(state.skipped_steps)
    )
    return out, WithLossScaleState(
        loss_scale=scale.adjust(finite),
        inner_state=inner_state,
        skipped_steps=skipped,
        last_finite=finite,
    )

  return base.transformation_with_extra_args(
      'with_loss_scale', init_fn, update_fn
  )
