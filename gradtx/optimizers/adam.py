"""The Adam family of optimizers, each a short chain of transformations."""

from __future__ import annotations

from typing import Any, Callable, Optional, Union

from gradtx import base
from gradtx.transforms import adam as _adam
from gradtx.transforms import decay as _decay
from gradtx.transforms import scaling as _scaling

MaskOrFn = Optional[Union[Any, Callable[[base.Params], Any]]]


def adam(
    learning_rate: base.ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: Optional[Any] = None,
    *,
    nu_dtype: Optional[Any] = None,
    nesterov: bool = False,
) -> base.GradientTransformationExtraArgs:
  """Adam: ``chain(scale_by_adam(...), scale_by_learning_rate(lr))``.

  ``u = −η_t · m̂ / (√(v̂ + eps_root) + eps)``; see :func:`gradtx.scale_by_adam`.
  This is PyTorch's ``Adam`` (form P in the framework notes), with the
  weight decay left out: use :func:`adamw` for decoupled decay.

  Args:
    learning_rate: a constant or a schedule.
    b1, b2, eps, eps_root, mu_dtype, nu_dtype, nesterov: see
      :func:`gradtx.scale_by_adam`.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> opt = gradtx.adam(0.1)
    >>> params = jnp.array([1.0, -2.0])
    >>> state = opt.init(params)
    >>> for _ in range(3):
    ...   grads = jax.grad(lambda p: jnp.sum(p ** 2))(params)
    ...   updates, state = opt.update(grads, state)
    ...   params = gradtx.apply_updates(params, updates)
    >>> params
    Array([ 0.70000005, -1.7       ], dtype=float32)

  References:
    Kingma & Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015.
  """
  return base.chain(
      _adam.scale_by_adam(
          b1, b2, eps, eps_root, mu_dtype, nu_dtype=nu_dtype, nesterov=nesterov
      ),
      _scaling.scale_by_learning_rate(learning_rate),
  )


def adamw(
    learning_rate: base.ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: Optional[Any] = None,
    weight_decay: base.ScalarOrSchedule = 1e-4,
    mask: MaskOrFn = None,
    *,
    nu_dtype: Optional[Any] = None,
    nesterov: bool = False,
) -> base.GradientTransformationExtraArgs:
  """Adam with decoupled weight decay.

  ``u = −η_t · (m̂ / (√(v̂ + eps_root) + eps) + λ·θ)``, i.e.
  ``chain(scale_by_adam, add_decayed_weights(λ, mask), scale_by_learning_rate)``.
  The default ``λ = 1e-4`` follows Optax; PyTorch's ``AdamW`` uses 1e-2.

  Args:
    learning_rate: a constant or a schedule.
    b1, b2, eps, eps_root, mu_dtype, nu_dtype, nesterov: see
      :func:`gradtx.scale_by_adam`.
    weight_decay: ``λ ≥ 0``, a constant or a schedule.
    mask: a tree of booleans, or a function of the params returning one, that
      selects the parameters to decay.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> opt = gradtx.adamw(1e-3, weight_decay=1e-2)
    >>> state = opt.init({'w': jnp.ones(3)})

  References:
    Loshchilov & Hutter, *Decoupled Weight Decay Regularization*, ICLR 2019.
  """
  return base.chain(
      _adam.scale_by_adam(
          b1, b2, eps, eps_root, mu_dtype, nu_dtype=nu_dtype, nesterov=nesterov
      ),
      _decay.add_decayed_weights(weight_decay, mask),
      _scaling.scale_by_learning_rate(learning_rate),
  )
