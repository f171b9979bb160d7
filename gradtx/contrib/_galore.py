"""GaLore: optimizer state in a low-rank projection of each weight matrix."""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple, Optional, Sequence, Union

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx.contrib import _validation
from gradtx.transforms import adam as _adam
from gradtx.transforms import decay as _decay
from gradtx.transforms import scaling as _scaling


class GaLoreDimensionNumbers(NamedTuple):
  """Which axes of a weight form the rows and the columns of its matrix.

  A weight stored with more than two axes (an attention projection of shape
  ``(embed, heads, head_dim)``, say) is projected as the matrix
  ``(∏ reduction sizes) × (∏ output sizes)``; every axis must be named once.

  Attributes:
    reduction_axis: axis or axes of the input (row) dimension.
    output_axis: axis or axes of the output (column) dimension.
  """

  reduction_axis: Union[Sequence[int], int] = 0
  output_axis: Union[Sequence[int], int] = 1


class GaLoreState(NamedTuple):
  """State of :func:`scale_by_galore`."""

  count: jax.Array  # int32 scalar: number of updates seen so far.
  base_optimizer_state: base.OptState  # the inner optimizer's state, on the
  # projected (r × n or m × r) gradients for projected leaves, full otherwise.
  projector: base.Updates  # per leaf: P, (m, r) or (n, r) in the params'
  # dtype; a (0, 0) placeholder for leaves that are not projected.


def _is_dim_nums_leaf(x):
  return x is None or isinstance(x, GaLoreDimensionNumbers)


def _axes(axis, ndim):
  return tuple(a % ndim for a in ((axis,) if isinstance(axis, int) else axis))


def _matrix_view(x, dim_nums):
  """``(to_2d, from_2d)``: reshape ``x`` to its matrix and back."""
  if x.ndim < 2:
    raise ValueError(
        f'GaLore projects arrays of rank >= 2, got shape {x.shape}; give '
        'such leaves no GaLoreDimensionNumbers (None).'
    )
  red = _axes(dim_nums.reduction_axis, x.ndim)
  outp = _axes(dim_nums.output_axis, x.ndim)
  if set(red) & set(outp) or len(set(red) | set(outp)) != x.ndim:
    raise ValueError(
        f'GaLoreDimensionNumbers must split the {x.ndim} axes of shape '
        f'{x.shape} into disjoint reduction and output axes naming every '
        f'axis once, got reduction={red}, output={outp}.'
    )
  perm = red + outp
  inv = tuple(sorted(range(x.ndim), key=lambda i: perm[i]))
  rows = math.prod(x.shape[a] for a in red)
  cols = math.prod(x.shape[a] for a in outp)
  permuted_shape = tuple(x.shape[a] for a in perm)
  return (lambda y: y.transpose(perm).reshape(rows, cols),
          lambda y: y.reshape(permuted_shape).transpose(inv))


def _plan(shape_2d, rank):
  """``(use_left, r)``: project the longer side onto ``r`` directions."""
  m, n = shape_2d
  return m >= n, min(rank, m, n)


