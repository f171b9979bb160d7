"""L-BFGS: a quasi-Newton method with a line search."""

from __future__ import annotations

from typing import Optional, Union

from gradtx import base
from gradtx.transforms import lbfgs as _lbfgs
from gradtx.transforms import scaling as _scaling
from gradtx.transforms import zoom_linesearch as _zoom


def lbfgs(
    learning_rate: Optional[base.ScalarOrSchedule] = None,
    memory_size: int = 10,
    scale_init_precond: bool = True,
    linesearch: Optional[Union[
        base.GradientTransformationExtraArgs, base.GradientTransformation
    ]] = _zoom.scale_by_zoom_linesearch(
        max_linesearch_steps=20, initial_guess_strategy='one'
    ),
) -> base.GradientTransformationExtraArgs:
  """L-BFGS: ``chain(scale_by_lbfgs, scale(−η or −1), linesearch)``.

  ``u = η_ls·(−η_t·P_k g_k)`` with ``P_k`` the L-BFGS inverse-Hessian
  estimate (:func:`gradtx.scale_by_lbfgs`) and ``η_ls`` the step size chosen
  by the line search (by default a zoom line search, 20 evaluations at most,
  starting at 1). Its ``update`` then needs ``params`` and the keywords
  ``value``, ``grad`` and ``value_fn``; use
  :func:`gradtx.value_and_grad_from_state` to reuse the line search's last
  evaluation. With ``linesearch=None``, it is a plain transformation.

  Args:
    learning_rate: ``η``, a constant or a schedule; None means 1 (the line
      search chooses the step).
    memory_size: number of past pairs kept, ``≥ 1``.
    scale_init_precond: see :func:`gradtx.scale_by_lbfgs`.
    linesearch: a line search such as :func:`gradtx.scale_by_zoom_linesearch`
      or :func:`gradtx.scale_by_backtracking_linesearch`; None for none.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> def rosenbrock(w):
    ...   return jnp.sum(100 * (w[1:] - w[:-1] ** 2) ** 2 + (1 - w[:-1]) ** 2)
    >>> opt = gradtx.lbfgs()
    >>> value_and_grad = gradtx.value_and_grad_from_state(rosenbrock)
    >>> @jax.jit
    ... def step(w, state):
    ...   value, grad = value_and_grad(w, state=state)
    ...   u, state = opt.update(grad, state, w, value=value, grad=grad,
    ...                         value_fn=rosenbrock)
    ...   return gradtx.apply_updates(w, u), state
    >>> w = jnp.zeros(4)
    >>> state = opt.init(w)
    >>> for _ in range(40):
    ...   w, state = step(w, state)
    >>> print(jnp.round(w, 3))
    [1. 1. 1. 1.]

  References:
    Nocedal & Wright, *Numerical Optimization*, 2nd ed., 2006, Algorithms
    7.4 and 7.5.
    Liu & Nocedal, *On the Limited Memory BFGS Method for Large Scale
    Optimization*, Mathematical Programming 45, 1989.
  """
  if learning_rate is None:
    base_scaling = _scaling.scale(-1.0)
  else:
    base_scaling = _scaling.scale_by_learning_rate(learning_rate)
  return base.chain(
      _lbfgs.scale_by_lbfgs(
          memory_size=memory_size, scale_init_precond=scale_init_precond
      ),
      base_scaling,
      base.identity() if linesearch is None else linesearch,
  )
