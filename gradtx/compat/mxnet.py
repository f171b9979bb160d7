"""MXNet 1.9 ``mx.optimizer`` under its own names, arguments and defaults.

Each constructor returns a gradtx transformation that moves the params as
``optimizer.update(index, weight, grad, state)`` moves MXNet's weights, with
MXNet's common keyword arguments (``Optimizer.__init__``):

* ``learning_rate``, or ``lr_scheduler``: a schedule of MXNet's
  ``num_update``, such as :func:`gradtx.schedules.factor_scheduler`. MXNet
  counts the update *before* it asks for the rate, so update ``t`` (from 0)
  uses ``lr_scheduler(t + 1)``; that shift is done here. When both are
  given the scheduler is used; MXNet then replaces the scheduler's
  ``base_lr`` with ``learning_rate`` (also with a class default such as
  Adam's 0.001), so build the schedule with that ``base_lr``;
* ``rescale_grad``, ``clip_gradient``, ``wd``: each optimizer places them
  where its MXNet kernel does (see each docstring: SGD adds ``wd·w`` after
  the clip, Adam and RMSProp before it, AdaGrad/AdaDelta/Ftrl/LAMB apart);
* ``lr_mult`` and ``wd_mult``: dicts from regular expressions, matched with
  :func:`re.fullmatch` against parameter paths (``'dense0/weight'``), to
  multipliers (the first matching pattern wins); MXNet keys them by name;
* ``multi_precision``: float16 params are updated through a float32 master
  copy kept in the state, as MXNet's ``weight32``.

The rules were checked against MXNet 1.9.1 executed on CPU:
``tests/golden/make_mxnet.py`` writes ``tests/golden/mxnet.npz``, which
``tests/test_compat_mxnet.py`` replays.
"""

from __future__ import annotations

import re
from typing import Any, Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx.compat._powers import one_minus_pow
from gradtx import _leafwise

__all__ = ['MXNetState', 'mxnet_optimizer', 'SGD', 'NAG', 'Adam', 'RMSProp',
           'AdaGrad', 'AdaDelta', 'Signum', 'Ftrl', 'LAMB']

_COMMON = ('rescale_grad', 'wd', 'clip_gradient', 'lr_scheduler', 'lr_mult',
           'wd_mult', 'multi_precision', 'begin_num_update')


class MXNetState(NamedTuple):
  """State of a :mod:`gradtx.compat.mxnet` optimizer."""

  num_update: jax.Array  # int32 scalar: MXNet's ``num_update`` before this update.
  slots: Any  # the optimizer's own state: a tuple of trees like params.
  weight32: Any  # float32 master copies of float16 params (multi_precision), else ().


LeafStep = Callable[..., tuple[jax.Array, tuple]]


def _clip(x, c):
  return x if c is None or c <= 0 else jnp.clip(x, -c, c)


def _mults(spec, name):
  if spec is None:
    return []
  if not isinstance(spec, dict):
    raise ValueError(f'{name} must be a dict from path patterns to multipliers, got {spec!r}')
  out = []
  for k, v in spec.items():
    _checks.check_non_negative(f'{name}[{k!r}]', v)
    out.append((re.compile(k), float(v)))
  return out


def _per_leaf(tree, rules):
  def pick(path, _):
    s = tu.path_to_str(path)
    for r, v in rules:
      if r.fullmatch(s):
        return v
    return 1.0
  return jax.tree_util.tree_map_with_path(pick, tree)


