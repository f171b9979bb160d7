"""Converting optimizer state between ``torch.optim`` and gradtx, both ways.

A PyTorch ``state_dict()`` numbers the parameters (group by group, in the
order they were given to the optimizer) and keeps, per parameter:

=========================  =====================================================
``torch.optim``            gradtx state (field)
=========================  =====================================================
SGD ``momentum_buffer``    ``TraceState.trace`` (``gradtx.sgd(lr, momentum)``)
Adam/AdamW ``exp_avg``     ``ScaleByAdamState.mu`` (``adam``, ``adamw``)
``exp_avg_sq``             ``ScaleByAdamState.nu``
``step``                   ``ScaleByAdamState.count`` (one count per state)
``max_exp_avg_sq``         ``ScaleByAmsgradState.nu_max`` (``amsgrad``)
group ``lr``,              the ``learning_rate``, ``weight_decay``,
``weight_decay``,          ``momentum``, ``eps``, ``b1``, ``b2`` of
``momentum``, ``eps``,     :func:`gradtx.inject_hyperparams` states
``betas``
=========================  =====================================================

The gradtx side is a *template*: the state of the matching gradtx optimizer
(``opt.init(params)``), whose moments are filled from PyTorch's buffers. The
matching optimizers are

* ``SGD(lr, momentum, nesterov, weight_decay=λ)``:
  ``chain(add_decayed_weights(λ), sgd(lr, momentum, nesterov))``
  (PyTorch adds ``λ·θ`` to the gradient before the momentum);
* ``Adam(lr, betas, eps, weight_decay=λ)``:
  ``chain(add_decayed_weights(λ), adam(lr, b1, b2, eps))``;
* ``AdamW(lr, betas, eps, weight_decay=λ)``:
  ``adamw(lr, b1, b2, eps, weight_decay=λ)``;

each wrapped in :func:`gradtx.inject_hyperparams` where the group values
(``lr``, ...) are to travel with the state, and in
:class:`gradtx.ParamGroups` for several parameter groups.

``Adam(amsgrad=True)`` keeps the maximum of the raw second moment and
debiases it afterwards; gradtx's :func:`gradtx.amsgrad` (Optax's rule) keeps
the maximum of the debiased one. The conversion stores
``nu_max = max_exp_avg_sq / (1 − b2ᵗ)``, so the first step after it uses the
same denominator, but the two rules drift apart afterwards.
"""

from __future__ import annotations

import copy
from typing import Any, Mapping, Optional, Sequence, Union

import jax
import jax.numpy as jnp
import numpy as np

from gradtx import tree as tu
from gradtx.stateful_schedules import inject as _inject
from gradtx.transforms import adam as _adam
from gradtx.transforms import momentum as _momentum

PathLike = Union[str, Sequence[Any]]

# state class -> {gradtx field: torch key}
_MOMENTS = {
    _adam.ScaleByAdamState: {'mu': 'exp_avg', 'nu': 'exp_avg_sq'},
    _adam.ScaleByAmsgradState: {
        'mu': 'exp_avg', 'nu': 'exp_avg_sq', 'nu_max': 'max_exp_avg_sq'},
    _momentum.TraceState: {'trace': 'momentum_buffer'},
}
_COUNTED = (_adam.ScaleByAdamState, _adam.ScaleByAmsgradState)
# torch group key -> injected hyperparameter name
_HYPER = {'lr': 'learning_rate', 'weight_decay': 'weight_decay',
          'momentum': 'momentum', 'eps': 'eps'}


def _path_key(path: PathLike) -> str:
  if isinstance(path, str):
    return path
  return '/'.join(tu.path_to_str((k,)) if not isinstance(k, (str, int)) else str(k)
                  for k in path)


