"""Rprop: resilient backpropagation."""

from __future__ import annotations

from gradtx import base
from gradtx.transforms import rprop as _rprop
from gradtx.transforms import scaling as _scaling


def rprop(
    learning_rate: float,
    eta_minus: float = 0.5,
    eta_plus: float = 1.2,
    min_step_size: float = 1e-6,
    max_step_size: float = 50.0,
) -> base.GradientTransformationExtraArgs:
  """Rprop: ``chain(scale_by_rprop(...), scale(-1))``.

  Each coordinate moves by its own step size ``Δ``, which grows by
  ``eta_plus`` while the gradient keeps its sign and shrinks by
  ``eta_minus`` when it flips; the gradient's magnitude is ignored:
  ``u = −Δ·sign(g)`` (zero after a sign change, one step late). See
  :func:`gradtx.scale_by_rprop` for the exact rule (Optax's, including its
  one-step delay). Meant for full-batch training.

  Args:
    learning_rate: the initial step size ``Δ₀ > 0`` (a number, not a
      schedule).
    eta_minus, eta_plus, min_step_size, max_step_size: see
      :func:`gradtx.scale_by_rprop`.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> f = lambda x: x @ x
    >>> opt = gradtx.rprop(0.1)
    >>> params = jnp.array([1.0, 2.0, 3.0])
    >>> state = opt.init(params)
    >>> for _ in range(4):
    ...   updates, state = opt.update(jax.grad(f)(params), state, params)
    ...   params = gradtx.apply_updates(params, updates)
    >>> print(params)  # moved by 0 (first step), then 0.1, 0.12, 0.144
    [0.636 1.636 2.636]

  References:
    Riedmiller & Braun, *A Direct Adaptive Method for Faster Backpropagation
    Learning: The RPROP Algorithm*, ICNN 1993.
    Igel & Hüsken, *Empirical Evaluation of the Improved Rprop Learning
    Algorithms*, Neurocomputing 2003.
  """
  return base.chain(
      _rprop.scale_by_rprop(
          learning_rate=learning_rate, eta_minus=eta_minus, eta_plus=eta_plus,
          min_step_size=min_step_size, max_step_size=max_step_size,
      ),
      _scaling.scale(-1.0),
  )
