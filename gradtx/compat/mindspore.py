"""MindSpore 2.x ``mindspore.nn`` optimizers under their own names and defaults.

Every constructor takes MindSpore's ``params`` (None for one group, or
MindSpore's group dicts with ``'params'`` given as regular expressions on
parameter paths), ``learning_rate`` (a number, a per-step list such as the
``mindspore.nn.dynamic_lr`` functions return, or a gradtx schedule of
MindSpore's ``global_step``), ``weight_decay`` and ``loss_scale``, and
applies them in MindSpore's order:

.. code-block:: text

  g ← g + (λ·loss_scale)·w      decay_weight (L2), for decayed params
  g ← centralize(g)             gradients_centralization (groups asking for it;
                                MindSpore skips leaves whose shape[1] is not a
                                multiple of 16)
  g ← g / loss_scale            scale_grad
  lr = learning_rate(global_step);  the optimizer's own step;  global_step += 1

Without groups, parameters whose path contains ``'beta'`` or ``'gamma'`` are
not decayed (MindSpore's default filter). With groups, a group is decayed
when its ``'weight_decay'`` (or the optimizer's) is positive; its ``'lr'`` and
``'grad_centralization'`` keys apply to it; ``{'order_params': ...}`` is
accepted and ignored (it only orders MindSpore's parameter list). Parameters
that no group matches use the optimizer's arguments (MindSpore requires every
parameter to be listed).

The rules were checked against MindSpore 2.10 executed on CPU:
``tests/golden/make_mindspore.py`` writes ``tests/golden/mindspore.npz``,
which ``tests/test_compat_mindspore.py`` replays. ``Lamb`` and ``LARS``
(``LARSUpdate``) have no CPU kernel in MindSpore, so they follow MindSpore's
formula and source (checked by hand).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx.compat._powers import one_minus_pow
from gradtx.compat.torch import _momentum as _torch_momentum
from gradtx.optimizers import _adaptive as _adaptive
from gradtx.optimizers import _layerwise as _layerwise
from gradtx.optimizers import sgd as _sgd_optimizer
from gradtx.schedules import mindspore as _ms_schedules
from gradtx import _leafwise
from gradtx.compat._mindspore_lars import _LARS
from gradtx.compat._mindspore_lars import LARS as LARS
from gradtx.compat._mindspore_lars import MindSporeLarsState as MindSporeLarsState
from gradtx.compat._mindspore_lars import scale_by_mindspore_lars as scale_by_mindspore_lars
from gradtx.transforms import constraints as _constraints
from gradtx.transforms import decay as _decay
from gradtx.transforms import scaling as _scaling
from gradtx import _masking
from gradtx.wrappers import param_groups as _param_groups

__all__ = ['Momentum', 'SGD', 'Adam', 'AdamWeightDecay', 'RMSProp', 'Adagrad',
           'Lamb', 'scale_by_mindspore_adam', 'MindSporeAdamState',
           'mindspore_nesterov_momentum', 'MindSporeNesterovState',
           'LARS', 'scale_by_mindspore_lars', 'MindSporeLarsState',
           'FixedLossScaleManager', 'DynamicLossScaleManager']

Params = Optional[Sequence[dict]]


def _learning_rate(lr: Any) -> base.ScalarOrSchedule:
  """A number, a schedule, or a per-step list (``dynamic_lr``)."""
  if callable(lr):
    return lr
  arr = np.asarray(lr)
  if arr.ndim == 1:
    return _ms_schedules.schedule_from_values(arr)
  if arr.ndim != 0:
    raise ValueError(f'learning_rate must be a number, a 1-D list or a schedule, '
                     f'got shape {arr.shape}')
  _hyper.check_learning_rate(lr)
  return lr


def _default_decay_mask(params):
  return jax.tree_util.tree_map_with_path(
      lambda p, _: 'beta' not in tu.path_to_str(p) and 'gamma' not in tu.path_to_str(p),
      params)


def _prep(weight_decay, loss_scale, mask, centralize):
  parts = []
  if weight_decay:
    parts.append(_decay.add_decayed_weights(weight_decay * loss_scale, mask))
  if centralize:
    # MindSpore centralizes only when shape[1] is a multiple of 16.
    parts.append(_masking.masked(_constraints.centralize(), lambda params: jax.tree.map(
        lambda p: jnp.ndim(p) >= 2 and jnp.shape(p)[1] % 16 == 0, params)))
  if loss_scale != 1.0:
    parts.append(_scaling.scale(1.0 / loss_scale))
  return parts


def _optimizer(core: Callable[..., base.GradientTransformation], params: Params,
               learning_rate: Any, weight_decay: float, loss_scale: float,
               decay_in_core: bool = False) -> base.GradientTransformationExtraArgs:
  """MindSpore's ``Optimizer`` pre-processing around ``core(lr, wd, mask)``."""
  _checks.check_non_negative('weight_decay', weight_decay)
  _checks.check_positive('loss_scale', loss_scale)

  lars = _LARS.get()
  if lars is not None:  # inside LARS(...): it takes over decay and loss scale
    lars['used'] += 1

  def build(lr, wd, mask, centralize):
    lr = _learning_rate(lr)
    if lars is not None:
      pre = [_scaling.scale(1.0 / loss_scale)] if loss_scale != 1.0 else []
      pre.append(scale_by_mindspore_lars(
          lr if lars['use_clip'] else 0.0, wd, lars['epsilon'], lars['coefficient'],
          lars['use_clip'], lars['lars_filter'], mask))
      return base.chain(*pre, *_prep(0.0, 1.0, None, centralize), core(lr, 0.0, None))
    if decay_in_core:
      return base.chain(*_prep(0.0, loss_scale, None, centralize), core(lr, wd, mask))
    return base.chain(*_prep(wd, loss_scale, mask, centralize), core(lr, 0.0, None))

  if params is None:
    return base.chain(build(learning_rate, weight_decay, _default_decay_mask, False))
  groups = []
  for i, g in enumerate(params):
    if not isinstance(g, dict):
      raise ValueError(f'params[{i}] must be a dict, got {g!r}')
    if 'order_params' in g:
      continue
    bad = sorted(set(g) - {'params', 'lr', 'weight_decay', 'grad_centralization'})
    if bad:
      raise ValueError(f"params[{i}] has keys {bad}; MindSpore's group keys are "
                       "'params', 'lr', 'weight_decay', 'grad_centralization', 'order_params'")
    g = dict(g)
    if 'lr' in g:
      g['lr'] = _learning_rate(g['lr'])
    if 'grad_centralization' in g:
      g['centralize'] = bool(g.pop('grad_centralization'))
    groups.append(g)

  def factory(learning_rate, weight_decay=weight_decay, centralize=False):
    return build(learning_rate, weight_decay, None, centralize)

  return _param_groups(groups, factory,
                              learning_rate=_learning_rate(learning_rate),
                              weight_decay=weight_decay)


