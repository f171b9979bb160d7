"""Loss scales: immutable pytrees that scale a loss up and its gradients down.

Training with float16 activations loses small gradients to underflow: the
smallest positive float16 is about 6e-8. Multiplying the loss by a large
factor ``S`` before differentiating multiplies every gradient by ``S`` too,
which lifts them into float16's range; dividing the gradients by ``S``
afterwards (in float32) gives back the true gradients.

Each loss scale here is a small frozen dataclass registered with
:func:`jax.tree_util.register_dataclass`: the changing values (the scale and a
counter) are leaves, the configuration is static metadata, so the whole object
survives ``jit``, ``pmap`` and ``lax.scan`` with every field intact. Each one
has

* ``loss_scale``: the current scale, a float32 scalar;
* ``scale(loss)``: ``loss · S``;
* ``unscale(grads)``: ``g · (1/S)``, leaf by leaf, each leaf in its own dtype;
* ``adjust(grads_finite)``: the next loss scale (a new object).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Optional

import jax
import jax.numpy as jnp
import numpy as np

from gradtx import _checks
from gradtx import _hyper
from gradtx import tree as tu

_STATIC = {'static': True}
_UNSET = object()  # "not given": the field is built from the constructor args.


def _is_number(x: Any) -> bool:
  return isinstance(x, (int, float, np.number, np.ndarray)) and not isinstance(
      x, bool
  )


def _scale_value(name: str, value: Any) -> jax.Array:
  """A finite, positive float32 scalar scale, checked in plain Python."""
  _checks.check_callable_or_number(name, value)
  if callable(value):
    raise ValueError(f'{name} must be a number, not a schedule, got {value!r}')
  if np.ndim(value) != 0:
    raise ValueError(f'{name} must be a scalar, got shape {np.shape(value)}')
  _checks.check_positive(name, value)
  if _checks._is_concrete_number(value) and not math.isfinite(float(value)):  # pylint: disable=protected-access
    raise ValueError(f'{name} must be finite, got {value!r}')
  return jnp.asarray(value, jnp.float32)


def _scale_loss(loss: Any, loss_scale: jax.Array) -> Any:
  """``loss · S`` in the wider of the loss's dtype and float32."""
  return jax.tree.map(
      lambda x: jnp.asarray(x).astype(tu.compute_dtype(x)) * loss_scale, loss
  )


def _unscale_grads(grads: Any, loss_scale: jax.Array) -> Any:
  """``g · (1/S)`` computed in float32 (or wider), returned in g's dtype.

  The reciprocal is taken once in float32, as ``torch.amp.GradScaler`` does;
  for the power-of-two scales that dynamic scaling produces this is exactly a
  division.
  """
  inv = 1.0 / loss_scale

  def leaf(g):
    if g is None:
      return None
    g = jnp.asarray(g)
    return (g.astype(tu.compute_dtype(g)) * inv).astype(g.dtype)

  return jax.tree.map(leaf, grads, is_leaf=lambda x: x is None)