def mxnet_optimizer(name: str, n_slots: int, step: LeafStep,
                    learning_rate: Any, kwargs: dict,
                    slot_init: float = 0.0) -> base.GradientTransformation:
  """MXNet's ``Optimizer`` bookkeeping around a per-leaf update.

  ``step(rg, w, slots, lr, wd, t, clip) -> (new_w, slots)`` gets the rescaled
  gradient ``rg = rescale_grad·g``, the weight, the leaf's slots (a tuple),
  its learning rate and weight decay (multipliers applied), MXNet's update
  count ``t`` (from 1) and ``clip_gradient``; it applies the clip and the
  decay where its kernel does.

  Args:
    name: the name shown in errors.
    n_slots: how many per-leaf buffers the optimizer keeps.
    step: the per-leaf update.
    learning_rate: a constant, a schedule of the update index, or None.
    kwargs: MXNet's common keyword arguments (see the module docstring).
    slot_init: the initial value of the buffers.

  Returns:
    A :class:`~gradtx.GradientTransformation` with an :class:`MXNetState`;
    ``update`` needs the params.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat.mxnet import mxnet_optimizer
    >>> def step(rg, w, slots, lr, wd, t, clip):   # plain SGD
    ...   return w - lr * (rg + wd * w), slots
    >>> opt = mxnet_optimizer('sgd', 0, step, 0.5, {'rescale_grad': 0.5})
    >>> p = jnp.ones(1)
    >>> opt.update(jnp.array([2.0]), opt.init(p), p)[0]
    Array([-0.5], dtype=float32)

  References:
    ``mxnet.optimizer.Optimizer`` (``_get_lrs``, ``_get_wds``,
    ``_update_count``).
  """
  bad = sorted(set(kwargs) - set(_COMMON))
  if bad:
    raise ValueError(f'{name} got unknown arguments {bad}; the common ones are '
                     f'{list(_COMMON)}')
  sched = kwargs.get('lr_scheduler')
  if sched is not None and not callable(sched):
    raise ValueError(f'lr_scheduler must be a schedule of num_update, got {sched!r}')
  if sched is None:
    learning_rate = 0.01 if learning_rate is None else learning_rate
    _hyper.check_learning_rate(learning_rate)
  rescale = kwargs.get('rescale_grad', 1.0)
  wd = kwargs.get('wd', 0.0)
  _checks.check_non_negative('wd', wd)
  clip = kwargs.get('clip_gradient')
  lr_mult = _mults(kwargs.get('lr_mult'), 'lr_mult')
  wd_mult = _mults(kwargs.get('wd_mult'), 'wd_mult')
  multi_precision = bool(kwargs.get('multi_precision', False))
  begin = kwargs.get('begin_num_update', 0)
  _checks.check_int('begin_num_update', begin)
  master = lambda p: multi_precision and jnp.result_type(p) == jnp.float16

  def init_fn(params):
    work = jax.tree.map(lambda p: p.astype(jnp.float32) if master(p) else p, params)
    slots = tuple(tu.full_like(work, slot_init) for _ in range(n_slots))
    w32 = (jax.tree.map(lambda p: p.astype(jnp.float32) if master(p)
                        else jnp.zeros([], jnp.float32), params)
           if multi_precision else ())
    return MXNetState(jnp.asarray(begin, jnp.int32), slots, w32)

  def update_fn(updates, state, params=None):
    _checks.require_params(name, params)
    t = tu.safe_increment(state.num_update)
    if sched is not None:
      base_lr = sched(t)
    else:
      base_lr = _hyper.value_at(learning_rate, state.num_update - begin)
    base_lr = jnp.asarray(base_lr, jnp.float32)
    treedef = jax.tree.structure(params)
    flat_p = treedef.flatten_up_to(params)
    flat_w = (treedef.flatten_up_to(state.weight32) if multi_precision else flat_p)
    flat_w = [m if master(p) else p for p, m in zip(flat_p, flat_w)]
    flat_g = treedef.flatten_up_to(updates)
    flat_lr = treedef.flatten_up_to(_per_leaf(params, lr_mult))
    flat_wd = treedef.flatten_up_to(_per_leaf(params, wd_mult))
    flat_s = [treedef.flatten_up_to(s) for s in state.slots]
    new_w, new_s = [], [[] for _ in range(n_slots)]
    tf = t.astype(jnp.float32)
    for i, (g, w) in enumerate(zip(flat_g, flat_w)):
      d = tu.compute_dtype(g, w)
      rg = g.astype(d) * jnp.asarray(rescale, d)
      nw, ns = step(rg, w.astype(d), tuple(s[i].astype(d) for s in flat_s),
                    (base_lr * flat_lr[i]).astype(d), jnp.asarray(wd * flat_wd[i], d),
                    tf, clip)
      new_w.append(nw)
      for k, x in enumerate(ns):
        new_s[k].append(x)
    out = [(n.astype(p.dtype) - p) for n, p in zip(new_w, flat_p)]
    slots = tuple(_leafwise.store_like(jax.tree.unflatten(treedef, s), old)
                  for s, old in zip(new_s, state.slots))
    w32 = ()
    if multi_precision:
      w32 = jax.tree.unflatten(treedef, [
          n.astype(jnp.float32) if master(p) else m
          for p, n, m in zip(flat_p, new_w, treedef.flatten_up_to(state.weight32))])
    return _leafwise.like_updates(jax.tree.unflatten(treedef, out), updates), \
        MXNetState(t, slots, w32)

  return base.transformation(name, init_fn, update_fn)


