"""Parameter groups chosen by regular expressions on parameter paths.

This is how the per-group settings of other frameworks are written in gradtx:
PyTorch's ``param_groups`` (``lr``, ``weight_decay`` and any optimizer
argument per group), MindSpore's ``group_params`` (``lr``, ``weight_decay``,
``grad_centralization``) and MXNet's ``lr_mult`` / ``wd_mult``. A parameter's
path is its key path in the params tree joined by ``'/'``, e.g.
``'encoder/layer_0/attention/kernel'``; patterns are matched against the whole
path with :func:`re.fullmatch`.
"""

from __future__ import annotations

import inspect
import numbers
import re
from typing import Any, Callable, Mapping, NamedTuple, Optional, Sequence, Union

import jax

from gradtx import _checks
from gradtx import _hyper
from gradtx import base
from gradtx import tree as tu
from gradtx.transforms import constraints
from gradtx.transforms import scaling
from gradtx.wrappers import _partition as _partition

DEFAULT_GROUP = 'default'
"""The label of the parameters that no group matches."""

_HYPER_KEYS = ('learning_rate', 'weight_decay', 'lr_mult', 'wd_mult')
_FLAG_KEYS = ('frozen', 'grad_centralization')
_RESERVED = ('params', 'name', 'optimizer') + _HYPER_KEYS + _FLAG_KEYS


def _is_transformation(x: Any) -> bool:
  return hasattr(x, 'init') and hasattr(x, 'update')


def _compile(patterns: Any, where: str) -> tuple[re.Pattern, ...]:
  if isinstance(patterns, str):
    patterns = (patterns,)
  if not isinstance(patterns, (list, tuple)) or not patterns:
    raise ValueError(
        f"{where}['params'] must be a regular expression or a list of them, "
        f'got {patterns!r}')
  out = []
  for p in patterns:
    if not isinstance(p, str):
      raise ValueError(
          f"{where}['params'] must hold regular expressions (strings), got "
          f'{p!r}')
    try:
      out.append(re.compile(p))
    except re.error as e:
      raise ValueError(
          f"{where}['params'] holds an invalid regular expression {p!r}: {e}"
      ) from e
  return tuple(out)


def _scaled(x: Any, factor: float) -> Any:
  """``factor · x`` for a constant or a schedule."""
  if factor == 1:
    return x
  if callable(x):
    return lambda count: factor * x(count)
  return factor * x


