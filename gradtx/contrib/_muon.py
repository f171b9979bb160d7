"""Muon: momentum orthogonalised by a Newton–Schulz iteration."""

from __future__ import annotations

import functools
import math
from typing import Any, Callable, NamedTuple, Optional, Sequence, Union

import jax
import jax.numpy as jnp
import numpy as np

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx.contrib import _args
from gradtx.optimizers import _adam as _adam_opt
from gradtx import _leafwise
from gradtx.transforms import adam as _adam
from gradtx.transforms import decay as _decay
from gradtx.transforms import scaling as _scaling
from gradtx import _masking
from gradtx.wrappers import _partition as _partition

_PRECONDITIONINGS = ('frobenius', 'spectral', 'aol', 'schatten')
_STANDARD_NS_COEFFS = (3.4445, -4.7750, 2.0315)
# Per-step coefficients of Ahn et al. (Dion), used by ``ns_coeffs='dion'``.
_DION_NS_COEFFS = (
    (4.0848, -6.8946, 2.9270),
    (3.9505, -6.3029, 2.6377),
    (3.7418, -5.5913, 2.3037),
    (2.8769, -3.1427, 1.2046),
    (2.8366, -3.0525, 1.2012),
)
_NS_PRESETS = {'standard': _STANDARD_NS_COEFFS, 'dion': _DION_NS_COEFFS}


class MuonDimensionNumbers(NamedTuple):
  """Which axes of a weight form the matrix that Muon orthogonalises.

  A weight used as ``y = x @ W`` has its reduction (input) axis first and its
  output axis second: the default ``(0, 1)``. Several axes may be given for
  each (a conv kernel ``(h, w, c_in, c_out)`` is
  ``MuonDimensionNumbers((0, 1, 2), 3)``); negative axes count from the end.
  Every other axis is a batch axis: a stack of layers ``(n_layers, d_in,
  d_out)`` is ``MuonDimensionNumbers(1, 2)`` and each layer is orthogonalised
  on its own.

  Attributes:
    reduction_axis: an axis or a sequence of axes, flattened into the rows.
    output_axis: an axis or a sequence of axes, flattened into the columns.

  Example:
    >>> from gradtx.contrib import MuonDimensionNumbers
    >>> MuonDimensionNumbers(reduction_axis=(0, 1, 2), output_axis=3)
    MuonDimensionNumbers(reduction_axis=(0, 1, 2), output_axis=3)
  """

  reduction_axis: Union[Sequence[int], int] = 0
  output_axis: Union[Sequence[int], int] = 1


WeightDimNumOrFn = Union[MuonDimensionNumbers, Any,
                         Callable[[base.Params], Any]]


class MuonState(NamedTuple):
  """State of :func:`scale_by_muon`."""

  count: jax.Array  # int32 scalar: number of updates seen so far.
  mu: base.Updates  # momentum, like params, in mu_dtype.
  ns_coeffs: jax.Array  # float32, shape (3,) or (n_steps, 3).


# ---------------------------------------------------------------------------
# Dimension numbers: which axes form the matrix.
# ---------------------------------------------------------------------------
def _is_spec(x: Any) -> bool:
  return isinstance(x, MuonDimensionNumbers)


def _is_masked(x: Any) -> bool:
  return isinstance(x, _masking.MaskedNode)


def _axes(x: jax.Array, spec: MuonDimensionNumbers):
  """``(reduction axes, output axes)`` as tuples of non-negative ints."""
  as_tuple = lambda a: (a,) if isinstance(a, int) else tuple(a)
  red = tuple(a % x.ndim for a in as_tuple(spec.reduction_axis))
  out = tuple(a % x.ndim for a in as_tuple(spec.output_axis))
  return red, out


def _fans(x: jax.Array, spec: MuonDimensionNumbers) -> tuple[int, int]:
  red, out = _axes(x, spec)
  return (math.prod(x.shape[a] for a in red),
          math.prod(x.shape[a] for a in out))