def scale_by_galore(
    rank: int = 128,
    update_proj_gap: int = 200,
    scale: float = 1.0,
    base_optimizer: Optional[base.GradientTransformation] = None,
    weight_dimension_numbers: Optional[Any] = None,
) -> base.GradientTransformation:
  r"""Runs an optimizer on low-rank projections of the weight gradients.

  For each projected ``m × n`` gradient ``G`` (with ``m ≥ n``; the other case
  is the transpose), every ``update_proj_gap`` steps starting at step 0:
  ``P ← U[:, :r]`` from the SVD ``G = U·Σ·Vᵀ`` (in float32). Then

  .. code-block:: text

    R = Pᵀ·G   (r × n)        N, s ← base_optimizer.update(R, s)
    u = scale · P·N           (m × n)

  Leaves that are not projected get ``base_optimizer`` on their full
  gradient. ``base_optimizer`` sees the projected shapes, so it must not need
  the params (``scale_by_adam``, ``scale_by_lion``, ``sgd(1.0)``; not
  ``adamw``: use :func:`galore`'s ``weight_decay``).

  Args:
    rank: the projection rank ``r``, a Python integer ``≥ 1`` (capped at
      ``min(m, n)``); it fixes shapes, so it is static (with
      ``inject_hyperparams``, list it in ``static_args``).
    update_proj_gap: steps between recomputed projections, ``≥ 1``.
    scale: factor applied to the projected-back updates.
    base_optimizer: the inner transformation; None uses
      :func:`~gradtx.scale_by_adam`.
    weight_dimension_numbers: None projects exactly the 2-D leaves; a
      :class:`GaLoreDimensionNumbers` applies to every leaf of rank ``≥ 2``;
      or a tree like the params (or a function of the params returning one)
      with a :class:`GaLoreDimensionNumbers` or None per leaf.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`GaLoreState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx import contrib
    >>> tx = contrib.scale_by_galore(rank=1)
    >>> p = {'w': jnp.zeros((3, 2)), 'b': jnp.zeros(2)}
    >>> s = tx.init(p)
    >>> s.projector['w'].shape, s.projector['b'].shape
    ((3, 1), (0, 0))

  References:
    Zhao, Zhang, Chen, Wang, Anandkumar & Tian, *GaLore: Memory-Efficient
    LLM Training by Gradient Low-Rank Projection*, ICML 2024.
  """
  if isinstance(rank, bool) or not isinstance(rank, int):
    raise TypeError(f'rank must be an int, got {rank!r} '
                    f'({type(rank).__name__})')
  _checks.check_int('rank', rank, low=1)
  _validation.check_period('update_proj_gap', update_proj_gap)
  _checks.check_callable_or_number('scale', scale)
  inner = base_optimizer if base_optimizer is not None else (
      _adam.scale_by_adam())

  def dim_nums_for(params):
    wdn = weight_dimension_numbers
    if wdn is None:
      return jax.tree.map(
          lambda p: GaLoreDimensionNumbers() if jnp.ndim(p) == 2 else None,
          params)
    if isinstance(wdn, GaLoreDimensionNumbers):
      return jax.tree.map(lambda p: wdn if jnp.ndim(p) >= 2 else None, params)
    if callable(wdn):
      return wdn(params)
    return wdn

  def split(tree, like):
    """A tree of pairs (like ``like``) into a pair of trees."""
    outer = jax.tree.structure(like)
    return jax.tree.transpose(outer, jax.tree.structure((0, 0)), tree)

  def init_fn(params):
    if not jax.tree.leaves(params):
      return GaLoreState(_hyper.zero_count(), inner.init(params), params)

    def shapes(p, dn):
      if dn is None:
        return jnp.zeros((0, 0), p.dtype), jnp.zeros_like(p)
      to_2d, _ = _matrix_view(p, dn)
      m, n = to_2d(p).shape
      use_left, r = _plan((m, n), rank)
      return (jnp.zeros((m, r) if use_left else (n, r), p.dtype),
              jnp.zeros((r, n) if use_left else (m, r), p.dtype))

    projectors, proxies = split(
        jax.tree.map(shapes, params, dim_nums_for(params),
                     is_leaf=_is_dim_nums_leaf), params)
    return GaLoreState(_hyper.zero_count(), inner.init(proxies), projectors)

  def update_fn(updates, state, params=None):
    del params
    refresh = state.count % update_proj_gap == 0
    dim_nums = dim_nums_for(updates)

    def project(g, proj, dn):
      if dn is None:
        return g, proj
      to_2d, _ = _matrix_view(g, dn)
      g2 = to_2d(g)
      use_left, r = _plan(g2.shape, rank)

      def fresh():
        u, _, vh = jnp.linalg.svd(g2.astype(jnp.float32), full_matrices=False)
        new = u[:, :r] if use_left else vh[:r, :].T
        return new.astype(proj.dtype)

      proj = jax.lax.cond(refresh, fresh, lambda: proj)
      p32, g32 = proj.astype(jnp.float32), g2.astype(jnp.float32)
      low = p32.T @ g32 if use_left else g32 @ p32
      return low.astype(g.dtype), proj

    def back(n, proj, g, dn):
      if dn is None:
        return n
      to_2d, from_2d = _matrix_view(g, dn)
      use_left, _ = _plan(to_2d(g).shape, rank)
      p32, n32 = proj.astype(jnp.float32), n.astype(jnp.float32)
      full = p32 @ n32 if use_left else n32 @ p32.T
      return (scale * from_2d(full)).astype(g.dtype)

    low, projectors = split(
        jax.tree.map(project, updates, state.projector, dim_nums,
                     is_leaf=_is_dim_nums_leaf), updates)
    new_low, inner_state = inner.update(low, state.base_optimizer_state, None)
    out = jax.tree.map(back, new_low, projectors, updates, dim_nums,
                       is_leaf=_is_dim_nums_leaf)
    return out, GaLoreState(
        count=tu.safe_increment(state.count),
        base_optimizer_state=inner_state,
        projector=projectors,
    )

  return base.transformation('scale_by_galore', init_fn, update_fn)


