"""Dynamic loss scales that behave exactly like other frameworks' scalers.

All three frameworks use the same rule (see :class:`DynamicLossScale`): back
off on a step with a non-finite gradient and reset the counter; grow after a
run of ``growth_interval`` finite steps. They differ in the defaults and in
the floor on backoff:

.. code-block:: text

  preset                  init scale  growth  backoff  interval  min scale
  torch_grad_scaler       2**16       2       0.5      2000      none (0)
  keras_loss_scale        2**15       2       0.5      2000      none (0)
  mindspore_loss_scale    2**24       2       1/2      2000      1

Each preset takes the framework's own argument names.
"""

from __future__ import annotations

from gradtx import _checks
from gradtx.mixed_precision.loss_scale import DynamicLossScale


def torch_grad_scaler(
    init_scale: float = 2.0**16,
    growth_factor: float = 2.0,
    backoff_factor: float = 0.5,
    growth_interval: int = 2000,
) -> DynamicLossScale:
  """The dynamic loss scale of PyTorch's ``torch.amp.GradScaler``.

  ``GradScaler.update()`` (``_amp_update_scale_``): on a step with an inf or
  NaN gradient ``S ← S · backoff_factor`` with no floor and the growth
  tracker resets; otherwise the tracker counts up and, when it reaches
  ``growth_interval``, ``S ← S · growth_factor`` (only if that is finite) and
  the tracker resets. The scale is float32 and the tracker int32, as in
  PyTorch; unscaling multiplies by the float32 reciprocal of ``S``.

  Args:
    init_scale: initial scale (PyTorch's default ``2**16``).
    growth_factor: growth multiplier, ``≥ 1``.
    backoff_factor: backoff multiplier, in ``(0, 1]``.
    growth_interval: finite steps between growths, ``≥ 1``.

  Returns:
    A :class:`~gradtx.DynamicLossScale` with ``min_scale=0`` and no cap.

  Example:
    >>> import gradtx
    >>> float(gradtx.torch_grad_scaler().loss_scale)
    65536.0
  """
  return DynamicLossScale(
      init_scale=init_scale,
      growth_interval=growth_interval,
      growth_factor=growth_factor,
      backoff_factor=backoff_factor,
      min_scale=0.0,
      max_scale=None,
  )


def keras_loss_scale(
    initial_scale: float = 2.0**15, dynamic_growth_steps: int = 2000
) -> DynamicLossScale:
  """The dynamic loss scale of Keras 3's ``LossScaleOptimizer``.

  A step with a non-finite gradient is skipped, the scale halves
  (``S ← S / 2``, no floor) and the step counter resets; after
  ``dynamic_growth_steps`` consecutive finite steps the scale doubles
  (``S ← 2·S``) and the counter resets. (Keras lets the
  scale become ``inf`` after some 113 doublings from ``2**15``; here a growth
  that would overflow float32 keeps the scale, as PyTorch does. No real run
  reaches that point.)

  Args:
    initial_scale: initial scale (Keras's default ``2**15``).
    dynamic_growth_steps: finite steps between doublings, ``≥ 1``.

  Returns:
    A :class:`~gradtx.DynamicLossScale` with growth 2, backoff 0.5 and
    ``min_scale=0``.

  Example:
    >>> import gradtx
    >>> float(gradtx.keras_loss_scale().loss_scale)
    32768.0
  """
  return DynamicLossScale(
      init_scale=initial_scale,
      growth_interval=dynamic_growth_steps,
      growth_factor=2.0,
      backoff_factor=0.5,
      min_scale=0.0,
  )


def mindspore_loss_scale(
    init_loss_scale: float = 2.0**24,
    scale_factor: float = 2,
    scale_window: int = 2000,
) -> DynamicLossScale:
  """The dynamic loss scale of MindSpore's ``DynamicLossScaleManager``.

  On overflow ``S ← max(S · (1/scale_factor), 1)``; after ``scale_window``
  consecutive steps without overflow ``S ← S · scale_factor``. (MindSpore's
  manager also raises after 1000 consecutive overflows; a compiled step
  cannot raise, so count them with the ``skipped_steps`` of
  :func:`gradtx.with_loss_scale` instead.)

  Args:
    init_loss_scale: initial scale (MindSpore's default ``2**24``), ``≥ 1``.
    scale_factor: growth factor; backoff divides by it. ``> 1``.
    scale_window: steps without overflow between growths, ``≥ 1``.

  Returns:
    A :class:`~gradtx.DynamicLossScale` with ``min_scale=1``.

  Example:
    >>> import gradtx
    >>> float(gradtx.mindspore_loss_scale().loss_scale)
    16777216.0
  """
  _checks.check_range('init_loss_scale', init_loss_scale, 1.0, None)
  _checks.check_range('scale_factor', scale_factor, 1.0, None,
                      low_inclusive=False)
  return DynamicLossScale(
      init_scale=init_loss_scale,
      growth_interval=scale_window,
      growth_factor=float(scale_factor),
      backoff_factor=1.0 / float(scale_factor),
      min_scale=1.0,
  )
