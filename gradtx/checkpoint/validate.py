"""Checking a restored optimizer state against the optimizer and the params."""

from __future__ import annotations

from typing import Any

import jax

from gradtx import base
from gradtx.checkpoint import _layout


class StateMismatchError(ValueError):
  """A state that does not fit the optimizer and params it is used with.

  The message names the first path where the two differ and what each side
  has there (a class, a shape and dtype, or nothing).
  """


def check_state(
    opt: base.GradientTransformation, params: base.Params, state: base.OptState
) -> None:
  """Raises :class:`StateMismatchError` unless ``state`` fits ``opt`` and ``params``.

  The state fits when it has the layout of ``opt.init(params)``: the same
  tree structure, the same state classes (``ScaleByAdamState``,
  ``EmptyState``, ...), and leaves of the same shapes and dtypes.
  ``opt.init`` is traced with :func:`jax.eval_shape`, so no array is
  allocated. Values are not compared, so a state whose
  :func:`gradtx.inject_hyperparams` values differ from the ones ``opt`` was
  built with fits (the state's values are the ones the next update uses for
  constant hyperparameters; see ``docs/checkpointing.md``). The static
  configuration of dataclass states (a loss scale's ``growth_interval``, say)
  is not compared either.

  Typical mismatches: a state written by another optimizer (Adam's state
  given to Lion), a layer added to the model since the state was saved, a
  changed ``mu_dtype``.

  Args:
    opt: the optimizer the state will be used with.
    params: the params (arrays or :class:`jax.ShapeDtypeStruct`) it will be
      used with.
    state: the state to check (arrays, NumPy arrays or
      :class:`jax.ShapeDtypeStruct`).

  Returns:
    None.

  Raises:
    StateMismatchError: naming the first differing path and both sides.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> from gradtx.checkpoint import check_state
    >>> params = {'w': jnp.zeros(3)}
    >>> check_state(gradtx.adam(1e-3), params, gradtx.adam(1e-3).init(params))
    >>> check_state(gradtx.lion(1e-3), params, gradtx.adam(1e-3).init(params))
    Traceback (most recent call last):
    ...
    gradtx.checkpoint.validate.StateMismatchError: the state does not fit the optimizer and params: first difference at state[0]:
      opt.init(params): a ScaleByLionState
      state given:      a ScaleByAdamState
    (the state was made by another optimizer or transformation)
  """
  expected = jax.eval_shape(opt.init, params)
  message = _layout.first_difference(
      _layout.layout(expected), _layout.layout(state),
      'opt.init(params)', 'state given')
  if message is not None:
    raise StateMismatchError(
        f'the state does not fit the optimizer and params: {message}')