class _Params:
  """The numbering of a torch state_dict, matched with the params tree."""

  def __init__(self, state_dict: Mapping[str, Any], param_paths: Mapping[str, PathLike],
               layouts: Optional[Mapping[str, Sequence[int]]]):
    if not isinstance(state_dict, Mapping) or 'param_groups' not in state_dict:
      raise ValueError(
          'expected a torch.optim state_dict() (a dict with "state" and '
          f'"param_groups"), got {type(state_dict).__name__}')
    self.groups = list(state_dict['param_groups'])
    ids = [i for g in self.groups for i in g['params']]
    if all('param_names' in g for g in self.groups):
      names = [n for g in self.groups for n in g['param_names']]
    else:
      names = list(param_paths)
    if len(names) != len(ids):
      raise ValueError(
          f'the torch optimizer has {len(ids)} parameters, the mapping '
          f'param_paths names {len(names)}; give one entry per parameter, in '
          "the optimizer's order (e.g. built from model.named_parameters())")
    missing = [n for n in names if n not in param_paths]
    if missing:
      raise ValueError(
          f'param_paths has no tree path for the torch parameters {missing}')
    self.layouts = dict(layouts or {})
    self.name_of = dict(zip(ids, names))
    self.group_of = {i: gi for gi, g in enumerate(self.groups) for i in g['params']}
    self.id_of_path = {_path_key(param_paths[n]): i for i, n in self.name_of.items()}
    self.paths = list(self.id_of_path)

  def id(self, path: str) -> int:
    try:
      return self.id_of_path[path]
    except KeyError:
      raise ValueError(
          f'the gradtx state holds a moment for the parameter {path!r}, which '
          f'param_paths does not map to a torch parameter (mapped paths: '
          f'{self.paths[:8]}{" ..." if len(self.paths) > 8 else ""})') from None

  def to_jax(self, i: int, value: Any, like: Any) -> jax.Array:
    name = self.name_of[i]
    if hasattr(value, 'detach'):
      value = value.detach().cpu()
      if not value.dtype.is_floating_point or value.dtype.itemsize < 4:
        value = value.float()
      value = value.numpy()
    value = np.asarray(value)
    if name in self.layouts:
      value = np.transpose(value, self.layouts[name])
    if value.shape != tuple(like.shape):
      raise ValueError(
          f'torch parameter {name!r}: its state has shape {value.shape}, the '
          f'gradtx state expects {tuple(like.shape)} (give layouts={{{name!r}: '
          'axes}} for a transposed layout)')
    out = jnp.asarray(value, like.dtype)
    sharding = getattr(like, 'sharding', None)
    return jax.device_put(out, sharding) if sharding is not None else out

  def to_torch(self, i: int, value: Any) -> Any:
    import torch  # pylint: disable=g-import-not-at-top
    value = np.asarray(value)
    name = self.name_of[i]
    if name in self.layouts:
      value = np.transpose(value, np.argsort(self.layouts[name]))
    if value.dtype not in (np.float32, np.float64, np.float16):
      return torch.from_numpy(value.astype(np.float32)).to(torch.bfloat16)
    return torch.from_numpy(np.array(value))


def _torch_state(state_dict: Mapping[str, Any], i: int) -> Optional[Mapping[str, Any]]:
  states = state_dict.get('state', {})
  return states.get(i, states.get(str(i)))


def _scalar(x: Any) -> float:
  return float(x.item() if hasattr(x, 'item') else x)


def _moment_leaves(node: Any, field: str) -> list[tuple[str, Any]]:
  flat = jax.tree_util.tree_flatten_with_path(getattr(node, field))[0]
  return [(tu.path_to_str(p), x) for p, x in flat]


def _covered(node: Any) -> list[str]:
  """The param paths of the moments found anywhere in ``node``."""
  found = []

  def visit(x):
    if type(x) in _MOMENTS:
      for field in _MOMENTS[type(x)]:
        found.extend(p for p, _ in _moment_leaves(x, field))
      return
    if x is None or jax.tree_util.treedef_is_leaf(jax.tree.structure(x)):
      return
    for c in jax.tree_util.tree_flatten(x, is_leaf=lambda y: y is not x)[0]:
      visit(c)

  visit(node)
  return list(dict.fromkeys(found))


def _coverage(node: Any, ancestors: Sequence[Any], params: _Params) -> list[str]:
  for n in (node,) + tuple(reversed(ancestors)):
    paths = _covered(n)
    if paths:
      return paths
  return params.paths


def _group_value(params: _Params, paths: Sequence[str], get) -> Any:
  """The value ``get(group)`` shared by the groups of ``paths``."""
  groups = sorted({params.group_of[params.id(p)] for p in paths})
  values = [get(params.groups[g]) for g in groups]
  if any(v != values[0] for v in values[1:]):
    raise ValueError(
        f'an injected hyperparameter covers the parameters {list(paths)[:6]}, '
        f'which lie in torch param groups {groups} with different values '
        f'{values}; use one gradtx param group per torch group '
        '(gradtx.ParamGroups)')
  return values[0]


def _rebuild(node: Any, ancestors: tuple, fn) -> Any:
  """Applies ``fn(node, ancestors)`` top-down; ``fn`` returns None to recurse."""
  out = fn(node, ancestors)
  if out is not None:
    return out
  if node is None or jax.tree_util.treedef_is_leaf(jax.tree.structure(node)):
    return node
  children, treedef = jax.tree_util.tree_flatten(node, is_leaf=lambda y: y is not node)
  return treedef.unflatten([_rebuild(c, ancestors + (node,), fn) for c in children])


