"""L-BFGS: precondition by a low-rank inverse-Hessian estimate from past steps."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import _leafwise
from gradtx import base
from gradtx import tree as tu


class ScaleByLBFGSState(NamedTuple):
  """State of :func:`scale_by_lbfgs` (field names as in Optax)."""

  count: jax.Array  # int32 scalar: number of updates seen so far.
  params: base.Params  # params at the last update, like params.
  updates: base.Updates  # incoming updates (gradients) at the last update.
  diff_params_memory: base.Updates  # ring buffer of δw = w_{k+1} − w_k: each
  # leaf has shape (memory_size, *param.shape), in the params' dtype.
  diff_updates_memory: base.Updates  # ring buffer of δu = u_{k+1} − u_k, same.
  weights_memory: jax.Array  # (memory_size,) float32: ρ = 1 / ⟨δu, δw⟩.


def _real_vdot(x, y):
  return jnp.real(tu.vdot(x, y))


def _two_loop(direction, dw_memory, du_memory, rhos, gamma, newest):
  """``P·direction`` by the two-loop recursion (Nocedal & Wright, Alg. 7.4).

  The memory is a ring buffer whose oldest slot is ``newest``; the first
  loop runs newest to oldest, the second oldest to newest. Empty slots have
  ``ρ = 0`` and change nothing.
  """
  m = rhos.shape[0]
  order = (newest + jnp.arange(m)) % m
  at = lambda i: jax.tree.map(lambda x: x[i], (dw_memory, du_memory))

  def backward(q, i):
    dw, du = at(i)
    a = rhos[i] * _real_vdot(dw, q)
    return tu.cast_like(tu.add_scale(q, -a, du), q), a

  q, alphas = jax.lax.scan(backward, direction, order, reverse=True)
  r = tu.scale(gamma, q)

  def forward(r, i_a):
    i, a = i_a
    dw, du = at(i)
    b = rhos[i] * _real_vdot(du, r)
    return tu.cast_like(tu.add_scale(r, a - b, dw), r), None

  r, _ = jax.lax.scan(forward, r, (order, alphas))
  return r


def scale_by_lbfgs(
    memory_size: int = 10,
    scale_init_precond: bool = True,
) -> base.GradientTransformation:
  r"""Multiplies updates by the L-BFGS estimate of the inverse Hessian.

  With ``δw_j = w_{j+1} − w_j`` and ``δu_j = u_{j+1} − u_j`` (params and
  incoming updates of consecutive calls), the last ``m = memory_size`` pairs
  define

  .. code-block:: text

    P_{k,k−m} = γ_k·I
    P_{k,j+1} = V_jᵀ P_{k,j} V_j + ρ_j δw_j δw_jᵀ,   V_j = I − ρ_j δu_j δw_jᵀ
    ρ_j = 1 / ⟨δu_j, δw_j⟩    (0 when the product is 0)
    γ_k = ⟨δw_{k−1}, δu_{k−1}⟩ / ‖δu_{k−1}‖²   if scale_init_precond, else 1
    γ_0 = min(1, 1 / ‖u_0‖)                    (first call, as in Optax)
    output = P_k u_k     (two-loop recursion; no sign flip, no step size)

  The memory is updated *before* preconditioning, so chained with a line
  search the pair of a step is stored once the step has been taken. Compute
  is in float32 (or wider); the buffers are stored in the params' dtype.
  ``update`` needs ``params``. Complex params are supported (``⟨·,·⟩`` is the
  real part of the Hermitian product).

  Args:
    memory_size: number of past pairs kept, ``≥ 1``.
    scale_init_precond: use the scaled identity ``γ_k·I`` (otherwise ``I``)
      as the initial inverse-Hessian estimate.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`ScaleByLBFGSState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> tx = gradtx.scale_by_lbfgs()
    >>> w = jnp.array([3.0, 4.0])
    >>> u, s = tx.update(w, tx.init(w), w)  # f = ‖w‖²/2: gradient w
    >>> u  # first call: γ_0 = 1/‖u‖ = 1/5
    Array([0.6, 0.8], dtype=float32)

  References:
    Nocedal & Wright, *Numerical Optimization*, 2nd ed., 2006, Algorithms
    7.4 and 7.5.
    Liu & Nocedal, *On the Limited Memory BFGS Method for Large Scale
    Optimization*, Mathematical Programming 45, 1989.
  """
  _checks.check_int('memory_size', memory_size, low=1)

  def init_fn(params):
    stacked = jax.tree.map(
        lambda p: jnp.zeros((memory_size,) + jnp.shape(p), jnp.result_type(p)),
        params,
    )
    return ScaleByLBFGSState(
        count=_hyper.zero_count(),
        params=tu.zeros_like(params),
        updates=tu.zeros_like(params),
        diff_params_memory=stacked,
        diff_updates_memory=stacked,
        weights_memory=jnp.zeros(memory_size, jnp.float32),
    )

  def update_fn(updates, state, params=None):
    _checks.require_params('scale_by_lbfgs', params)
    g, w = tu.upcast(updates), tu.upcast(params)
    started = state.count > 0
    newest = state.count % memory_size
    previous = (state.count - 1) % memory_size

    # 1. Store the pair of the step just taken (nothing on the first call).
    dw = tu.sub(w, tu.upcast(state.params))
    du = tu.sub(g, tu.upcast(state.updates))
    curvature = _real_vdot(du, dw)
    rho = jnp.where(curvature == 0.0, 0.0, 1.0 / curvature)
    dw, du, rho = tu.where(
        started, (dw, du, rho), tu.zeros_like((dw, du, rho))
    )
    dw_memory, du_memory = jax.tree.map(
        lambda buf, x: buf.at[previous].set(x.astype(buf.dtype)),
        (state.diff_params_memory, state.diff_updates_memory), (dw, du),
    )
    rhos = state.weights_memory.at[previous].set(rho.astype(jnp.float32))

    # 2. The scale γ of the initial estimate.
    if scale_init_precond:
      du_sq = tu.norm(du, squared=True)
      gamma = jnp.where(du_sq > 0.0, _real_vdot(du, dw) / du_sq, 1.0)
      first = jnp.minimum(1.0, 1.0 / tu.norm(jax.lax.stop_gradient(g)))
      gamma = jnp.where(started, gamma, first)
    else:
      gamma = 1.0

    # 3. Precondition by the two-loop recursion.
    out = _two_loop(g, tu.upcast(dw_memory), tu.upcast(du_memory), rhos,
                    gamma, newest)
    return _leafwise.like_updates(out, updates), ScaleByLBFGSState(
        count=tu.safe_increment(state.count),
        params=_leafwise.store_like(params, state.params),
        updates=_leafwise.store_like(updates, state.updates),
        diff_params_memory=dw_memory,
        diff_updates_memory=du_memory,
        weights_memory=rhos,
    )

  return base.transformation('scale_by_lbfgs', init_fn, update_fn)
