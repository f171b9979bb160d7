"""SGD with Polyak's step size."""

from __future__ import annotations

from gradtx import base
from gradtx.optimizers._sgd import sgd as _sgd
from gradtx.transforms import polyak as _polyak


def polyak_sgd(
    max_learning_rate: float = 1.0,
    scaling: base.ScalarOrSchedule = 1.0,
    f_min: float = 0.0,
    eps: float = 0.0,
    variant: str = 'sps',
) -> base.GradientTransformationExtraArgs:
  r"""SGD with Polyak's step size; ``update`` needs ``value=f(θ)``.

  ``chain(sgd(scaling), scale_by_polyak(f_min, max_learning_rate, eps,
  variant))``, as in Optax: with ``d = −s_t·g`` the SGD direction,

  .. code-block:: text

    u = −min((f(θ) − f_min) / (‖d‖² + eps), max_learning_rate)·d

  so for the default ``scaling = 1`` the step size is
  ``γ = min((f − f*) / (‖g‖² + eps), γ_max)``, Loizou et al.'s SPS_max. Set
  ``f_min`` to a lower bound on the loss (0 for interpolating models); a bad
  bound can diverge.

  Args:
    max_learning_rate: ``γ_max ≥ 0``.
    scaling: ``s_t``, a constant or a schedule.
    f_min: the lower bound ``f*``.
    eps: added to the squared norm, ``≥ 0``.
    variant: ``'sps'``, or ``'sps+'`` to clip a negative gap to 0.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`; ``update`` takes the
    keyword ``value``.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> f = lambda x: jnp.sum(x ** 2)
    >>> opt = gradtx.polyak_sgd()
    >>> params = jnp.array([1.0, 2.0, 3.0])
    >>> state = opt.init(params)
    >>> value, grad = jax.value_and_grad(f)(params)
    >>> updates, state = opt.update(grad, state, params, value=value)
    >>> gradtx.apply_updates(params, updates)  # γ = 14 / 56 = 1/4: x − x/2
    Array([0.5, 1. , 1.5], dtype=float32)

  References:
    Loizou et al., *Stochastic Polyak Step-size for SGD: An Adaptive Learning
    Rate for Fast Convergence*, AISTATS 2021.
  """
  return base.chain(
      _sgd(learning_rate=scaling),
      _polyak.scale_by_polyak(
          f_min=f_min, max_learning_rate=max_learning_rate, eps=eps,
          variant=variant,
      ),
  )