class MindSporeNesterovState(NamedTuple):
  """State of :func:`mindspore_nesterov_momentum`."""

  moments: Any  # like params: MindSpore's ``moments``.


def mindspore_nesterov_momentum(momentum: float) -> base.GradientTransformation:
  r"""The Nesterov step of MindSpore 2.10's ``ApplyMomentum`` on CPU.

  .. code-block:: text

    u = g + μ·v;   v ← μv + g          (v before this step in u)

  The docstring of ``nn.Momentum`` writes ``v`` after the step
  (:func:`gradtx.trace` with ``nesterov=True``); the CPU kernel, run here,
  uses the buffer before it.

  Args:
    momentum: ``μ ≥ 0``.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`MindSporeNesterovState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat.mindspore import mindspore_nesterov_momentum
    >>> tx = mindspore_nesterov_momentum(0.9)
    >>> u, s = tx.update(jnp.array([3.0]), tx.init(jnp.zeros(1)))
    >>> u, s = tx.update(jnp.array([-1.0]), s)
    >>> u   # −1 + 0.9·3
    Array([1.7], dtype=float32)

  References:
    ``mindspore.nn.Momentum(use_nesterov=True)``.
  """
  _checks.check_non_negative('momentum', momentum)

  def init_fn(params):
    return MindSporeNesterovState(_leafwise.zeros_state(params, None))

  def update_fn(updates, state, params=None):
    del params
    out = jax.tree.map(lambda g, v: g + momentum * v, updates, state.moments)
    new = jax.tree.map(lambda g, v: momentum * v + g, updates, state.moments)
    return _leafwise.like_updates(out, updates), MindSporeNesterovState(
        _leafwise.store_like(new, state.moments))

  return base.transformation('mindspore_nesterov_momentum', init_fn, update_fn)