def _to_batched_matrices(x: jax.Array, spec: MuonDimensionNumbers):
  """``(x as (batch, fan_in, fan_out), the inverse function)``."""
  if x.ndim < 2:
    raise ValueError(
        f'Muon orthogonalises matrices: a leaf of shape {x.shape} (rank '
        f'{x.ndim}) cannot be one. Give it the dimension number None (Adam '
        'in gradtx.contrib.muon), or leave it out of scale_by_muon.')
  red, out = _axes(x, spec)
  if set(red) & set(out) or len(set(red)) != len(red) or len(set(out)) != len(out):
    raise ValueError(
        f'MuonDimensionNumbers {tuple(spec)} name the axes {red} and {out} '
        f'of a leaf of shape {x.shape}; reduction and output axes must be '
        'distinct.')
  batch = tuple(a for a in range(x.ndim) if a not in red + out)
  perm = batch + red + out
  inverse = tuple(int(i) for i in np.argsort(perm))
  sizes = lambda axes: tuple(x.shape[a] for a in axes)
  flat = (math.prod(sizes(batch)), math.prod(sizes(red)), math.prod(sizes(out)))
  unflat = sizes(batch) + sizes(red) + sizes(out)
  return (x.transpose(perm).reshape(flat),
          lambda y: y.reshape(unflat).transpose(inverse))


def _resolve_specs(spec: Any, updates: Any) -> Any:
  """A tree like ``updates`` holding each leaf's dimension numbers.

  ``spec`` is None (every leaf is a matrix ``(0, 1)``), one
  :class:`MuonDimensionNumbers` for every leaf, a tree of them (a prefix of
  the updates, None standing for the default), or a function of the updates
  returning one. Leaves masked out by :func:`gradtx.partition` stay masked.
  """
  spec = spec(updates) if callable(spec) else spec

  def fill(s, subtree):
    s = MuonDimensionNumbers() if s is None else s
    return jax.tree.map(lambda x: _masking.MaskedNode() if _is_masked(x) else s,
                        subtree, is_leaf=_is_masked)

  try:
    return jax.tree.map(fill, spec, updates,
                        is_leaf=lambda x: x is None or _is_spec(x))
  except (ValueError, TypeError) as e:
    raise ValueError(
        'weight_dimension_numbers must be None, a MuonDimensionNumbers, or a '
        'tree of them (None for the default) with the structure of the params '
        f'or a prefix of it: {e}') from e


def _map_with_specs(f, updates, specs, *rest):
  """``f(x, spec, *r)`` for each leaf (specs is a tree like the updates)."""
  return jax.tree.map(lambda x, s, *r: f(x, s, *r), updates, specs, *rest)


# ---------------------------------------------------------------------------
# Newton–Schulz orthogonalisation.
# ---------------------------------------------------------------------------
def _ns_step(x, c):
  """``c0·X + (c1·A + c2·A²)·X`` with ``A = X·Xᴴ``."""
  a = x @ x.T.conj()
  return c[0] * x + (c[1] * a + c[2] * a @ a) @ x


def _aol_first_step(x, c, eps):
  """First step with "almost orthogonal layer" row rescaling."""
  a = x @ x.T.conj()
  s = jax.lax.rsqrt(jnp.maximum(jnp.abs(a).sum(axis=-1), eps))[:, None]
  x, a = x * s, a * s * s.T
  return c[0] * x + (c[1] * a + c[2] * a @ a) @ x


def _schatten_first_step(x, c, eps):
  """First step after scaling by the inverse Schatten-4 norm."""
  a = x @ x.T
  s = jax.lax.rsqrt(jnp.maximum(jnp.linalg.norm(a, ord='fro'), eps))
  x, a = x * s, a * s**2
  return c[0] * x + (c[1] * a + c[2] * a @ a) @ x


def _orthogonalize_matrix(x, coeffs, ns_steps, preconditioning, eps):
  """Newton–Schulz on one matrix (rows ≤ columns inside)."""
  transposed = x.shape[0] > x.shape[1]
  if transposed:
    x = x.T
  if preconditioning == 'frobenius':
    x = x / (jnp.linalg.norm(x, ord='fro') + eps)
  elif preconditioning == 'spectral':
    x = x / (jnp.linalg.norm(x, ord=2) + eps)
  first = {'aol': _aol_first_step, 'schatten': _schatten_first_step}.get(
      preconditioning)
  coeffs = coeffs.astype(x.dtype)

  def step(i, x, c):
    if first is None:
      return _ns_step(x, c)
    return jax.lax.cond(i == 0, lambda x: first(x, c, eps),
                        lambda x: _ns_step(x, c), x)

  if coeffs.ndim == 1:
    x = jax.lax.fori_loop(0, ns_steps, lambda i, x: step(i, x, coeffs), x,
                          unroll=True)
  else:
    def body(carry, c):
      i, x = carry
      return (i + 1, step(i, x, c)), None
    (_, x), _ = jax.lax.scan(body, (jnp.zeros([], jnp.int32), x), coeffs)
  return x.T if transposed else x