def _check_kwargs_momentum(momentum):
  _checks.check_non_negative('momentum', momentum)


def SGD(momentum: float = 0.0, lazy_update: bool = True,  # pylint: disable=invalid-name
        learning_rate: Optional[base.ScalarOrSchedule] = None,
        **kwargs: Any) -> base.GradientTransformation:
  r"""``mx.optimizer.SGD``: the learning rate inside the momentum.

  .. code-block:: text

    g' = clip(rescale_grad·g, c) + wd·w
    momentum:  v ← μv − η·g';  w ← w + v        else:  w ← w − η·g'

  Args:
    momentum: ``μ ≥ 0``.
    lazy_update: accepted for MXNet's signature (sparse gradients only).
    learning_rate: ``η`` (default 0.01), a constant or a schedule; or give
      ``lr_scheduler``.
    **kwargs: MXNet's common arguments: ``rescale_grad``, ``wd``,
      ``clip_gradient``, ``lr_scheduler``, ``lr_mult``, ``wd_mult``,
      ``multi_precision``, ``begin_num_update``.

  Returns:
    A :class:`~gradtx.GradientTransformation` with an :class:`MXNetState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import mxnet as mc
    >>> opt = mc.SGD(momentum=0.9, learning_rate=0.1, wd=0.01,
    ...              rescale_grad=0.5, clip_gradient=1.0)
    >>> p = jnp.array([1.0, 2.0])
    >>> opt.update(jnp.array([3.0, -0.5]), opt.init(p), p)[0].round(6)   # g' = (1.01, −0.23)
    Array([-0.101,  0.023], dtype=float32)

  References:
    ``mxnet.optimizer.SGD`` (kernels ``sgd_update``, ``sgd_mom_update``).
  """
  del lazy_update
  _check_kwargs_momentum(momentum)

  def step(rg, w, s, lr, wd, t, clip):
    g = _clip(rg, clip) + wd * w
    if momentum == 0:
      return w - lr * g, s
    mom = momentum * s[0] - lr * g
    return w + mom, (mom,)

  return mxnet_optimizer('mxnet.SGD', 1 if momentum else 0, step, learning_rate, kwargs)


def NAG(momentum: float = 0.0,  # pylint: disable=invalid-name
        learning_rate: Optional[base.ScalarOrSchedule] = None,
        **kwargs: Any) -> base.GradientTransformation:
  r"""``mx.optimizer.NAG``, with the kernel's in-place order.

  .. code-block:: text

    c = clip(rescale_grad·g, c_max);  g' = c + wd·w
    w' = w + μ·(μm − η·g') − η·g'
    m ← μm − η·(c + wd·w')

  The momentum holds the learning rate, as in :func:`SGD`. MXNet's
  ``nag_mom_update`` writes the new weight in place before it updates the
  momentum, so the momentum's decay term uses the *new* weight (found by
  running MXNet 1.9.1). Without momentum this is :func:`SGD`.

  Args:
    momentum: ``μ ≥ 0``.
    learning_rate: ``η`` (default 0.01), a constant or a schedule.
    **kwargs: MXNet's common arguments (see :func:`SGD`).

  Returns:
    A :class:`~gradtx.GradientTransformation` with an :class:`MXNetState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import mxnet as mc
    >>> opt = mc.NAG(momentum=0.9, learning_rate=0.1)
    >>> p = jnp.array([1.0])
    >>> opt.update(jnp.array([1.0]), opt.init(p), p)[0].round(6)   # −0.1·(1 + 0.9)
    Array([-0.19], dtype=float32)

  References:
    ``mxnet.optimizer.NAG`` (kernel ``nag_mom_update``).
  """
  _check_kwargs_momentum(momentum)

  def step(rg, w, s, lr, wd, t, clip):
    c = _clip(rg, clip)
    if momentum == 0:
      return w - lr * (c + wd * w), s
    g = c + wd * w
    new_w = w + momentum * (momentum * s[0] - lr * g) - lr * g
    return new_w, (momentum * s[0] - lr * (c + wd * new_w),)

  return mxnet_optimizer('mxnet.NAG', 1 if momentum else 0, step, learning_rate, kwargs)