def _bias_correction_2(group: Mapping[str, Any], step: int) -> float:
  b2 = float(group['betas'][1])
  return 1.0 - b2 ** step


def from_torch_state_dict(
    state_dict: Mapping[str, Any],
    template: Any,
    param_paths: Mapping[str, PathLike],
    *,
    layouts: Optional[Mapping[str, Sequence[int]]] = None,
) -> Any:
  """Fills a gradtx state with the state of a ``torch.optim`` optimizer.

  .. code-block:: text

    mu ← exp_avg,  nu ← exp_avg_sq,  count ← step          (Adam, AdamW)
    nu_max ← max_exp_avg_sq / (1 − b2^step)                 (amsgrad)
    trace ← momentum_buffer                                 (SGD)
    hyperparams[learning_rate, weight_decay, ...] ← group lr, weight_decay, ...

  Parameters that have no PyTorch state yet (no step taken) keep the
  template's zeros. See the module docstring for the matching optimizers.

  Args:
    state_dict: ``torch_optimizer.state_dict()``.
    template: the state of the matching gradtx optimizer,
      ``opt.init(params)``; its classes, dtypes and shardings are kept.
    param_paths: torch parameter name -> path in the params tree (a
      ``'/'``-joined string like ``'fc1/weight'`` or a tuple of keys), in the
      order the parameters were given to the torch optimizer (unless the
      state_dict has ``param_names``, from an optimizer built on
      ``model.named_parameters()``).
    layouts: torch parameter name -> axes such that
      ``np.transpose(torch_value, axes)`` is the gradtx value, e.g.
      ``(1, 0)`` for a ``Linear`` weight stored as a ``(in, out)`` kernel.

  Returns:
    A state like ``template``.

  Raises:
    ValueError: a parameter is missing from ``param_paths``, a shape does not
      match, or parameters sharing one gradtx count have different steps.

  Example:
    >>> import torch, jax.numpy as jnp, gradtx
    >>> from gradtx.checkpoint import from_torch_state_dict
    >>> w = torch.nn.Parameter(torch.ones(2))
    >>> topt = torch.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> w.grad = torch.tensor([1.0, 2.0]); topt.step()
    >>> opt = gradtx.sgd(0.1, momentum=0.9)
    >>> state = from_torch_state_dict(topt.state_dict(), opt.init({'w': jnp.ones(2)}),
    ...                               {'w': 'w'})
    >>> state[0].trace['w']
    Array([1., 2.], dtype=float32)
  """
  params = _Params(state_dict, param_paths, layouts)

  def fill(node, ancestors):
    if type(node) in _MOMENTS:
      return _fill_moments(node, state_dict, params)
    if isinstance(node, _inject._INJECTED):  # pylint: disable=protected-access
      inner = _rebuild(node.inner_state, ancestors + (node,), fill)
      paths = _coverage(node, ancestors, params)
      h = dict(node.hyperparams)
      for tkey, name in _HYPER.items():
        if name in h:
          value = _group_value(params, paths, lambda g, k=tkey: g.get(k))
          if value is not None:
            h[name] = jnp.asarray(_scalar(value), h[name].dtype)
      for j, name in enumerate(('b1', 'b2')):
        if name in h:
          value = _group_value(params, paths, lambda g, j=j: tuple(g['betas'])[j])
          h[name] = jnp.asarray(_scalar(value), h[name].dtype)
      steps = {_scalar(s['step']) for p in paths
               if (s := _torch_state(state_dict, params.id(p))) and 'step' in s}
      count = node.count
      if len(steps) == 1:
        count = jnp.asarray(int(steps.pop()), node.count.dtype)
      return node._replace(count=count, hyperparams=h, inner_state=inner)
    return None

  return _rebuild(template, (), fill)