def Momentum(params: Params = None, learning_rate: Any = 0.1,  # pylint: disable=invalid-name
             momentum: float = 0.9, weight_decay: float = 0.0,
             loss_scale: float = 1.0, use_nesterov: bool = False
             ) -> base.GradientTransformationExtraArgs:
  r"""``mindspore.nn.Momentum``: the buffer holds gradients, not learning rates.

  .. code-block:: text

    v ← μv + g;   w ← w − η_t·v
    use_nesterov:  w ← w − η_t·(g + μ·v_old);  v ← μv + g   (the CPU kernel)

  That is :func:`gradtx.sgd` after MindSpore's pre-processing (with
  :func:`mindspore_nesterov_momentum` for ``use_nesterov``). MindSpore has no
  defaults for ``learning_rate`` and ``momentum``; 0.1 and 0.9 here.

  Args:
    params: None, or MindSpore-style groups keyed by path patterns.
    learning_rate: a number, a per-step list, or a schedule.
    momentum: ``μ`` in ``[0, 1]``.
    weight_decay: ``λ ≥ 0`` (L2, on the gradient).
    loss_scale: the gradients are divided by it.
    use_nesterov: Nesterov's form.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import mindspore as msc
    >>> opt = msc.Momentum(learning_rate=0.1, momentum=0.9, weight_decay=0.1,
    ...                    loss_scale=4.0)
    >>> p = jnp.array([1.0])
    >>> opt.update(jnp.array([12.0]), opt.init(p), p)[0]   # (12 + 0.4)/4 = 3.1
    Array([-0.31], dtype=float32)

  References:
    ``mindspore.nn.Momentum`` (``ApplyMomentum``).
  """
  def core(lr, wd, mask):
    if use_nesterov:
      return base.chain(mindspore_nesterov_momentum(momentum),
                        _scaling.scale_by_learning_rate(lr))
    return _sgd_optimizer(lr, momentum)

  return _optimizer(core, params, learning_rate, weight_decay, loss_scale)


def SGD(params: Params = None, learning_rate: Any = 0.1, momentum: float = 0.0,  # pylint: disable=invalid-name
        dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
        loss_scale: float = 1.0) -> base.GradientTransformationExtraArgs:
  r"""``mindspore.nn.SGD``: PyTorch's SGD (first step copies the gradient).

  .. code-block:: text

    b ← g at step 1, else μb + (1 − τ)g;   w ← w − η_t·b   (nesterov: g + μb)

  :func:`gradtx.compat.torch.torch_momentum` after MindSpore's
  pre-processing.

  Args:
    params: None, or MindSpore-style groups keyed by path patterns.
    learning_rate: a number, a per-step list, or a schedule.
    momentum: ``μ ≥ 0``.
    dampening: ``τ ≥ 0``.
    weight_decay: ``λ ≥ 0``.
    nesterov: Nesterov's form (needs ``μ > 0``, ``τ = 0``).
    loss_scale: the gradients are divided by it.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import mindspore as msc
    >>> opt = msc.SGD(learning_rate=0.1, momentum=0.9, dampening=0.3)
    >>> p = jnp.array([1.0])
    >>> u, s = opt.update(jnp.array([3.0]), opt.init(p), p)
    >>> u, s = opt.update(jnp.array([-1.0]), s, p + u)   # b = 2.7 − 0.7
    >>> u
    Array([-0.2], dtype=float32)

  References:
    ``mindspore.nn.SGD`` (``ops.SGD``).
  """
  _checks.check_non_negative('momentum', momentum)
  _checks.check_non_negative('dampening', dampening)
  if nesterov and (momentum <= 0 or dampening != 0):
    raise ValueError(f'nesterov=True needs momentum > 0 and dampening = 0, got '
                     f'momentum={momentum!r}, dampening={dampening!r}')

  def core(lr, wd, mask):
    if momentum == 0:
      return _scaling.scale_by_learning_rate(lr)
    return base.chain(_torch_momentum.torch_momentum(momentum, dampening, nesterov),
                      _scaling.scale_by_learning_rate(lr))

  return _optimizer(core, params, learning_rate, weight_decay, loss_scale)