def galore(
    learning_rate: base.ScalarOrSchedule,
    rank: int = 128,
    update_proj_gap: int = 200,
    scale: float = 1.0,
    base_optimizer: Optional[base.GradientTransformation] = None,
    weight_decay: base.ScalarOrSchedule = 0.0,
    mask: Optional[Union[Any, Callable[[base.Params], Any]]] = None,
    weight_dimension_numbers: Optional[Any] = None,
) -> base.GradientTransformationExtraArgs:
  r"""GaLore: full-parameter training with low-rank optimizer state.

  ``u = −η_t·(scale·P·N + λ·θ)``, where ``N`` is ``base_optimizer``'s (Adam
  by default) update of the projected gradient ``Pᵀ·G`` and ``P`` spans the
  top ``rank`` singular vectors of the gradient, refreshed every
  ``update_proj_gap`` steps; see :func:`scale_by_galore`.
  ``chain(scale_by_galore, add_decayed_weights(λ, mask),
  scale_by_learning_rate(η))``: the decay is applied in the full space.

  Args:
    learning_rate: a constant or a schedule (1.0 if ``base_optimizer``
      already has a learning rate).
    rank, update_proj_gap, scale, base_optimizer, weight_dimension_numbers:
      see :func:`scale_by_galore`.
    weight_decay: decoupled decay ``λ ≥ 0``.
    mask: a tree of booleans (or a function of the params returning one)
      selecting the params to decay.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from gradtx import contrib
    >>> f = lambda p: jnp.sum(p['w'] ** 2)
    >>> opt = contrib.galore(0.01, rank=4)
    >>> params = {'w': jnp.ones((8, 8)), 'b': jnp.ones(8)}
    >>> state = opt.init(params)
    >>> for _ in range(5):
    ...   u, state = opt.update(jax.grad(f)(params), state, params)
    ...   params = gradtx.apply_updates(params, u)
    >>> f(params).round(3)  # rank-1 gradient: each entry moves 5·0.01/√8
    Array(61.759, dtype=float32)

  References:
    Zhao et al., *GaLore: Memory-Efficient LLM Training by Gradient Low-Rank
    Projection*, ICML 2024.
  """
  return base.chain(
      scale_by_galore(rank=rank, update_proj_gap=update_proj_gap,
                      scale=scale, base_optimizer=base_optimizer,
                      weight_dimension_numbers=weight_dimension_numbers),
      _decay.add_decayed_weights(weight_decay, mask),
      _scaling.scale_by_learning_rate(learning_rate),
  )