def Adam(learning_rate: Optional[base.ScalarOrSchedule] = 0.001,  # pylint: disable=invalid-name
         beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8,
         lazy_update: bool = True, **kwargs: Any) -> base.GradientTransformation:
  r"""``mx.optimizer.Adam``: weight decay inside the clip, ``ε`` outside.

  .. code-block:: text

    g' = clip(rescale_grad·g + wd·w, c)
    m ← β₁m + (1 − β₁)g';  v ← β₂v + (1 − β₂)g'²
    w ← w − η·√(1 − β₂ᵗ)/(1 − β₁ᵗ)·m/(√v + ε)

  Args:
    learning_rate: ``η``, a constant or a schedule; or give ``lr_scheduler``
      (and ``learning_rate=None``).
    beta1: ``β₁`` in ``[0, 1)``.
    beta2: ``β₂`` in ``[0, 1)``.
    epsilon: ``ε ≥ 0``.
    lazy_update: accepted for MXNet's signature (sparse gradients only).
    **kwargs: MXNet's common arguments (see :func:`SGD`).

  Returns:
    A :class:`~gradtx.GradientTransformation` with an :class:`MXNetState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import mxnet as mc
    >>> opt = mc.Adam(0.1, epsilon=0.0)
    >>> p = jnp.array([1.0])
    >>> opt.update(jnp.array([-3.0]), opt.init(p), p)[0].round(6)
    Array([0.1], dtype=float32)

  References:
    ``mxnet.optimizer.Adam`` (kernel ``adam_update``).
  """
  del lazy_update
  _checks.check_beta('beta1', beta1)
  _checks.check_beta('beta2', beta2)
  _checks.check_non_negative('epsilon', epsilon)

  def step(rg, w, s, lr, wd, t, clip):
    g = _clip(rg + wd * w, clip)
    m = beta1 * s[0] + (1 - beta1) * g
    v = beta2 * s[1] + (1 - beta2) * g * g
    alpha = lr * jnp.sqrt(one_minus_pow(beta2, t)) / one_minus_pow(beta1, t)
    return w - alpha * m / (jnp.sqrt(v) + epsilon), (m, v)

  return mxnet_optimizer('mxnet.Adam', 2, step, learning_rate, kwargs)


