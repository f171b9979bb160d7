"""MindSpore's ``nn.LARS``: the layer-wise rate of ``LARSUpdate`` around an optimizer.

Re-exported by :mod:`gradtx.compat.mindspore`, whose optimizers read
``_LARS`` to hand their weight decay and loss scale over to LARS.
"""

from __future__ import annotations

import contextvars
from typing import Any, Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu

__all__ = ['LARS', 'scale_by_mindspore_lars', 'MindSporeLarsState']

# Set by LARS while it builds its inner optimizer.
_LARS: contextvars.ContextVar[Optional[dict]] = contextvars.ContextVar('_LARS', default=None)


def _default_lars_filter(name: str) -> bool:
  return 'LayerNorm' not in name and 'bias' not in name


class MindSporeLarsState(NamedTuple):
  """State of :func:`scale_by_mindspore_lars`."""

  count: jax.Array  # int32 scalar: MindSpore's global_step (for use_clip's rate).


def scale_by_mindspore_lars(learning_rate: Any = 0.0, weight_decay: float = 0.0,
                            epsilon: float = 1e-5, coefficient: float = 0.001,
                            use_clip: bool = False,
                            lars_filter: Callable[[str], bool] = _default_lars_filter,
                            decay_mask: Any = None) -> base.GradientTransformation:
  r"""MindSpore's ``LARSUpdate`` on each leaf ``l`` that ``lars_filter`` keeps.

  .. code-block:: text

    c = κ‖w‖/(‖g‖ + λ‖w‖ + ε)          (Frobenius norms of the leaf)
    use_clip:  c ← clip(c/η_t, 0, 1)
    g ← c·(g + λ·w)                    (λ = 0 where decay_mask is False)

  Leaves that ``lars_filter`` rejects pass through unchanged. Unlike
  :func:`gradtx.scale_by_trust_ratio`, the denominator adds the two norms (as
  in You et al.), and a zero weight gives ``c = 0``, not 1.

  Args:
    learning_rate: ``η_t``, a number or a schedule (read only with ``use_clip``).
    weight_decay: ``λ ≥ 0``.
    epsilon: ``ε ≥ 0``.
    coefficient: ``κ > 0``, the trust coefficient.
    use_clip: clip ``c/η_t`` to ``[0, 1]``.
    lars_filter: a function of the parameter path (``'layer/kernel'``) that
      says which leaves LARS scales.
    decay_mask: None (decay every leaf), or a function of the params (or a
      tree) of booleans.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`MindSporeLarsState`; ``update`` needs the params.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat.mindspore import scale_by_mindspore_lars
    >>> tx = scale_by_mindspore_lars(coefficient=0.02, epsilon=0.0)
    >>> p = jnp.array([3.0, 4.0])
    >>> tx.update(jnp.array([1.0, 0.0]), tx.init(p), p)[0]   # 0.02·5/1
    Array([0.1, 0. ], dtype=float32)

  References:
    ``mindspore.ops.LARSUpdate`` (``lars_v2_update``); You, Gitman & Ginsburg,
    arXiv:1708.03888.
  """
  _checks.check_non_negative('weight_decay', weight_decay)
  _checks.check_non_negative('epsilon', epsilon)
  _checks.check_positive('coefficient', coefficient)
  if not callable(lars_filter):
    raise ValueError(f'lars_filter must be a function of a parameter path, got {lars_filter!r}')

  def init_fn(params):
    del params
    return MindSporeLarsState(_hyper.zero_count())

  def update_fn(updates, state, params=None):
    if params is None:
      raise ValueError('scale_by_mindspore_lars needs the params: update(g, state, params)')
    lr = _hyper.value_at(learning_rate, state.count)
    decay = decay_mask(params) if callable(decay_mask) else decay_mask
    if decay is None:
      decay = jax.tree.map(lambda _: True, params)

    def leaf(path, g, w, d):
      if not lars_filter(tu.path_to_str(path)):
        return g
      lam = weight_decay if d else 0.0
      g32, w32 = g.astype(jnp.float32), w.astype(jnp.float32)
      wn, gn = jnp.sqrt(jnp.sum(w32 * w32)), jnp.sqrt(jnp.sum(g32 * g32))
      c = coefficient * wn / (gn + lam * wn + epsilon)
      if use_clip:
        c = jnp.clip(c / lr, 0.0, 1.0)
      return (c * (g32 + lam * w32)).astype(g.dtype)

    out = jax.tree_util.tree_map_with_path(leaf, updates, params, decay)
    return out, MindSporeLarsState(tu.safe_increment(state.count))

  return base.transformation('scale_by_mindspore_lars', init_fn, update_fn)