def _fill_moments(node: Any, state_dict: Mapping[str, Any], params: _Params) -> Any:
  fields = _MOMENTS[type(node)]
  new = {}
  steps = {}
  for field, tkey in fields.items():
    leaves = _moment_leaves(node, field)
    values = []
    for path, like in leaves:
      i = params.id(path)
      ts = _torch_state(state_dict, i) or {}
      if 'step' in ts:
        steps[path] = int(_scalar(ts['step']))
      value = ts.get(tkey)
      if value is None:
        values.append(like)
        continue
      value = params.to_jax(i, value, like)
      if field == 'nu_max':
        step = int(_scalar(ts['step']))
        group = params.groups[params.group_of[i]]
        value = (value.astype(jnp.float32) / _bias_correction_2(group, step)).astype(like.dtype)
      values.append(value)
    treedef = jax.tree.structure(getattr(node, field))
    new[field] = treedef.unflatten(values)
  if isinstance(node, _COUNTED):
    covered = [p for p, _ in _moment_leaves(node, 'mu')]
    found = {steps.get(p, 0) for p in covered}
    if len(found) > 1:
      raise ValueError(
          'the torch parameters covered by one gradtx '
          f'{type(node).__name__} have different step counts '
          f'{ {p: steps.get(p, 0) for p in covered} }; gradtx keeps one count '
          'per transformation: give them separate param groups')
    if found:
      new['count'] = jnp.asarray(found.pop(), node.count.dtype)
  return node._replace(**new)


def to_torch_state_dict(
    state: Any,
    torch_template: Mapping[str, Any],
    param_paths: Mapping[str, PathLike],
    *,
    layouts: Optional[Mapping[str, Sequence[int]]] = None,
) -> dict[str, Any]:
  """The ``torch.optim`` state_dict holding the state of a gradtx optimizer.

  The inverse of :func:`from_torch_state_dict`:

  .. code-block:: text

    exp_avg ← mu,  exp_avg_sq ← nu,  step ← count           (Adam, AdamW)
    max_exp_avg_sq ← nu_max · (1 − b2^count)                (amsgrad)
    momentum_buffer ← trace                                 (SGD)
    group lr, weight_decay, ... ← hyperparams[learning_rate, weight_decay, ...]

  Load the result with ``torch_optimizer.load_state_dict(...)``.

  Args:
    state: a state of one of the matching gradtx optimizers (see the module
      docstring).
    torch_template: ``torch_optimizer.state_dict()`` of the torch optimizer
      that will load the state (its param groups give the numbering and every
      setting gradtx does not hold, such as ``amsgrad`` or ``foreach``).
    param_paths: torch parameter name -> path in the params tree, as in
      :func:`from_torch_state_dict`.
    layouts: as in :func:`from_torch_state_dict`.

  Returns:
    A new state_dict (``torch_template`` is not modified).

  Example:
    >>> import torch, jax.numpy as jnp, gradtx
    >>> from gradtx.checkpoint import to_torch_state_dict
    >>> opt = gradtx.adam(1e-3)
    >>> _, state = opt.update({'w': jnp.ones(2)}, opt.init({'w': jnp.zeros(2)}))
    >>> w = torch.nn.Parameter(torch.zeros(2))
    >>> topt = torch.optim.Adam([w], lr=1e-3)
    >>> topt.load_state_dict(to_torch_state_dict(state, topt.state_dict(), {'w': 'w'}))
    >>> topt.state[w]['exp_avg'], topt.state[w]['step']
    (tensor([0.1000, 0.1000]), tensor(1.))
  """
  import torch  # pylint: disable=g-import-not-at-top
  params = _Params(torch_template, param_paths, layouts)
  out = {'state': {}, 'param_groups': copy.deepcopy(list(torch_template['param_groups']))}

  def export(node, ancestors):
    if type(node) in _MOMENTS:
      count = int(node.count) if isinstance(node, _COUNTED) else None
      for field, tkey in _MOMENTS[type(node)].items():
        for path, value in _moment_leaves(node, field):
          i = params.id(path)
          value = np.asarray(value)
          if field == 'nu_max':
            group = params.groups[params.group_of[i]]
            value = (value.astype(np.float64) * _bias_correction_2(group, count)).astype(value.dtype)
          entry = out['state'].setdefault(i, {})
          entry[tkey] = params.to_torch(i, value)
          if count is not None:
            entry['step'] = torch.tensor(float(count), dtype=torch.float32)
      return node
    if isinstance(node, _inject._INJECTED):  # pylint: disable=protected-access
      _rebuild(node.inner_state, ancestors + (node,), export)
      paths = _coverage(node, ancestors, params)
      groups = sorted({params.group_of[params.id(p)] for p in paths})
      h = node.hyperparams
      for g in groups:
        group = out['param_groups'][g]
        for tkey, name in _HYPER.items():
          if name in h and tkey in group:
            group[tkey] = float(h[name])
        if ('b1' in h or 'b2' in h) and 'betas' in group:
          b1, b2 = group['betas']
          group['betas'] = (float(h.get('b1', b1)), float(h.get('b2', b2)))
      return node
    return None

  _rebuild(state, (), export)
  return out