def RMSProp(learning_rate: Optional[base.ScalarOrSchedule] = 0.001,  # pylint: disable=invalid-name
            gamma1: float = 0.9, gamma2: float = 0.9, epsilon: float = 1e-8,
            centered: bool = False, clip_weights: Optional[float] = None,
            **kwargs: Any) -> base.GradientTransformation:
  r"""``mx.optimizer.RMSProp``: Tieleman–Hinton, or Graves' centred form.

  .. code-block:: text

    g' = clip(rescale_grad·g + wd·w, c);  n ← γ₁n + (1 − γ₁)g'²
    plain:     w ← w − η·g'/√(n + ε)
    centered:  ḡ ← γ₁ḡ + (1 − γ₁)g';  δ ← γ₂δ − η·g'/√(n − ḡ² + ε);  w ← w + δ
    clip_weights: w ← clip(w, ±clip_weights)

  Args:
    learning_rate: ``η``, a constant or a schedule.
    gamma1: ``γ₁`` in ``[0, 1)``.
    gamma2: ``γ₂``, the momentum of the centred form.
    epsilon: ``ε ≥ 0``, inside the root.
    centered: Graves' form.
    clip_weights: clip the weights after the step, or None.
    **kwargs: MXNet's common arguments (see :func:`SGD`).

  Returns:
    A :class:`~gradtx.GradientTransformation` with an :class:`MXNetState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import mxnet as mc
    >>> opt = mc.RMSProp(0.1, gamma1=0.75, epsilon=0.0)
    >>> p = jnp.array([1.0])
    >>> opt.update(jnp.array([2.0]), opt.init(p), p)[0]   # 2/√(0.25·4)
    Array([-0.2], dtype=float32)

  References:
    ``mxnet.optimizer.RMSProp`` (kernels ``rmsprop_update``,
    ``rmspropalex_update``).
  """
  _checks.check_beta('gamma1', gamma1)
  _checks.check_non_negative('epsilon', epsilon)

  def step(rg, w, s, lr, wd, t, clip):
    g = _clip(rg + wd * w, clip)
    n = gamma1 * s[0] + (1 - gamma1) * g * g
    if centered:
      ga = gamma1 * s[1] + (1 - gamma1) * g
      delta = gamma2 * s[2] - lr * g / jnp.sqrt(n - ga * ga + epsilon)
      new_w, slots = w + delta, (n, ga, delta)
    else:
      new_w, slots = w - lr * g / jnp.sqrt(n + epsilon), (n,)
    if clip_weights:
      new_w = jnp.clip(new_w, -clip_weights, clip_weights)
    return new_w, slots

  return mxnet_optimizer('mxnet.RMSProp', 3 if centered else 1, step,
                         learning_rate, kwargs)


def AdaGrad(eps: float = 1e-7,  # pylint: disable=invalid-name
            learning_rate: Optional[base.ScalarOrSchedule] = None,
            **kwargs: Any) -> base.GradientTransformation:
  r"""``mx.optimizer.AdaGrad``: ``ε`` inside the root, decay next to it.

  .. code-block:: text

    g' = clip(rescale_grad·g, c);  h ← h + g'²   (h₀ = 0)
    w ← w − η·(g'/√(h + ε) + wd·w)

  Args:
    eps: ``ε ≥ 0``.
    learning_rate: ``η`` (default 0.01), a constant or a schedule.
    **kwargs: MXNet's common arguments (see :func:`SGD`).

  Returns:
    A :class:`~gradtx.GradientTransformation` with an :class:`MXNetState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import mxnet as mc
    >>> opt = mc.AdaGrad(eps=0.0, learning_rate=0.5)
    >>> p = jnp.array([1.0])
    >>> opt.update(jnp.array([3.0]), opt.init(p), p)[0]
    Array([-0.5], dtype=float32)

  References:
    ``mxnet.optimizer.AdaGrad``.
  """
  _checks.check_non_negative('eps', eps)

  def step(rg, w, s, lr, wd, t, clip):
    g = _clip(rg, clip)
    h = s[0] + g * g
    return w + (g / jnp.sqrt(h + eps) + w * wd) * -lr, (h,)

  return mxnet_optimizer('mxnet.AdaGrad', 1, step, learning_rate, kwargs)