class MindSporeAdamState(NamedTuple):
  """State of :func:`scale_by_mindspore_adam`."""

  count: jax.Array  # int32 scalar: updates so far (MindSpore's beta powers).
  moment1: Any  # like params.
  moment2: Any  # like params.
  vhat: Any  # like params with amsgrad, else ().


def scale_by_mindspore_adam(beta1: float = 0.9, beta2: float = 0.999,
                            eps: float = 1e-8, use_amsgrad: bool = False,
                            use_nesterov: bool = False,
                            bias_correction: bool = True) -> base.GradientTransformation:
  r"""MindSpore's ``Adam`` kernel before the learning rate (form K).

  .. code-block:: text

    m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²   (amsgrad: v̂ = max(v̂, v))
    c = √(1 − β₂ᵗ)/(1 − β₁ᵗ)   (1 without bias_correction)
    u = c·m/(√v + ε)           (use_nesterov: c·(β₁m + (1 − β₁)g)/(√v + ε))

  Args:
    beta1: ``β₁`` in ``(0, 1)``.
    beta2: ``β₂`` in ``(0, 1)``.
    eps: ``ε > 0``.
    use_amsgrad: the running max of ``v``.
    use_nesterov: the Nesterov form.
    bias_correction: False for ``AdamWeightDecay``.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a
    :class:`MindSporeAdamState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat.mindspore import scale_by_mindspore_adam
    >>> tx = scale_by_mindspore_adam(bias_correction=False, eps=0.0)
    >>> tx.update(jnp.array([2.0]), tx.init(jnp.zeros(1)))[0]   # 0.2/√0.004
    Array([3.16228], dtype=float32)

  References:
    ``mindspore.nn.Adam``, ``mindspore.nn.AdamWeightDecay``.
  """
  _checks.check_beta('beta1', beta1)
  _checks.check_beta('beta2', beta2)
  _checks.check_non_negative('eps', eps)

  def init_fn(params):
    z = lambda: _leafwise.zeros_state(params, None)
    return MindSporeAdamState(_hyper.zero_count(), z(), z(), z() if use_amsgrad else ())

  def update_fn(updates, state, params=None):
    del params
    count = tu.safe_increment(state.count)
    m = tu.update_moment(updates, state.moment1, beta1, 1)
    v = tu.update_moment(updates, state.moment2, beta2, 2)
    vhat = jax.tree.map(jnp.maximum, state.vhat, v) if use_amsgrad else ()
    c = (jnp.sqrt(one_minus_pow(beta2, count)) / one_minus_pow(beta1, count)
         if bias_correction else 1.0)
    num = (jax.tree.map(lambda m_, g: beta1 * m_ + (1 - beta1) * g, m, updates)
           if use_nesterov else m)
    out = jax.tree.map(lambda n, v_: c * n / (jnp.sqrt(v_) + eps), num,
                       vhat if use_amsgrad else v)
    return _leafwise.like_updates(out, updates), MindSporeAdamState(
        count, _leafwise.store_like(m, state.moment1),
        _leafwise.store_like(v, state.moment2),
        _leafwise.store_like(vhat, state.vhat) if use_amsgrad else ())

  return base.transformation('scale_by_mindspore_adam', init_fn, update_fn)