def _check_preconditioning(preconditioning):
  if preconditioning not in _PRECONDITIONINGS:
    raise ValueError(
        f'preconditioning must be one of {list(_PRECONDITIONINGS)}, got '
        f'{preconditioning!r}')


def orthogonalize_via_newton_schulz(
    x: jax.Array,
    ns_coeffs: Any = _STANDARD_NS_COEFFS,
    ns_steps: int = 5,
    preconditioning: str = 'frobenius',
    eps: float = 1e-8,
    dimension_numbers: Optional[MuonDimensionNumbers] = None,
) -> jax.Array:
  r"""Maps a matrix ``G = U·S·Vᵀ`` to approximately ``U·Vᵀ``.

  .. code-block:: text

    X₀ = G / (‖G‖_F + eps)                       (preconditioning='frobenius')
    Xₖ₊₁ = c₀·Xₖ + (c₁·A + c₂·A²)·Xₖ,   A = Xₖ·Xₖᵀ   (ns_steps times)

  Each step maps every singular value ``σ`` of ``X`` to
  ``p(σ) = c₀σ + c₁σ³ + c₂σ⁵`` and leaves the singular vectors alone. The
  default coefficients ``(3.4445, −4.7750, 2.0315)`` push all singular
  values into roughly ``[0.7, 1.2]`` in five steps rather than exactly to 1.
  The iteration runs on ``X`` or ``Xᵀ``, whichever has fewer rows, in
  float32 or wider.

  Args:
    x: a matrix, or an array whose matrix axes ``dimension_numbers`` names
      (the other axes are batch axes).
    ns_coeffs: ``(c₀, c₁, c₂)``, or one triple per step (shape ``(n, 3)``,
      then ``ns_steps`` is ignored).
    ns_steps: number of iterations.
    preconditioning: ``'frobenius'`` (divide by the Frobenius norm),
      ``'spectral'`` (by the largest singular value, exact but costly),
      ``'aol'`` (rescale the rows in the first step, Boissin et al.) or
      ``'schatten'`` (divide by the Schatten-4 norm in the first step,
      Grishina et al.).
    eps: keeps the normalisations finite for a zero matrix.
    dimension_numbers: the reduction and output axes; None for a 2-D ``x``.

  Returns:
    The orthogonalised array, with the shape and dtype of ``x``.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from gradtx.contrib import orthogonalize_via_newton_schulz
    >>> g = jax.random.normal(jax.random.PRNGKey(0), (4, 8))
    >>> o = orthogonalize_via_newton_schulz(g)
    >>> s = jnp.linalg.svd(o, compute_uv=False)
    >>> bool(jnp.all((s > 0.6) & (s < 1.3)))
    True

  References:
    Jordan et al., *Muon: An optimizer for hidden layers in neural networks*,
    2024 (https://kellerjordan.github.io/posts/muon/).
  """
  _check_preconditioning(preconditioning)
  coeffs = jnp.asarray(ns_coeffs, jnp.float32)
  if coeffs.ndim not in (1, 2) or coeffs.shape[-1] != 3:
    raise ValueError(
        f'ns_coeffs must have shape (3,) or (n, 3), got {coeffs.shape}')
  if dimension_numbers is None:
    if x.ndim != 2:
      raise ValueError(
          f'orthogonalize_via_newton_schulz needs a matrix, got shape '
          f'{x.shape}; pass dimension_numbers for other ranks.')
    dimension_numbers = MuonDimensionNumbers()
  spec = MuonDimensionNumbers(*(
      a if isinstance(a, int) else tuple(a) for a in dimension_numbers))
  return _orthogonalize(x, coeffs, eps, ns_steps, preconditioning, spec)


@functools.partial(jax.jit, static_argnums=(3, 4, 5))
def _orthogonalize(x, coeffs, eps, ns_steps, preconditioning, spec):
  """The compiled body of :func:`orthogonalize_via_newton_schulz`."""
  mats, back = _to_batched_matrices(x.astype(tu.compute_dtype(x)), spec)
  out = jax.vmap(lambda m: _orthogonalize_matrix(
      m, coeffs, ns_steps, preconditioning, eps))(mats)
  return back(out).astype(x.dtype)