def AdaDelta(rho: float = 0.90, epsilon: float = 1e-5,  # pylint: disable=invalid-name
             learning_rate: Optional[base.ScalarOrSchedule] = None,
             **kwargs: Any) -> base.GradientTransformation:
  r"""``mx.optimizer.AdaDelta``, which ignores the learning rate.

  .. code-block:: text

    g' = clip(rescale_grad·g, c);  a ← ρa + (1 − ρ)g'²
    Δ = √(b + ε)/√(a + ε)·g';  b ← ρb + (1 − ρ)Δ²;  w ← w − (Δ + wd·w)

  MXNet 1.9's ``AdaDelta.update`` never reads its learning rate (nor a
  scheduler), and its docstring's ``wd`` inside the clip is not what it does;
  this follows the code.

  Args:
    rho: ``ρ`` in ``[0, 1)``.
    epsilon: ``ε ≥ 0``.
    learning_rate: accepted and unused, as in MXNet.
    **kwargs: MXNet's common arguments (see :func:`SGD`).

  Returns:
    A :class:`~gradtx.GradientTransformation` with an :class:`MXNetState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import mxnet as mc
    >>> opt = mc.AdaDelta(rho=0.0, epsilon=1.0)
    >>> p = jnp.array([1.0])
    >>> opt.update(jnp.array([3.0]), opt.init(p), p)[0]   # √1/√10·3
    Array([-0.9486833], dtype=float32)

  References:
    ``mxnet.optimizer.AdaDelta``; Zeiler, *ADADELTA*, 2012.
  """
  _checks.check_beta('rho', rho)
  _checks.check_non_negative('epsilon', epsilon)

  def step(rg, w, s, lr, wd, t, clip):
    del lr
    g = _clip(rg, clip)
    a = rho * s[0] + (1 - rho) * g * g
    delta = jnp.sqrt(s[1] + epsilon) / jnp.sqrt(a + epsilon) * g
    b = rho * s[1] + (1 - rho) * delta * delta
    return w - (delta + wd * w), (a, b)

  return mxnet_optimizer('mxnet.AdaDelta', 2, step, learning_rate, kwargs)


def Signum(learning_rate: Optional[base.ScalarOrSchedule] = 0.01,  # pylint: disable=invalid-name
           momentum: float = 0.9, wd_lh: float = 0.0,
           **kwargs: Any) -> base.GradientTransformation:
  r"""``mx.optimizer.Signum`` (and signSGD with ``momentum=0``).

  .. code-block:: text

    g' = clip(rescale_grad·g, c) + wd·w
    m ← μm + (1 − μ)g'   (μ = 0: m = g')
    w ← (1 − η·wd_lh)·w − η·sign(m)

  Args:
    learning_rate: ``η``, a constant or a schedule.
    momentum: ``μ`` in ``[0, 1)``.
    wd_lh: decoupled weight decay.
    **kwargs: MXNet's common arguments (see :func:`SGD`).

  Returns:
    A :class:`~gradtx.GradientTransformation` with an :class:`MXNetState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import mxnet as mc
    >>> opt = mc.Signum(0.1)
    >>> p = jnp.array([1.0, 1.0])
    >>> opt.update(jnp.array([3.0, -1e-3]), opt.init(p), p)[0]
    Array([-0.1,  0.1], dtype=float32)

  References:
    ``mxnet.optimizer.Signum``; Bernstein et al., *signSGD*, ICML 2018.
  """
  _checks.check_beta('momentum', momentum)
  _checks.check_non_negative('wd_lh', wd_lh)

  def step(rg, w, s, lr, wd, t, clip):
    g = _clip(rg, clip) + wd * w
    if momentum == 0:
      return (1 - lr * wd_lh) * w - lr * jnp.sign(g), s
    m = momentum * s[0] + (1 - momentum) * g
    return (1 - lr * wd_lh) * w - lr * jnp.sign(m), (m,)

  return mxnet_optimizer('mxnet.Signum', 1 if momentum else 0, step,
                         learning_rate, kwargs)