def Adam(params: Params = None, learning_rate: Any = 1e-3, beta1: float = 0.9,  # pylint: disable=invalid-name
         beta2: float = 0.999, eps: float = 1e-8, use_locking: bool = False,
         use_nesterov: bool = False, weight_decay: float = 0.0,
         loss_scale: float = 1.0, use_amsgrad: bool = False
         ) -> base.GradientTransformationExtraArgs:
  r"""``mindspore.nn.Adam``: ``ε`` outside the debiasing (Keras' and MXNet's form).

  .. code-block:: text

    w ← w − η_t·√(1 − β₂ᵗ)/(1 − β₁ᵗ)·m/(√v + ε)

  See :func:`scale_by_mindspore_adam`. Weight decay is L2, on the gradient.

  Args:
    params: None, or MindSpore-style groups keyed by path patterns.
    learning_rate: a number, a per-step list, or a schedule.
    beta1: ``β₁`` in ``(0, 1)``.
    beta2: ``β₂`` in ``(0, 1)``.
    eps: ``ε > 0``.
    use_locking: accepted for MindSpore's signature.
    use_nesterov: the Nesterov form.
    weight_decay: ``λ ≥ 0``.
    loss_scale: the gradients are divided by it.
    use_amsgrad: the running max of ``v``.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import mindspore as msc
    >>> opt = msc.Adam(learning_rate=0.1, eps=1e-3)
    >>> p = jnp.array([1.0])
    >>> opt.update(jnp.array([3.0]), opt.init(p), p)[0]   # MindSpore 2.10: 0.90104
    Array([-0.09896], dtype=float32)

  References:
    ``mindspore.nn.Adam``.
  """
  del use_locking
  return _optimizer(
      lambda lr, wd, m: base.chain(
          scale_by_mindspore_adam(beta1, beta2, eps, use_amsgrad, use_nesterov),
          _scaling.scale_by_learning_rate(lr)),
      params, learning_rate, weight_decay, loss_scale)


def AdamWeightDecay(params: Params = None, learning_rate: Any = 1e-3,  # pylint: disable=invalid-name
                    beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-6,
                    weight_decay: float = 0.0) -> base.GradientTransformationExtraArgs:
  r"""``mindspore.nn.AdamWeightDecay``: no bias correction, decay in the update.

  .. code-block:: text

    w ← w − η_t·(m/(√v + ε) + λ·w)

  MindSpore 2.10's CPU kernel departs from this formula by about 5e-6
  relative per step (its fused arithmetic); over 200 steps the goldens agree
  to about 2e-4 relative.

  Args:
    params: None, or MindSpore-style groups keyed by path patterns.
    learning_rate: a number, a per-step list, or a schedule.
    beta1: ``β₁`` in ``(0, 1)``.
    beta2: ``β₂`` in ``(0, 1)``.
    eps: ``ε > 0``.
    weight_decay: ``λ ≥ 0``, decoupled.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import mindspore as msc
    >>> opt = msc.AdamWeightDecay(learning_rate=0.1, eps=1e-3, weight_decay=0.1)
    >>> p = jnp.array([1.0])
    >>> opt.update(jnp.array([3.0]), opt.init(p), p)[0]   # MindSpore 2.10: 0.67707
    Array([-0.32293], dtype=float32)

  References:
    ``mindspore.nn.AdamWeightDecay``; Loshchilov & Hutter, ICLR 2019.
  """
  def core(lr, wd, mask):
    return base.chain(
        scale_by_mindspore_adam(beta1, beta2, eps, bias_correction=False),
        _decay.add_decayed_weights(wd, mask), _scaling.scale_by_learning_rate(lr))

  return _optimizer(core, params, learning_rate, weight_decay, 1.0, decay_in_core=True)