class _LossScaleMethods:
  """``scale`` and ``unscale`` shared by the loss scales that hold a scale."""

  loss_scale: Any

  def scale(self, loss: Any) -> Any:
    """Returns ``loss · loss_scale`` (a tree of losses is scaled leafwise).

    The product is computed and returned in the wider of the loss's dtype and
    float32, so a float16 loss is not overflowed by the multiplication itself.
    """
    return _scale_loss(loss, self.loss_scale)

  def unscale(self, grads: Any) -> Any:
    """Returns ``grads · (1 / loss_scale)``, each leaf in its own dtype."""
    return _unscale_grads(grads, self.loss_scale)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class NoOpLossScale:
  """No loss scaling: ``scale`` and ``unscale`` return their input unchanged.

  Use it where a loss scale is expected but none is wanted (float32 or
  bfloat16 training). ``loss_scale`` is always ``1.0``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> ls = gradtx.NoOpLossScale()
    >>> ls.scale(jnp.float32(3.0)), float(ls.loss_scale)
    (Array(3., dtype=float32), 1.0)
  """

  @property
  def loss_scale(self) -> jax.Array:
    """Always ``1.0`` (float32)."""
    return jnp.ones([], jnp.float32)

  def scale(self, loss: Any) -> Any:
    """Returns ``loss`` unchanged."""
    return loss

  def unscale(self, grads: Any) -> Any:
    """Returns ``grads`` unchanged."""
    return grads

  def adjust(self, grads_finite: Any) -> 'NoOpLossScale':
    """Returns ``self``: there is nothing to adjust."""
    del grads_finite
    return self


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class StaticLossScale(_LossScaleMethods):
  """A constant loss scale ``S``.

  ``scale(loss) = loss · S``; ``unscale(g) = g / S``; ``adjust`` keeps ``S``.
  Wrapped in :func:`gradtx.with_loss_scale`, steps whose gradients are not
  finite are still skipped (MindSpore's ``FixedLossScaleManager`` with
  ``drop_overflow_update=True``).

  Attributes:
    loss_scale: the scale, a finite positive number (stored as a float32
      scalar).

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> ls = gradtx.StaticLossScale(128.0)
    >>> ls.scale(jnp.float32(0.5)), ls.unscale(jnp.float32(64.0))
    (Array(64., dtype=float32), Array(0.5, dtype=float32))
  """

  loss_scale: Any  # float32 scalar: the scale S.

  def __post_init__(self):
    if _is_number(self.loss_scale):
      object.__setattr__(
          self, 'loss_scale', _scale_value('loss_scale', self.loss_scale)
      )

  def adjust(self, grads_finite: Any) -> 'StaticLossScale':
    """Returns ``self``: a static scale never changes."""
    del grads_finite
    return self


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class DynamicLossScale(_LossScaleMethods):
  r"""A loss scale that backs off on overflow and grows while steps succeed.

  After each step, with ``finite`` telling whether every gradient was finite:

  .. code-block:: text

    not finite:  S ← max(S · backoff_factor, min_scale);  counter ← 0
    finite:      counter ← counter + 1
                 if counter == growth_interval:
                   S ← min(S · growth_factor, max_scale)   (kept if not finite)
                   counter ← 0

  This is the rule of PyTorch's ``torch.amp.GradScaler``, Keras's
  ``LossScaleOptimizer`` and MindSpore's ``DynamicLossScaleManager``; they
  differ only in their defaults and in the floor ``min_scale``. The presets
  :func:`gradtx.torch_grad_scaler`, :func:`gradtx.keras_loss_scale` and
  :func:`gradtx.mindspore_loss_scale` build each one exactly.

  Args:
    init_scale: the initial scale, finite and ``> 0`` (default ``2**15``).
    loss_scale: the current scale; leave it out to start from ``init_scale``
      (give it to restore a saved loss scale).
    counter: finite steps since the last change of scale (int32); leave it
      out to start from 0.
    growth_interval: number of consecutive finite steps after which the scale
      grows, an integer ``≥ 1`` (default 2000).
    growth_factor: multiplier on growth, ``≥ 1`` (default 2).
    backoff_factor: multiplier on overflow, in ``(0, 1]`` (default 0.5).
    min_scale: floor on backoff, ``≥ 0`` (default 1; 0 for no floor).
    max_scale: cap on growth, or None for no cap (default).

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> ls = gradtx.DynamicLossScale(init_scale=2.0**10, growth_interval=2)
    >>> ls = ls.adjust(jnp.array(False))   # overflow: back off
    >>> float(ls.loss_scale)
    512.0
    >>> ls = ls.adjust(jnp.array(True)).adjust(jnp.array(True))  # grow
    >>> float(ls.loss_scale), int(ls.counter)
    (1024.0, 0)

  References:
    Micikevicius et al., *Mixed Precision Training*, ICLR 2018.
  """

  init_scale: dataclasses.InitVar[Any] = 2.0**15
  loss_scale: Any = _UNSET  # float32 scalar: the current scale S.
  counter: Any = _UNSET  # int32 scalar: finite steps since the last change.
  growth_interval: int = dataclasses.field(default=2000, metadata=_STATIC)
  growth_factor: float = dataclasses.field(default=2.0, metadata=_STATIC)
  backoff_factor: float = dataclasses.field(default=0.5, metadata=_STATIC)
  min_scale: float = dataclasses.field(default=1.0, metadata=_STATIC)
  max_scale: Optional[float] = dataclasses.field(default=None, metadata=_STATIC)

  def __post_init__(self, init_scale):
    # The configuration is static (it is part of the tree structure), so it is
    # validated here and stored as plain Python numbers.
    _checks.check_int('growth_interval', self.growth_interval, low=1)
    for name, low, high, low_incl in (
        ('growth_factor', 1.0, None, True),
        ('backoff_factor', 0.0, 1.0, False),
        ('min_scale', 0.0, None, True),
    ):
      value = getattr(self, name)
      _checks.check_callable_or_number(name, value)
      _checks.check_range(name, value, low, high, low_inclusive=low_incl)
      object.__setattr__(self, name, float(value))
    if self.max_scale is not None:
      _checks.check_callable_or_number('max_scale', self.max_scale)
      _checks.check_positive('max_scale', self.max_scale)
      object.__setattr__(self, 'max_scale', float(self.max_scale))
      if self.max_scale < self.min_scale:
        raise ValueError(
            f'max_scale must be >= min_scale, got max_scale={self.max_scale} '
            f'and min_scale={self.min_scale}'
        )
    if self.loss_scale is _UNSET:
      object.__setattr__(self, 'loss_scale', _scale_value('init_scale', init_scale))
    elif _is_number(self.loss_scale):
      object.__setattr__(
          self, 'loss_scale', _scale_value('loss_scale', self.loss_scale)
      )
    if self.counter is _UNSET:
      object.__setattr__(self, 'counter', _hyper.zero_count())
    elif _is_number(self.counter):
      object.__setattr__(self, 'counter', jnp.asarray(self.counter, jnp.int32))

  def adjust(self, grads_finite: Any) -> 'DynamicLossScale':
    """The loss scale for the next step.

    Args:
      grads_finite: a boolean scalar (an array is fine, also traced): whether
        every gradient of this step was finite.

    Returns:
      A new :class:`DynamicLossScale` with the same configuration.
    """
    finite = jnp.asarray(grads_finite, jnp.bool_)
    scale = jnp.asarray(self.loss_scale, jnp.float32)
    counter = tu.safe_increment(jnp.asarray(self.counter, jnp.int32))
    grow = finite & (counter >= self.growth_interval)
    grown = scale * jnp.float32(self.growth_factor)
    if self.max_scale is not None:
      grown = jnp.minimum(grown, jnp.float32(self.max_scale))
    grown = jnp.where(jnp.isfinite(grown), grown, scale)
    backed_off = jnp.maximum(
        scale * jnp.float32(self.backoff_factor), jnp.float32(self.min_scale)
    )
    new_scale = jnp.where(finite, jnp.where(grow, grown, scale), backed_off)
    new_counter = jnp.where(finite & ~grow, counter, jnp.zeros_like(counter))
    return dataclasses.replace(self, loss_scale=new_scale, counter=new_counter)


LossScale = Any
"""One of :class:`NoOpLossScale`, :class:`StaticLossScale`,
:class:`DynamicLossScale` (or any object with the same four members)."""