def LARS(optimizer: Callable[[], base.GradientTransformation],  # pylint: disable=invalid-name
         epsilon: float = 1e-05, coefficient: float = 0.001, use_clip: bool = False,
         lars_filter: Callable[[str], bool] = _default_lars_filter
         ) -> base.GradientTransformationExtraArgs:
  r"""``mindspore.nn.LARS`` around one of this module's optimizers.

  .. code-block:: text

    g ← g / loss_scale                              (the inner optimizer's)
    g ← c·(g + λ·w),  c = κ‖w‖/(‖g‖ + λ‖w‖ + ε)    leaves lars_filter keeps
                      (use_clip: c ← clip(c/η_t, 0, 1))
    g ← centralize(g)                               (groups asking for it)
    the inner optimizer's own step, without its weight decay

  LARS takes over the inner optimizer's weight decay (``λ`` of its group, 0
  where MindSpore's decay filter excludes the leaf) and loss-scale division,
  so ``optimizer`` is a function that builds it (``lambda: msc.Momentum(...)``)
  rather than the built transformation. As in MindSpore, the leaves that
  ``lars_filter`` rejects get no weight decay at all. ``use_clip`` reads the
  inner optimizer's (group's) learning rate at the same step; MindSpore
  refuses ``use_clip`` with both group and per-step rates, gradtx accepts it.

  MindSpore 2.10 has no CPU kernel for ``LARSUpdate`` (and deprecates
  ``nn.LARS``), so this follows its source, the ``lars_v2_update`` kernel and
  ``nn.LARS.construct``, and is tested against that formula by hand.

  Args:
    optimizer: a function of no arguments returning one of this module's
      optimizers (``Momentum``, ``SGD``, ``Adam``, ...).
    epsilon: ``ε ≥ 0``, added to the denominator.
    coefficient: ``κ > 0``, the trust coefficient.
    use_clip: clip the local rate ``c/η_t`` to ``[0, 1]``.
    lars_filter: a function of a parameter path (``'encoder/bias'``) that is
      True where LARS applies; MindSpore's default skips paths containing
      ``'LayerNorm'`` or ``'bias'``.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import mindspore as msc
    >>> opt = msc.LARS(lambda: msc.Momentum(learning_rate=0.1, momentum=0.9),
    ...                epsilon=0.0, coefficient=0.02)
    >>> p = jnp.array([3.0, 4.0])
    >>> opt.update(jnp.array([1.0, 0.0]), opt.init(p), p)[0]   # −0.1·(0.02·5/1)
    Array([-0.01,  0.  ], dtype=float32)

  References:
    ``mindspore.nn.LARS``; You, Gitman & Ginsburg, "Large Batch Training of
    Convolutional Networks", arXiv:1708.03888.
  """
  _checks.check_non_negative('epsilon', epsilon)
  _checks.check_positive('coefficient', coefficient)
  if not isinstance(use_clip, bool):
    raise ValueError(f'use_clip must be True or False, got {use_clip!r}')
  if not callable(lars_filter):
    raise ValueError(f'lars_filter must be a function of a parameter path, got {lars_filter!r}')
  if not callable(optimizer) or hasattr(optimizer, 'update'):
    raise ValueError('optimizer must be a function that builds the inner optimizer '
                     f'(lambda: msc.Momentum(...)), got {optimizer!r}')
  config = dict(epsilon=epsilon, coefficient=coefficient, use_clip=use_clip,
                lars_filter=lars_filter, used=0)
  token = _LARS.set(config)
  try:
    tx = optimizer()
  finally:
    _LARS.reset(token)
  if config['used'] != 1:
    raise ValueError('optimizer must build exactly one gradtx.compat.mindspore optimizer, '
                     f"it built {config['used']}")
  return tx
