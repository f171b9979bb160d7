"""ACProp: AdaBelief's centred second moment, applied asynchronously."""

from __future__ import annotations

from typing import Any, Callable, Optional, Union

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx import _leafwise
from gradtx.transforms import adam as _adam
from gradtx.transforms import decay as _decay
from gradtx.transforms import scaling as _scaling


def scale_by_acprop(
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-16,
    eps_root: float = 1e-16,
    *,
    mu_dtype: Optional[Any] = None,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformation:
  r"""Rescales the gradient by the *previous* centred second moment (ACProp).

  .. code-block:: text

    u = g / (√ŝ + eps),   ŝ = s_old / (1 − b2ᵗ⁻¹)   (ŝ = 1 at the first step)
    m ← b1·m + (1 − b1)·g
    s ← b2·s + (1 − b2)·|g − m_old|² + eps_root

  The denominator uses only past gradients (the asynchronous update), and
  the numerator is the raw gradient, not the momentum. As in Optax, the
  residual ``g − m`` is taken against the momentum *before* this step's
  update. The moments are computed in float32 and stored in ``mu_dtype`` /
  ``nu_dtype``.

  Args:
    b1: decay of the first moment, in ``[0, 1)``.
    b2: decay of the centred second moment, in ``[0, 1)``.
    eps: added to the root in the denominator, ``≥ 0``.
    eps_root: added to the second moment at each step, ``≥ 0`` (non-zero
      when differentiating through the optimizer).
    mu_dtype: dtype of the first moment; None keeps the params' dtype.
    nu_dtype: dtype of the second moment; None keeps the params' (real) dtype.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`~gradtx.ScaleByBeliefState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx import contrib
    >>> tx = contrib.scale_by_acprop(b2=0.5, eps=0.0, eps_root=0.0)
    >>> s = tx.init(jnp.zeros(1))
    >>> u, s = tx.update(jnp.array([4.0]), s)  # ŝ = 1 at the first step
    >>> u, s = tx.update(jnp.array([2.0]), s)  # ŝ = 0.5·16/0.5 = 16
    >>> u
    Array([0.5], dtype=float32)

  References:
    Zhuang, Ding, Tang, Dvornek, Tatikonda & Duncan, *Momentum Centering and
    Asynchronous Update for Adaptive Gradient Methods*, NeurIPS 2021.
  """
  _adam.check_adam_args(b1, b2, eps, eps_root)
  mu_dtype = _checks.check_dtype('mu_dtype', mu_dtype)
  nu_dtype = _checks.check_dtype('nu_dtype', nu_dtype)

  def init_fn(params):
    return _adam.ScaleByBeliefState(
        count=_hyper.zero_count(),
        mu=_leafwise.zeros_state(params, mu_dtype),
        nu=_leafwise.real_full_like(params, 0, nu_dtype),
    )

  def update_fn(updates, state, params=None):
    del params
    g = tu.upcast(updates)
    mu = tu.update_moment(g, state.mu, b1, 1)
    residual = jax.tree.map(lambda gi, m: gi - m, g, tu.upcast(state.mu))
    nu = jax.tree.map(lambda v: v + eps_root,
                      tu.update_moment_per_elem_norm(residual, state.nu, b2, 2))
    first = state.count == 0
    nu_hat = tu.bias_correction(state.nu, b2, jnp.maximum(state.count, 1))
    out = jax.tree.map(
        lambda gi, v: gi / (jnp.sqrt(jnp.where(first, 1.0, v)) + eps),
        g, nu_hat)
    return _leafwise.like_updates(out, updates), _adam.ScaleByBeliefState(
        count=tu.safe_increment(state.count),
        mu=_leafwise.store_like(mu, state.mu),
        nu=_leafwise.store_like(nu, state.nu),
    )

  return base.transformation('scale_by_acprop', init_fn, update_fn)


def acprop(
    learning_rate: base.ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-16,
    eps_root: float = 1e-16,
    weight_decay: base.ScalarOrSchedule = 0.0,
    mask: Optional[Union[Any, Callable[[base.Params], Any]]] = None,
    *,
    mu_dtype: Optional[Any] = None,
    nu_dtype: Optional[Any] = None,
) -> base.GradientTransformationExtraArgs:
  r"""ACProp: ``chain(scale_by_acprop, add_decayed_weights, scale_by_learning_rate)``.

  ``u = −η_t·(g/(√ŝ_{t−1} + eps) + λ·θ)`` with ``ŝ`` the debiased centred
  second moment of the *previous* steps; see :func:`scale_by_acprop`. The
  weight decay is multiplied by the learning rate (PyTorch's convention).

  Args:
    learning_rate: a constant or a schedule.
    b1, b2, eps, eps_root, mu_dtype, nu_dtype: see :func:`scale_by_acprop`.
    weight_decay: ``λ ≥ 0``, a constant or a schedule.
    mask: a tree of booleans (or a function of the params returning one)
      selecting the params to decay.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from gradtx import contrib
    >>> opt = contrib.acprop(0.1)
    >>> params = jnp.array([1.0, -2.0])
    >>> state = opt.init(params)
    >>> g = jax.grad(lambda p: jnp.sum(p ** 2))(params)
    >>> u, state = opt.update(g, state, params)
    >>> u  # the first step is −η·g (ŝ = 1)
    Array([-0.2,  0.4], dtype=float32)

  References:
    Zhuang et al., *Momentum Centering and Asynchronous Update for Adaptive
    Gradient Methods*, NeurIPS 2021; the authors' PyTorch code at
    https://github.com/juntang-zhuang/ACProp-Optimizer.
  """
  return base.chain(
      scale_by_acprop(b1, b2, eps, eps_root, mu_dtype=mu_dtype,
                      nu_dtype=nu_dtype),
      _decay.add_decayed_weights(weight_decay, mask),
      _scaling.scale_by_learning_rate(learning_rate),
  )