def RMSProp(params: Params = None, learning_rate: Any = 0.1, decay: float = 0.9,  # pylint: disable=invalid-name
            momentum: float = 0.0, epsilon: float = 1e-10, use_locking: bool = False,
            centered: bool = False, loss_scale: float = 1.0,
            weight_decay: float = 0.0) -> base.GradientTransformationExtraArgs:
  r"""``mindspore.nn.RMSProp``: mean square starts at 1, ``ε`` inside the root.

  .. code-block:: text

    s ← ρs + (1 − ρ)g²  (s₀ = 1);  d = √(s + ε)   (centered: √(s − ḡ² + ε))
    m ← μm + η_t·g/d;   w ← w − m

  :func:`gradtx.rmsprop` with ``initial_scale=1``.

  Args:
    params: None, or MindSpore-style groups keyed by path patterns.
    learning_rate: a number, a per-step list, or a schedule.
    decay: ``ρ`` in ``[0, 1)``.
    momentum: ``μ ≥ 0``.
    epsilon: ``ε > 0``.
    use_locking: accepted for MindSpore's signature.
    centered: divide by the root of the variance.
    loss_scale: the gradients are divided by it.
    weight_decay: ``λ ≥ 0``.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import mindspore as msc
    >>> opt = msc.RMSProp(learning_rate=0.1, epsilon=1e-10)
    >>> p = jnp.array([1.0])
    >>> opt.update(jnp.array([3.0]), opt.init(p), p)[0]   # 0.3/√(0.9 + 0.9)
    Array([-0.2236068], dtype=float32)

  References:
    ``mindspore.nn.RMSProp`` (``ApplyRMSProp``, ``ApplyCenteredRMSProp``).
  """
  del use_locking
  return _optimizer(
      lambda lr, wd, m: _adaptive.rmsprop(
          lr, decay, epsilon, initial_scale=1.0, eps_in_sqrt=True,
          centered=centered, momentum=momentum if momentum else None),
      params, learning_rate, weight_decay, loss_scale)


def Adagrad(params: Params = None, accum: float = 0.1, learning_rate: Any = 0.001,  # pylint: disable=invalid-name
            update_slots: bool = True, loss_scale: float = 1.0,
            weight_decay: float = 0.0) -> base.GradientTransformationExtraArgs:
  r"""``mindspore.nn.Adagrad``: accumulator from 0.1, no ``ε``.

  .. code-block:: text

    s ← s + g²  (s₀ = accum);   w ← w − η_t·g/√s

  :func:`gradtx.adagrad` with ``eps=0``.

  Args:
    params: None, or MindSpore-style groups keyed by path patterns.
    accum: ``s₀ ≥ 0``.
    learning_rate: a number, a per-step list, or a schedule.
    update_slots: False freezes the accumulator at ``s₀``.
    loss_scale: the gradients are divided by it.
    weight_decay: ``λ ≥ 0``.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import mindspore as msc
    >>> opt = msc.Adagrad(learning_rate=0.1, accum=0.0)
    >>> p = jnp.array([1.0])
    >>> opt.update(jnp.array([3.0]), opt.init(p), p)[0]
    Array([-0.1], dtype=float32)

  References:
    ``mindspore.nn.Adagrad`` (``ApplyAdagrad``).
  """
  _checks.check_non_negative('accum', accum)

  def core(lr, wd, mask):
    if update_slots:
      return _adaptive.adagrad(lr, accum, 0.0)
    return base.chain(
        _scaling.scale(1.0 / float(np.sqrt(accum))) if accum else base.identity(),
        _scaling.scale_by_learning_rate(lr))

  return _optimizer(core, params, learning_rate, weight_decay, loss_scale)


def Lamb(params: Params = None, learning_rate: Any = 1e-3, beta1: float = 0.9,  # pylint: disable=invalid-name
         beta2: float = 0.999, eps: float = 1e-6, weight_decay: float = 0.0
         ) -> base.GradientTransformationExtraArgs:
  r"""``mindspore.nn.Lamb`` (its documented rule; no CPU kernel to run).

  .. code-block:: text

    u = m̂/(√v̂ + ε) + λ·w;   w ← w − η_t·(‖w‖/‖u‖)·u   (ratio 1 if a norm is 0)

  :func:`gradtx.lamb`, with MindSpore's decay filter.

  Args:
    params: None, or MindSpore-style groups keyed by path patterns.
    learning_rate: a number, a per-step list, or a schedule.
    beta1: ``β₁`` in ``(0, 1)``.
    beta2: ``β₂`` in ``(0, 1)``.
    eps: ``ε > 0``.
    weight_decay: ``λ ≥ 0``, decoupled, inside the trust ratio.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import mindspore as msc
    >>> opt = msc.Lamb(learning_rate=0.1, eps=0.0)
    >>> p = jnp.array([3.0, 4.0])
    >>> opt.update(jnp.array([1.0, 1.0]), opt.init(p), p)[0].round(6)
    Array([-0.353553, -0.353553], dtype=float32)

  References:
    ``mindspore.nn.Lamb``; You et al., ICLR 2020.
  """
  return _optimizer(
      lambda lr, wd, m: _layerwise.lamb(lr, beta1, beta2, eps, 0.0, wd, m),
      params, learning_rate, weight_decay, 1.0, decay_in_core=True)