# ---------------------------------------------------------------------------
# The transformation.
# ---------------------------------------------------------------------------
def _ns_coeffs_array(ns_coeffs, ns_steps):
  """Checks ``ns_coeffs`` and returns it as a NumPy float32 array."""
  if isinstance(ns_coeffs, str):
    if ns_coeffs not in _NS_PRESETS:
      raise ValueError(
          f'ns_coeffs preset must be one of {sorted(_NS_PRESETS)}, got '
          f'{ns_coeffs!r}')
    ns_coeffs = _NS_PRESETS[ns_coeffs]
  coeffs = np.asarray(ns_coeffs, np.float32)
  if coeffs.ndim not in (1, 2) or coeffs.shape[-1] != 3:
    raise ValueError(
        f'ns_coeffs must have shape (3,) or (n, 3), got {coeffs.shape}')
  if coeffs.ndim == 2 and coeffs.shape[0] > ns_steps:
    raise ValueError(
        f'ns_coeffs has {coeffs.shape[0]} rows (one per step), more than '
        f'ns_steps={ns_steps}')
  return coeffs


def scale_by_muon(
    ns_coeffs: Any = _STANDARD_NS_COEFFS,
    ns_steps: int = 5,
    beta: float = 0.95,
    eps: float = 1e-8,
    mu_dtype: Optional[Any] = None,
    *,
    nesterov: bool = True,
    adaptive: bool = False,
    preconditioning: str = 'frobenius',
    weight_dimension_numbers: Optional[WeightDimNumOrFn] = None,
) -> base.GradientTransformation:
  r"""Orthogonalises the momentum of each matrix (Muon).

  .. code-block:: text

    m ← β·m + (1 − β)·g
    m̂ = β·m/(1 − βᵗ⁺¹) + (1 − β)·g/(1 − βᵗ)      (nesterov, the default)
    m̂ = m/(1 − βᵗ)                                (nesterov=False)
    u = NS(m̂)                    see orthogonalize_via_newton_schulz
    u = ⟨m̂, NS(m̂)⟩·NS(m̂)          if adaptive

  ``NS`` replaces the singular values of the momentum matrix by roughly one:
  the update is the steepest descent direction in the spectral norm.
  Every leaf must be a matrix (or have dimension numbers saying which axes
  form one); :func:`muon` sends the other leaves to AdamW. The debiasing
  (which Optax does and Keller Jordan's PyTorch Muon does not) only scales
  the matrix, so after ``NS`` it changes nothing but the first steps' ``eps``.

  Args:
    ns_coeffs: ``(c₀, c₁, c₂)`` of the quintic iteration, or one triple per
      step (shape ``(n, 3)`` with ``n ≤ ns_steps``).
    ns_steps: number of Newton–Schulz iterations (ignored for per-step
      coefficients).
    beta: momentum decay, in ``[0, 1)``.
    eps: added to the norm in the preconditioning, ``≥ 0``.
    mu_dtype: dtype of the momentum; None keeps the params' dtype.
    nesterov: use the Nesterov look-ahead momentum.
    adaptive: scale each update by the dual norm ``⟨m̂, NS(m̂)⟩``
      (Bernstein & Newhouse).
    preconditioning: ``'frobenius'``, ``'spectral'``, ``'aol'`` or
      ``'schatten'``; see :func:`orthogonalize_via_newton_schulz`.
    weight_dimension_numbers: None (every leaf is a ``(d_in, d_out)``
      matrix), a :class:`MuonDimensionNumbers` for every leaf, a tree of them
      like the params (or a prefix), or a function of the params returning
      one.

  Returns:
    A :class:`~gradtx.GradientTransformation` with a :class:`MuonState`.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from gradtx.contrib import scale_by_muon
    >>> tx = scale_by_muon()
    >>> g = jnp.array([[3.0, 0.0], [0.0, 1.0]])
    >>> u, _ = tx.update(g, tx.init(g))
    >>> jnp.round(jnp.diag(u), 1)  # singular values 3 and 1 both become ≈ 1
    Array([0.8, 1.1], dtype=float32)

  References:
    Jordan et al., *Muon: An optimizer for hidden layers in neural networks*,
    2024 (https://kellerjordan.github.io/posts/muon/).
    Bernstein & Newhouse, *Old Optimizer, New Norm: An Anthology*, 2024
    (arXiv:2409.20325).
  """
  _checks.check_beta('beta', beta)
  _checks.check_non_negative('eps', eps)
  ns_steps = _args.static_int('ns_steps', ns_steps, 0)
  _check_preconditioning(preconditioning)
  coeffs = _ns_coeffs_array(ns_coeffs, ns_steps)
  mu_dtype = _checks.check_dtype('mu_dtype', mu_dtype)

  def init_fn(params):
    return MuonState(
        count=_hyper.zero_count(),
        mu=_leafwise.zeros_state(params, mu_dtype),
        ns_coeffs=jnp.asarray(coeffs),
    )

  def orthogonalize(m, spec, coeffs):
    return orthogonalize_via_newton_schulz(m, coeffs, ns_steps,
                                           preconditioning, eps, spec)

  def update_fn(updates, state, params=None):
    del params
    specs = _resolve_specs(weight_dimension_numbers, updates)
    g = tu.upcast(updates)
    mu = tu.update_moment(g, tu.upcast(state.mu), beta, 1)
    count = tu.safe_increment(state.count)
    # Optax's Nesterov form is scale_by_adam's: reuse its one implementation.
    mu_hat = _adam._debiased_mu(mu, g, beta, count, nesterov)  # pylint: disable=protected-access
    out = _map_with_specs(lambda m, s: orthogonalize(m, s, state.ns_coeffs),
                          mu_hat, specs)
    if adaptive:
      out = jax.tree.map(lambda m, o: jnp.sum(m.conj() * o) * o, mu_hat, out)
    return _leafwise.like_updates(out, updates), MuonState(
        count=count,
        mu=_leafwise.store_like(mu, state.mu),
        ns_coeffs=state.ns_coeffs,
    )

  return base.transformation('scale_by_muon', init_fn, update_fn)