def _accepts(fn: Callable[..., Any], name: str) -> bool:
  try:
    params = inspect.signature(fn).parameters
  except (TypeError, ValueError):
    return True
  return name in params or any(
      p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


class _Group(NamedTuple):
  name: str
  patterns: tuple  # compiled regular expressions
  settings: dict  # every key but 'params' and 'name'


class GroupAssignment(NamedTuple):
  """Where one parameter landed; see :meth:`ParamGroups.resolve`."""

  label: str  # the partition label: matched group names joined by '+', or 'default'.
  groups: tuple  # the names of the groups whose patterns match, in order.
  settings: dict  # the merged settings (later groups override earlier ones).


class ParamGroups:
  """Parameter groups by regular expressions on paths, turned into an optimizer.

  Each group is a dict with ``'params'`` (a regular expression, or a list of
  them, matched with :func:`re.fullmatch` against paths like
  ``'encoder/layer_0/kernel'``) and any of:

  * ``'name'``: the group's label (default ``'group_<i>'``);
  * ``'learning_rate'`` (or ``'lr'``), ``'weight_decay'``: absolute values,
    constants or schedules (PyTorch's and MindSpore's per-group ``lr`` and
    ``weight_decay``);
  * ``'lr_mult'``, ``'wd_mult'``: multipliers of the learning rate and weight
    decay (MXNet's);
  * ``'grad_centralization'``: run :func:`gradtx.centralize` on the group's
    gradients before its optimizer (MindSpore's);
  * ``'frozen'``: zero the group's updates and keep no state for it;
  * ``'optimizer'``: a ready-made transformation for the group;
  * any other key: passed to the ``optimizer`` factory for this group only
    (e.g. ``'b1'``, ``'momentum'``), as PyTorch passes per-group options.

  A parameter gathers the settings of *every* group that matches it, in order,
  later groups overriding earlier ones key by key; parameters that match the
  same groups share one label (``'g1+g2'``). Parameters that match no group
  get the defaults, label ``'default'``. For a label, the transformation is:

  .. code-block:: text

    frozen                → set_to_zero()
    'optimizer' given     → chain(optimizer, scale(lr_mult))
    otherwise             → optimizer(learning_rate = lr · lr_mult,
                                      weight_decay = wd · wd_mult, **extra)
    grad_centralization   → chain(centralize(), <the above>)

  Args:
    groups: the group dicts, in order.
    optimizer: either a factory ``f(learning_rate, weight_decay=..., **extra)``
      returning a transformation (``gradtx.adamw`` itself is one), or a
      ready-made transformation used for the default group.
    learning_rate: the base learning rate for the factory.
    weight_decay: the base weight decay for the factory; None passes none.
    strict: raise if a group's pattern matches no parameter (usually a
      misspelt name).
    sep: separator of the path components.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> params = {'backbone': {'w': jnp.ones(2), 'bias': jnp.ones(2)},
    ...           'head': {'w': jnp.ones(2), 'bias': jnp.ones(2)}}
    >>> groups = gradtx.ParamGroups(
    ...     [{'name': 'backbone', 'params': 'backbone/.*', 'frozen': True},
    ...      {'name': 'no_decay', 'params': '.*bias', 'weight_decay': 0.0}],
    ...     optimizer=gradtx.adamw, learning_rate=1e-3, weight_decay=1e-2,
    ...     strict=True)
    >>> print(groups.describe(params))
    path           shape  label              frozen  learning_rate  weight_decay
    backbone/bias  (2,)   backbone+no_decay  True    -              -
    backbone/w     (2,)   backbone           True    -              -
    head/bias      (2,)   no_decay           False   0.001          0
    head/w         (2,)   default            False   0.001          0.01
    >>> tx = groups.transformation()
    >>> u, state = tx.update(params, tx.init(params), params)
    >>> u['backbone']['w']
    Array([0., 0.], dtype=float32)
  """

  def __init__(
      self,
      groups: Sequence[Mapping[str, Any]],
      optimizer: Union[Callable[..., base.GradientTransformation],
                       base.GradientTransformation, None] = None,
      *,
      learning_rate: Optional[base.ScalarOrSchedule] = None,
      weight_decay: Optional[base.ScalarOrSchedule] = None,
      strict: bool = False,
      sep: str = '/',
  ):
    if isinstance(groups, Mapping) or not isinstance(groups, (list, tuple)):
      raise ValueError(
          'groups must be a list of dicts, each with a "params" regular '
          f'expression, got {type(groups).__name__}')
    if optimizer is not None and not callable(optimizer) and not _is_transformation(optimizer):
      raise ValueError(
          'optimizer must be a factory f(learning_rate, ...) or a gradient '
          f'transformation, got {optimizer!r}')
    if learning_rate is not None:
      _hyper.check_learning_rate(learning_rate)
    if weight_decay is not None:
      _checks.check_callable_or_number('weight_decay', weight_decay)
      _checks.check_non_negative('weight_decay', weight_decay)
    self._optimizer = optimizer
    self._learning_rate = learning_rate
    self._weight_decay = weight_decay
    self._strict = bool(strict)
    self._sep = sep
    self._groups = tuple(self._parse(i, g) for i, g in enumerate(groups))
    names = [g.name for g in self._groups]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
      raise ValueError(f'group names must be unique, got {dup} more than once')
    self._cache: dict[Any, tuple[Any, Any]] = {}

  # -------------------------------------------------------------------------
  # Parsing and validation of the group dicts.
  # -------------------------------------------------------------------------
  def _parse(self, i: int, group: Mapping[str, Any]) -> _Group:
    where = f'groups[{i}]'
    if not isinstance(group, Mapping):
      raise ValueError(f'{where} must be a dict with a "params" key, got {group!r}')
    if 'params' not in group:
      raise ValueError(
          f'{where} has no "params" key: give the regular expression(s) of '
          f'the parameter paths it covers, got keys {sorted(group)}')
    name = group.get('name', f'group_{i}')
    if not isinstance(name, str) or not name or '+' in name or name == DEFAULT_GROUP:
      raise ValueError(
          f"{where}['name'] must be a non-empty string without '+', other "
          f'than {DEFAULT_GROUP!r}, got {name!r}')
    settings = {k: v for k, v in group.items() if k not in ('params', 'name')}
    if 'lr' in settings:
      if 'learning_rate' in settings:
        raise ValueError(f"{where} gives both 'lr' and 'learning_rate'")
      settings['learning_rate'] = settings.pop('lr')
    w = f'{where} ({name!r})'
    if 'learning_rate' in settings:
      _hyper.check_learning_rate(settings['learning_rate'], f"{w}['learning_rate']")
    if 'weight_decay' in settings:
      _checks.check_callable_or_number(f"{w}['weight_decay']", settings['weight_decay'])
      _checks.check_non_negative(f"{w}['weight_decay']", settings['weight_decay'])
    for key in ('lr_mult', 'wd_mult'):
      if key in settings:
        v = settings[key]
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
          raise ValueError(f"{w}['{key}'] must be a number >= 0, got {v!r}")
        _checks.check_non_negative(f"{w}['{key}']", v)
    for key in _FLAG_KEYS:
      if key in settings and not isinstance(settings[key], bool):
        raise ValueError(f"{w}['{key}'] must be True or False, got {settings[key]!r}")
    if 'optimizer' in settings and not _is_transformation(settings['optimizer']):
      raise ValueError(
          f"{w}['optimizer'] must be a gradient transformation, got "
          f"{settings['optimizer']!r}")
    return _Group(name, _compile(group['params'], where), settings)

  # -------------------------------------------------------------------------
  # Resolution: path -> group.
  # -------------------------------------------------------------------------
  def _paths(self, params: Any) -> list[tuple[str, Any]]:
    return [
        (tu.path_to_str(p, self._sep), x)
        for p, x in jax.tree_util.tree_flatten_with_path(params)[0]
    ]

  def resolve(self, params: Any) -> dict[str, GroupAssignment]:
    """The group of every parameter, as ``{path: GroupAssignment}``.

    Raises:
      ValueError: in strict mode, when a group's pattern matches no path; the
        message names the group, the pattern and some of the paths.
    """
    paths = [p for p, _ in self._paths(params)]
    out = {}
    used = set()
    for path in paths:
      matched, settings = [], {}
      for g in self._groups:
        hits = [r for r in g.patterns if r.fullmatch(path)]
        if hits:
          matched.append(g.name)
          settings.update(g.settings)
          used.update((g.name, r.pattern) for r in hits)
      label = '+'.join(matched) if matched else DEFAULT_GROUP
      out[path] = GroupAssignment(label, tuple(matched), settings)
    if self._strict:
      for g in self._groups:
        for r in g.patterns:
          if (g.name, r.pattern) not in used:
            shown = ', '.join(repr(p) for p in paths[:8])
            more = f' and {len(paths) - 8} more' if len(paths) > 8 else ''
            raise ValueError(
                f'param_groups (strict): the pattern {r.pattern!r} of group '
                f'{g.name!r} matches no parameter path. Patterns must match '
                f'the whole path (re.fullmatch); the paths are {shown}{more}.')
    return out

  def labels(self, params: Any) -> Any:
    """A tree like ``params`` holding each parameter's label."""
    assignment = self.resolve(params)
    return jax.tree_util.tree_map_with_path(
        lambda p, _: assignment[tu.path_to_str(p, self._sep)].label, params)

  def describe(self, params: Any) -> str:
    """A table of path, shape, label and the effective hyperparameters."""
    assignment = self.resolve(params)
    shapes = {p: tuple(getattr(x, 'shape', ())) for p, x in self._paths(params)}
    rows = [('path', 'shape', 'label', 'frozen', 'learning_rate', 'weight_decay')]
    for path, a in assignment.items():
      frozen = bool(a.settings.get('frozen', False))
      lr, wd = ('-', '-') if frozen else self._effective(a.settings)
      rows.append((path, str(shapes[path]), a.label, str(frozen), lr, wd))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return '\n'.join(
        '  '.join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)

  def _effective(self, s: dict) -> tuple[str, str]:
    def show(x, mult):
      if x is None:
        return '-'
      if callable(x):
        return 'schedule' + (f' x {mult:g}' if mult != 1 else '')
      return f'{_scaled(x, mult):g}'

    if 'optimizer' in s or (self._optimizer is not None and _is_transformation(self._optimizer)):
      mult = s.get('lr_mult', 1.0)
      return ('optimizer' + (f' x {mult:g}' if mult != 1 else ''), '-')
    lr = s.get('learning_rate', self._learning_rate)
    wd = s.get('weight_decay', self._weight_decay)
    return show(lr, s.get('lr_mult', 1.0)), show(wd, s.get('wd_mult', 1.0))

  # -------------------------------------------------------------------------
  # Building the transformations.
  # -------------------------------------------------------------------------
  def _build(self, label: str, s: dict, paths: list[str]) -> base.GradientTransformation:
    where = f'param_groups: group {label!r} (paths {paths[:4]}{" ..." if len(paths) > 4 else ""})'
    if s.get('frozen', False):
      return base.set_to_zero()
    extra = {k: v for k, v in s.items() if k not in _RESERVED}
    ready = s.get('optimizer')
    if ready is None and _is_transformation(self._optimizer):
      ready = self._optimizer
    if ready is not None:
      bad = [k for k in ('learning_rate', 'weight_decay', 'wd_mult') if k in s] + sorted(extra)
      if bad:
        raise ValueError(
            f'{where} has a ready-made optimizer, which cannot take the '
            f'settings {bad}; give an optimizer factory such as gradtx.adamw '
            'instead, or only lr_mult.')
      tx = ready
      if s.get('lr_mult', 1.0) != 1:
        tx = base.chain(tx, scaling.scale(s['lr_mult']))
    else:
      if self._optimizer is None:
        raise ValueError(
            f"{where} has no 'optimizer' and no optimizer factory was given: "
            'pass optimizer=... to param_groups (e.g. gradtx.adamw).')
      lr = s.get('learning_rate', self._learning_rate)
      if lr is None:
        raise ValueError(
            f'{where} has no learning rate: pass learning_rate=... to '
            "param_groups or give the group a 'learning_rate' (or 'lr').")
      kwargs = dict(extra)
      kwargs['learning_rate'] = _scaled(lr, s.get('lr_mult', 1.0))
      wd = s.get('weight_decay', self._weight_decay)
      if wd is None and 'wd_mult' in s:
        raise ValueError(
            f"{where} has a 'wd_mult' but no weight_decay to multiply: pass "
            'weight_decay=... to param_groups.')
      if wd is not None:
        kwargs['weight_decay'] = _scaled(wd, s.get('wd_mult', 1.0))
      for k in kwargs:
        if not _accepts(self._optimizer, k):
          raise ValueError(
              f'{where} sets {k!r}, which the optimizer factory '
              f'{getattr(self._optimizer, "__name__", self._optimizer)!r} '
              'does not accept.')
      tx = self._optimizer(**kwargs)
    if s.get('grad_centralization', False):
      tx = base.chain(constraints.centralize(), tx)
    return tx

  def _partition_for(self, tree: Any) -> base.GradientTransformationExtraArgs:
    key = jax.tree.structure(tree)
    if key not in self._cache:
      assignment = self.resolve(tree)
      by_label: dict[str, tuple[dict, list[str]]] = {}
      for path, a in assignment.items():
        by_label.setdefault(a.label, (a.settings, []))[1].append(path)
      txs = {l: self._build(l, s, p) for l, (s, p) in by_label.items()}
      labels = jax.tree_util.tree_map_with_path(
          lambda p, _: assignment[tu.path_to_str(p, self._sep)].label, tree)
      if len(self._cache) > 16:
        self._cache.clear()
      self._cache[key] = _partition.partition(txs, labels)
    return self._cache[key]

  def transformation(self) -> base.GradientTransformationExtraArgs:
    """The optimizer: a :func:`gradtx.partition` over the resolved labels."""

    def init_fn(params):
      return self._partition_for(params).init(params)

    def update_fn(updates, state, params=None, **extra_args):
      tx = self._partition_for(updates if params is None else params)
      return tx.update(updates, state, params, **extra_args)

    return base.transformation_with_extra_args('param_groups', init_fn, update_fn)


def param_groups(
    groups: Sequence[Mapping[str, Any]],
    optimizer: Union[Callable[..., base.GradientTransformation],
                     base.GradientTransformation, None] = None,
    *,
    learning_rate: Optional[base.ScalarOrSchedule] = None,
    weight_decay: Optional[base.ScalarOrSchedule] = None,
    strict: bool = False,
    sep: str = '/',
) -> base.GradientTransformationExtraArgs:
  """An optimizer with per-group settings: ``ParamGroups(...).transformation()``.

  See :class:`ParamGroups` for the group keys and the rules; use that class
  directly to also print the resolved path-to-group mapping.

  Args:
    groups, optimizer, learning_rate, weight_decay, strict, sep: see
      :class:`ParamGroups`.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` (a
    :func:`gradtx.partition` of the groups' transformations).

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> params = {'encoder': {'w': jnp.ones(2)}, 'head': {'w': jnp.ones(2)}}
    >>> tx = gradtx.param_groups(
    ...     [{'params': 'encoder/.*', 'lr_mult': 0.1}],
    ...     optimizer=gradtx.adam, learning_rate=1.0)
    >>> u, _ = tx.update(params, tx.init(params), params)
    >>> u['encoder']['w'], u['head']['w']
    (Array([-0.1, -0.1], dtype=float32), Array([-1., -1.], dtype=float32))
  """
  return ParamGroups(
      groups, optimizer, learning_rate=learning_rate,
      weight_decay=weight_decay, strict=strict, sep=sep,
  ).transformation()


def path_mask(*patterns: str, strict: bool = False, sep: str = '/') -> Callable[[Any], Any]:
  """A mask function: True for the params whose path matches a pattern.

  For :func:`gradtx.masked`, :func:`gradtx.freeze` and the ``mask`` arguments
  of optimizers. Patterns are matched with :func:`re.fullmatch`.

  Args:
    *patterns: regular expressions on paths such as ``'encoder/.*'``.
    strict: raise if a pattern matches no parameter.
    sep: separator of the path components.

  Returns:
    ``f(params) -> tree of booleans``.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> params = {'encoder': {'w': jnp.ones(1)}, 'head': {'bias': jnp.ones(1)}}
    >>> gradtx.path_mask('encoder/.*')(params)
    {'encoder': {'w': True}, 'head': {'bias': False}}
  """
  if not patterns:
    raise ValueError('path_mask needs at least one pattern')
  compiled = _compile(list(patterns), 'path_mask')

  def mask_fn(params):
    paths = jax.tree_util.tree_map_with_path(
        lambda p, _: tu.path_to_str(p, sep), params)
    flat = jax.tree.leaves(paths)
    if strict:
      for r in compiled:
        if not any(r.fullmatch(p) for p in flat):
          raise ValueError(
              f'path_mask (strict): the pattern {r.pattern!r} matches no '
              f'parameter path; the paths are {flat[:8]}')
    return jax.tree.map(lambda p: any(r.fullmatch(p) for r in compiled), paths)

  return mask_fn


def path_labels(
    rules: Union[Mapping[str, Any], Sequence[tuple[str, Any]]],
    default: Optional[Any] = None,
    *,
    strict: bool = False,
    sep: str = '/',
) -> Callable[[Any], Any]:
  """A label function for :func:`gradtx.partition` from path patterns.

  Each parameter gets the label of the *first* pattern that matches its path
  (:func:`re.fullmatch`), else ``default``.

  Args:
    rules: ``{pattern: label}`` or a list of ``(pattern, label)``, in order.
    default: the label of unmatched parameters; None makes them an error.
    strict: raise if a pattern matches no parameter.
    sep: separator of the path components.

  Returns:
    ``f(params) -> tree of labels``.

  Raises:
    ValueError: (when called) naming the unmatched paths, or in strict mode
      the pattern that matches nothing.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> params = {'encoder': {'w': jnp.ones(1)}, 'head': {'w': jnp.ones(1)}}
    >>> gradtx.path_labels({'encoder/.*': 'slow'}, default='fast')(params)
    {'encoder': {'w': 'slow'}, 'head': {'w': 'fast'}}
  """
  items = list(rules.items()) if isinstance(rules, Mapping) else list(rules)
  compiled = [(_compile(p, f'path_labels rule {p!r}')[0], l) for p, l in items]

  def label_fn(params):
    paths = jax.tree_util.tree_map_with_path(
        lambda p, _: tu.path_to_str(p, sep), params)
    flat = jax.tree.leaves(paths)
    if strict:
      for r, l in compiled:
        if not any(r.fullmatch(p) for p in flat):
          raise ValueError(
              f'path_labels (strict): the pattern {r.pattern!r} (label {l!r}) '
              f'matches no parameter path; the paths are {flat[:8]}')

    def label(path):
      for r, l in compiled:
        if r.fullmatch(path):
          return l
      return default

    labels = jax.tree.map(label, paths)
    missing = [p for p, l in zip(flat, jax.tree.leaves(labels, is_leaf=lambda x: x is None)) if l is None]
    if missing:
      raise ValueError(
          f'path_labels: no pattern matches the paths {missing[:8]} and no '
          f'default label was given; the patterns are {[r.pattern for r, _ in compiled]}')
    return labels

  return label_fn


def layerwise_lr_decay(
    decay: float,
    num_layers: int,
    *,
    layer_pattern: str = r'(?:.*/)?layers?_{i}/.*',
    embedding_pattern: Optional[str] = r'(?:.*/)?embed[^/]*/.*',
) -> list[dict]:
  """Groups for layer-wise learning-rate decay, for :class:`ParamGroups`.

  .. code-block:: text

    lr_mult(embeddings) = decay^(L + 1)
    lr_mult(layer i)    = decay^(L − i)       i = 0 … L − 1 (0 nearest the input)
    lr_mult(the rest)   = 1                    (the head, via the default group)

  This is the convention of BEiT and ELECTRA fine-tuning: the deeper a layer
  sits from the output, the smaller its learning rate.

  Args:
    decay: the per-layer factor, in ``(0, 1]``.
    num_layers: ``L``, the number of layers, ``≥ 1``.
    layer_pattern: regular expression of layer ``i``'s paths, with the text
      ``{i}`` standing for the index.
    embedding_pattern: regular expression of the embeddings' paths, or None.

  Returns:
    A list of group dicts named ``'embeddings'`` and ``'layer_<i>'``; add your
    own groups after them (e.g. no weight decay on biases): a parameter
    gathers the settings of every group that matches it.

  Example:
    >>> import gradtx
    >>> [(g['name'], round(g['lr_mult'], 3)) for g in gradtx.layerwise_lr_decay(0.5, 2)]
    [('embeddings', 0.125), ('layer_0', 0.25), ('layer_1', 0.5)]
  """
  _checks.check_range('decay', decay, 0.0, 1.0, low_inclusive=False)
  _checks.check_int('num_layers', num_layers, low=1)
  if '{i}' not in layer_pattern:
    raise ValueError(
        f"layer_pattern must contain '{{i}}' where the layer index goes, got "
        f'{layer_pattern!r}')
  groups = []
  if embedding_pattern is not None:
    groups.append({'name': 'embeddings', 'params': embedding_pattern,
                   'lr_mult': float(decay) ** (num_layers + 1)})
  for i in range(num_layers):
    groups.append({'name': f'layer_{i}',
                   'params': layer_pattern.replace('{i}', str(i)),
                   'lr_mult': float(decay) ** (num_layers - i)})
  return groups