def Ftrl(lamda1: float = 0.01, learning_rate: Optional[base.ScalarOrSchedule] = 0.1,  # pylint: disable=invalid-name
         beta: float = 1, **kwargs: Any) -> base.GradientTransformation:
  r"""``mx.optimizer.Ftrl`` (FTRL-Proximal).

  .. code-block:: text

    g' = clip(rescale_grad·g, c)
    z ← z + g' − (√(n + g'²) − √n)·w/η;   n ← n + g'²
    w ← (sign(z)·λ₁ − z)/((β + √n)/η + wd) · [|z| > λ₁]

  Args:
    lamda1: ``λ₁ ≥ 0``.
    learning_rate: ``η``, a constant or a schedule.
    beta: ``β ≥ 0``.
    **kwargs: MXNet's common arguments (see :func:`SGD`).

  Returns:
    A :class:`~gradtx.GradientTransformation` with an :class:`MXNetState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import mxnet as mc
    >>> opt = mc.Ftrl(lamda1=0.0, learning_rate=1.0, beta=0.0)
    >>> p = jnp.zeros(1)
    >>> opt.update(jnp.array([2.0]), opt.init(p), p)[0]   # −z/√n
    Array([-1.], dtype=float32)

  References:
    ``mxnet.optimizer.Ftrl``; McMahan et al., KDD 2013.
  """
  _checks.check_non_negative('lamda1', lamda1)
  _checks.check_non_negative('beta', beta)

  def step(rg, w, s, lr, wd, t, clip):
    g = _clip(rg, clip)
    z = s[0] + g - (jnp.sqrt(s[1] + g * g) - jnp.sqrt(s[1])) * w / lr
    n = s[1] + g * g
    new_w = (jnp.sign(z) * lamda1 - z) / ((beta + jnp.sqrt(n)) / lr + wd) * (jnp.abs(z) > lamda1)
    return new_w, (z, n)

  return mxnet_optimizer('mxnet.Ftrl', 2, step, learning_rate, kwargs)


def LAMB(learning_rate: Optional[base.ScalarOrSchedule] = 0.001,  # pylint: disable=invalid-name
         beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-6,
         lower_bound: Optional[float] = None, upper_bound: Optional[float] = None,
         bias_correction: bool = True, **kwargs: Any) -> base.GradientTransformation:
  r"""``mx.optimizer.LAMB``.

  .. code-block:: text

    g' = clip(rescale_grad·g, c);  m, v: EMAs of g', g'²  (debiased if bias_correction)
    u = m̂/(√v̂ + ε) + wd·w
    r₁ = clip(‖w‖, lower_bound, upper_bound);  r₂ = ‖u‖
    w ← w − η·(r₁/r₂ if r₁ > 0 and r₂ > 0 else 1)·u

  Args:
    learning_rate: ``η``, a constant or a schedule.
    beta1: ``β₁`` in ``[0, 1)``.
    beta2: ``β₂`` in ``[0, 1)``.
    epsilon: ``ε ≥ 0``.
    lower_bound: the least ``r₁``, or None.
    upper_bound: the largest ``r₁``, or None.
    bias_correction: debias the moments.
    **kwargs: MXNet's common arguments (see :func:`SGD`).

  Returns:
    A :class:`~gradtx.GradientTransformation` with an :class:`MXNetState`.

  Example:
    >>> import jax.numpy as jnp
    >>> from gradtx.compat import mxnet as mc
    >>> opt = mc.LAMB(0.1, epsilon=0.0)
    >>> p = jnp.array([3.0, 4.0])
    >>> opt.update(jnp.array([1.0, 1.0]), opt.init(p), p)[0].round(6)   # 0.1·5/√2 each
    Array([-0.353553, -0.353553], dtype=float32)

  References:
    ``mxnet.optimizer.LAMB`` (kernels ``lamb_update_phase1/2``); You et al.,
    ICLR 2020.
  """
  _checks.check_beta('beta1', beta1)
  _checks.check_beta('beta2', beta2)
  _checks.check_non_negative('epsilon', epsilon)

  def step(rg, w, s, lr, wd, t, clip):
    g = _clip(rg, clip)
    m = beta1 * s[0] + (1 - beta1) * g
    v = beta2 * s[1] + (1 - beta2) * g * g
    if bias_correction:
      mh, vh = m / one_minus_pow(beta1, t), v / one_minus_pow(beta2, t)
    else:
      mh, vh = m, v
    u = mh / (jnp.sqrt(vh) + epsilon) + wd * w
    r1, r2 = jnp.sqrt(jnp.sum(w * w)), jnp.sqrt(jnp.sum(u * u))
    if lower_bound:
      r1 = jnp.maximum(r1, lower_bound)
    if upper_bound:
      r1 = jnp.minimum(r1, upper_bound)
    ratio = jnp.where((r1 > 0) & (r2 > 0), r1 / r2, 1.0)
    return w - lr * ratio * u, (m, v)

  return mxnet_optimizer('mxnet.LAMB', 2, step, learning_rate, kwargs)