def _scale_by_shape(weight_dimension_numbers, consistent_rms):
  """``u ← √max(1, fan_out/fan_in)·u``, or ``√max(fan_in, fan_out)·r·u``."""

  def factor(x, spec):
    fan_in, fan_out = _fans(x, spec)
    if consistent_rms is None:
      return math.sqrt(max(1.0, fan_out / fan_in))
    return math.sqrt(max(fan_in, fan_out)) * consistent_rms

  def update_fn(updates, state, params=None):
    del params
    specs = _resolve_specs(weight_dimension_numbers, updates)
    out = _map_with_specs(
        lambda u, s: (factor(u, s) * u.astype(tu.compute_dtype(u))).astype(
            u.dtype), updates, specs)
    return out, state

  return base.transformation('scale_by_muon_shape',
                             base.init_empty_state, update_fn)


def muon(
    learning_rate: base.ScalarOrSchedule,
    ns_coeffs: Any = _STANDARD_NS_COEFFS,
    ns_steps: int = 5,
    beta: float = 0.95,
    eps: float = 1e-8,
    weight_decay: base.ScalarOrSchedule = 0.0,
    weight_decay_mask: Optional[Any] = None,
    mu_dtype: Optional[Any] = None,
    *,
    nesterov: bool = True,
    adaptive: bool = False,
    preconditioning: str = 'frobenius',
    adam_b1: float = 0.9,
    adam_b2: float = 0.999,
    adam_eps_root: float = 0.0,
    adam_weight_decay: base.ScalarOrSchedule = 0.0,
    adam_learning_rate: Optional[base.ScalarOrSchedule] = None,
    muon_weight_dimension_numbers: Optional[WeightDimNumOrFn] = None,
    consistent_rms: Optional[float] = None,
) -> base.GradientTransformationExtraArgs:
  r"""Muon on the matrices, AdamW on every other parameter.

  .. code-block:: text

    matrices:  u = −η_t·(s·NS(m̂) + λ·θ)        see scale_by_muon
               s = √max(1, fan_out/fan_in)       (consistent_rms None)
               s = r·√max(fan_in, fan_out)       (consistent_rms = r)
    others:    u = adamw(adam_learning_rate, adam_b1, adam_b2, eps,
                         adam_eps_root, weight_decay=adam_weight_decay,
                         nesterov=nesterov)

  By default the 2-D leaves are the matrices. With
  ``muon_weight_dimension_numbers``, the leaves given a
  :class:`MuonDimensionNumbers` get Muon (stacked layers, conv kernels) and
  those given None get AdamW. It is :func:`gradtx.partition` of the two
  chains, so the state holds a Muon state for the matrices and an AdamW state
  for the rest. ``consistent_rms=0.2`` gives updates with the RMS of AdamW's
  (Liu et al.).

  Args:
    learning_rate: ``η``, a constant or a schedule.
    ns_coeffs: Newton–Schulz coefficients, per-step coefficients, or a
      preset name: ``'standard'`` or ``'dion'``.
    ns_steps, beta, eps, mu_dtype, nesterov, adaptive, preconditioning: see
      :func:`scale_by_muon` (``eps``, ``mu_dtype`` and ``nesterov`` also
      reach AdamW).
    weight_decay: decoupled decay ``λ`` of the matrices (multiplied by
      ``η``).
    weight_decay_mask: which matrices to decay (a tree of booleans or a
      function of the params); None decays all.
    adam_b1, adam_b2, adam_eps_root: AdamW's moment decays and ``eps_root``.
    adam_weight_decay: AdamW's decoupled decay.
    adam_learning_rate: AdamW's learning rate; None uses ``learning_rate``.
    muon_weight_dimension_numbers: a tree (or a function of the params
      returning one) of :class:`MuonDimensionNumbers`, None marking AdamW
      leaves; None: the 2-D leaves get Muon.
    consistent_rms: None for the width scaling, or the target RMS ``r``.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`~gradtx.PartitionState` (labels ``'muon'`` and ``'adam'``).

  Example:
    >>> import jax, jax.numpy as jnp, gradtx
    >>> from gradtx.contrib import muon
    >>> params = {'w': jnp.ones((3, 4)), 'b': jnp.zeros(4)}
    >>> opt = muon(0.02)
    >>> grads = {'w': jnp.eye(3, 4), 'b': jnp.ones(4)}
    >>> u, state = opt.update(grads, opt.init(params), params)
    >>> u['b']  # NAdamW's first step: −η·(b1(1 − b1)/(1 − b1²) + 1)·sign(g)
    Array([-0.02947349, -0.02947349, -0.02947349, -0.02947349], dtype=float32)
    >>> float(jnp.linalg.norm(u['w'], 2)) < 0.03  # ≈ η·√(4/3)·σ, σ ≈ 1
    True

  References:
    Jordan et al., *Muon: An optimizer for hidden layers in neural networks*,
    2024 (https://kellerjordan.github.io/posts/muon/).
    Liu et al., *Muon is Scalable for LLM Training*, 2025 (arXiv:2502.16982).
  """
  _hyper.check_learning_rate(learning_rate)
  if adam_learning_rate is None:
    adam_learning_rate = learning_rate
  if consistent_rms is not None:
    _checks.check_non_negative('consistent_rms', consistent_rms)
  ns_coeffs = _ns_coeffs_array(ns_coeffs, ns_steps)
  user_specs = muon_weight_dimension_numbers

  def labels(params):
    if user_specs is None:
      return jax.tree.map(lambda x: 'muon' if jnp.ndim(x) == 2 else 'adam',
                          params)
    specs = user_specs(params) if callable(user_specs) else user_specs
    return jax.tree.map(
        lambda s, sub: jax.tree.map(lambda _: 'adam' if s is None else 'muon',
                                    sub),
        specs, params, is_leaf=lambda x: x is None or _is_spec(x))

  def muon_specs(masked_updates):
    if user_specs is None:
      return None  # every leaf Muon sees is a matrix.
    specs = user_specs(masked_updates) if callable(user_specs) else user_specs
    return _resolve_specs(specs, masked_updates)

  return _partition.partition(
      {
          'muon': base.chain(
              scale_by_muon(ns_coeffs, ns_steps, beta, eps, mu_dtype,
                            nesterov=nesterov, adaptive=adaptive,
                            preconditioning=preconditioning,
                            weight_dimension_numbers=muon_specs),
              _scale_by_shape(muon_specs, consistent_rms),
              _decay.add_decayed_weights(weight_decay, weight_decay_mask),
              _scaling.scale_by_learning_rate(learning_rate),
          ),
          'adam': _adam_opt.adamw(
              adam_learning_rate, adam_b1, adam_b2, eps, adam_eps_root,
              mu_dtype, weight_decay=adam_weight_decay, nesterov=nesterov),
      },
      labels,
      allow_unused_transforms=True,
  )
