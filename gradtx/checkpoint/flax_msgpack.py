"""Making ``flax.serialization`` (msgpack) handle every gradtx state.

``flax.serialization.to_bytes`` already handles NamedTuple states (and so
``EmptyState`` and ``MaskedNode``) and arrays. Two kinds of leaves in gradtx
states need a handler: the loss scales of :mod:`gradtx.mixed_precision`
(frozen dataclasses registered as pytrees, whose configuration is static) and
typed PRNG keys (the noise key of :func:`gradtx.add_noise`), which msgpack
cannot turn into bytes.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import numpy as np

from gradtx.distributed import zero as _zero
from gradtx.mixed_precision import loss_scale as _loss_scale

_LOSS_SCALES = (
    _loss_scale.NoOpLossScale,
    _loss_scale.StaticLossScale,
    _loss_scale.DynamicLossScale,
)


def _array_fields(obj: Any) -> list[str]:
  """The fields of a registered dataclass that hold arrays (not static)."""
  if isinstance(obj, _zero.ZeroState):  # registered with explicit data fields
    return ['inner_state']
  return [f.name for f in dataclasses.fields(obj)
          if not f.metadata.get('static', False)]


def _loss_scale_to_state_dict(obj: Any) -> dict[str, Any]:
  from flax import serialization  # pylint: disable=g-import-not-at-top
  return {k: serialization.to_state_dict(getattr(obj, k)) for k in _array_fields(obj)}


def _loss_scale_from_state_dict(target: Any, state: dict[str, Any]) -> Any:
  from flax import serialization  # pylint: disable=g-import-not-at-top
  names = _array_fields(target)
  if set(state) != set(names):
    raise ValueError(
        f'{type(target).__name__}: the saved fields {sorted(state)} are not '
        f'the fields {sorted(names)}')
  return dataclasses.replace(target, **{
      k: serialization.from_state_dict(getattr(target, k), state[k], name=k)
      for k in names})


def _key_to_state_dict(key: Any) -> dict[str, Any]:
  return {'key_data': np.asarray(jax.random.key_data(key)),
          'impl': str(jax.random.key_impl(key))}


def _key_from_state_dict(target: Any, state: dict[str, Any]) -> Any:
  impl = jax.random.key_impl(target)
  if state.get('impl') != str(impl):
    raise ValueError(
        f'PRNG key: saved with implementation {state.get("impl")!r}, the '
        f'target uses {str(impl)!r}')
  return jax.random.wrap_key_data(np.asarray(state['key_data']), impl=impl)


def register_flax_serialization() -> None:
  """Registers gradtx's non-NamedTuple state leaves with ``flax.serialization``.

  After this call, ``flax.serialization.to_bytes(state)`` and
  ``from_bytes(target, data)`` (msgpack) and ``to_state_dict`` /
  ``from_state_dict`` work for every gradtx state: loss scales are saved as
  their ``loss_scale`` and ``counter`` (their configuration comes from the
  target), typed PRNG keys as their key data. As with any Flax
  deserialisation, the target must be a concrete state (``opt.init(params)``
  works), whose classes the restored state takes. Calling it again does
  nothing.

  Args:
    (none)

  Returns:
    None.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> from flax import serialization
    >>> from gradtx.checkpoint import register_flax_serialization
    >>> register_flax_serialization()
    >>> opt = gradtx.noisy_sgd(0.1, seed=0)
    >>> state = opt.init(jnp.zeros(2))
    >>> data = serialization.to_bytes(state)
    >>> restored = serialization.from_bytes(opt.init(jnp.zeros(2)), data)
    >>> type(restored[0]).__name__
    'AddNoiseState'
  """
  from flax import serialization  # pylint: disable=g-import-not-at-top
  for cls in _LOSS_SCALES + (_zero.ZeroState,):
    if not serialization.is_serializable(cls):
      serialization.register_serialization_state(
          cls, _loss_scale_to_state_dict, _loss_scale_from_state_dict)
  key_type = type(jax.random.key(0))
  if not serialization.is_serializable(key_type):
    serialization.register_serialization_state(
        key_type, _key_to_state_dict, _key_from_state_dict)