def FixedLossScaleManager(loss_scale: float = 128.0,  # pylint: disable=invalid-name
                          drop_overflow_update: bool = True) -> Any:
  r"""``mindspore.amp.FixedLossScaleManager`` as a gradtx loss scale.

  .. code-block:: text

    drop_overflow_update=True:   with_loss_scale(opt, FixedLossScaleManager(S))
                                 unscales by S and skips non-finite steps
    drop_overflow_update=False:  no check; give the optimizer loss_scale=S
                                 (it divides the gradients) and do not wrap it

  Args:
    loss_scale: ``S > 0``.
    drop_overflow_update: skip the steps whose gradients overflow.

  Returns:
    A :class:`~gradtx.StaticLossScale` with scale ``S``, for
    :func:`gradtx.with_loss_scale` (or to read ``S`` from).

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> from gradtx.compat import mindspore as msc
    >>> opt = gradtx.with_loss_scale(msc.Momentum(learning_rate=0.1),
    ...                              msc.FixedLossScaleManager(128.0))
    >>> p = jnp.zeros(1)
    >>> u, s = opt.update(jnp.array([jnp.inf]), opt.init(p), p)   # skipped
    >>> int(s.skipped_steps), float(s.loss_scale.loss_scale)
    (1, 128.0)

  References:
    ``mindspore.amp.FixedLossScaleManager``.
  """
  from gradtx.mixed_precision import loss_scale as _ls  # pylint: disable=g-import-not-at-top
  if not isinstance(drop_overflow_update, bool):
    raise ValueError(f'drop_overflow_update must be True or False, got {drop_overflow_update!r}')
  _checks.check_positive('loss_scale', loss_scale)
  return _ls.StaticLossScale(float(loss_scale))


def DynamicLossScaleManager(init_loss_scale: float = 2.0**24,  # pylint: disable=invalid-name
                            scale_factor: float = 2,
                            scale_window: int = 2000) -> Any:
  r"""``mindspore.amp.DynamicLossScaleManager`` as a gradtx loss scale.

  .. code-block:: text

    overflow:                         S ← max(S/scale_factor, 1), step skipped
    scale_window steps in a row fine: S ← S·scale_factor

  This is :func:`gradtx.mindspore_loss_scale`; wrap the optimizer with
  :func:`gradtx.with_loss_scale`.

  Args:
    init_loss_scale: the initial ``S ≥ 1``.
    scale_factor: the growth and backoff factor, ``> 1``.
    scale_window: finite steps between growths, ``≥ 1``.

  Returns:
    A :class:`~gradtx.DynamicLossScale`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> from gradtx.compat import mindspore as msc
    >>> opt = gradtx.with_loss_scale(msc.Momentum(learning_rate=0.1),
    ...                              msc.DynamicLossScaleManager(8.0))
    >>> p = jnp.zeros(1)
    >>> u, s = opt.update(jnp.array([jnp.nan]), opt.init(p), p)
    >>> float(s.loss_scale.loss_scale)
    4.0

  References:
    ``mindspore.amp.DynamicLossScaleManager``.
  """
  from gradtx.mixed_precision import presets as _presets  # pylint: disable=g-import-not-at-top
  return _presets.mindspore_loss_scale(init_loss_scale, scale_factor, scale_window)
