"""gradtx is a drop-in replacement for Optax 0.2.8 at the API level.

For every public name that Optax and gradtx both export (at top level, in
``tree`` and in ``schedules``), the gradtx callable must accept every call the
Optax one accepts, with the same meaning:

* the positional parameters Optax has come first, in the same order, with the
  same names, kinds and defaults;
* every keyword-only parameter of Optax exists in gradtx with the same default;
* ``*args`` / ``**kwargs`` of Optax exist in gradtx too;
* anything gradtx adds has a default (keyword-only moment dtypes such as
  ``nu_dtype``, trailing options).

State ``NamedTuple``\\ s that both export have the same field names, since users
read them (``state.mu``, ``state.hyperparams['learning_rate']``).

Deliberate differences are listed, with the reason, in ``SIGNATURE_ALLOWED``
and ``FIELDS_ALLOWED``; anything else fails. The Optax names that gradtx does
not have yet are printed (run with ``-s`` to see them), not failed.
"""

from __future__ import annotations

import enum
import inspect
import typing

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx

P = inspect.Parameter
_POSITIONAL = (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)

# (qualified name, parameter) -> why gradtx deliberately differs from Optax.
# The parameter is '*' for a difference in the whole signature.
# Empty today: every shared callable accepts every Optax call. Notes on what
# is *not* listed because it is compatible:
# * callable defaults (scale_by_factored_rms's ``decay_rate_fn``) are gradtx's
#   own functions; they are compared by name here and by value in
#   ``test_callable_defaults_mean_the_same``;
# * parameters gradtx adds (``nu_dtype`` on adam/adamw/scale_by_adam/
#   scale_by_factored_rms, trailing options) are keyword-only or have defaults;
# * ``*args`` names differ (``chain(*transforms)`` vs ``chain(*args)``), which
#   no caller can observe;
# * add_noise keeps Optax's deprecated ``seed`` next to ``key``.
SIGNATURE_ALLOWED: dict[tuple[str, str], str] = {
    ('contrib.adopt', 'clip_value_fn'):
        "Optax's default is an anonymous lambda (step ** 0.25); gradtx names "
        'it _default_clip; tests/test_contrib_a.py checks the clipping values',
    ('contrib.scale_by_adopt', 'clip_value_fn'):
        'as contrib.adopt',
    ('contrib.sophia', 'hessian_diagonal_fn'):
        "the default estimator is gradtx's own hutchinson_estimator_diag_hessian",
}

# State class -> why its fields deliberately differ from Optax's.
# Empty today. (AddDecayedWeightsState used to carry a ``count`` even for a
# constant decay, which made ``tree.get(adamw_state, 'count')`` ambiguous; it is
# now empty like Optax's, and a scheduled decay uses its own counter state.)
FIELDS_ALLOWED: dict[str, str] = {}

# Names whose "concept" differs although the name is shared, so a signature
# comparison would be meaningless.
NOT_SAME_CONCEPT: dict[str, str] = {}


def _public(module) -> list[str]:
  return sorted(n for n in dir(module) if not n.startswith('_'))


def _shared(optax_module, gradtx_module, prefix):
  for name in _public(optax_module):
    if not hasattr(gradtx_module, name):
      continue
    o, g = getattr(optax_module, name), getattr(gradtx_module, name)
    if inspect.ismodule(o) or prefix + name in NOT_SAME_CONCEPT:
      continue
    yield prefix + name, o, g


# Optax's namespaces that gradtx also has (the top level and ``tree`` first).
NAMESPACES = [('', optax, gradtx), ('tree.', optax.tree, gradtx.tree)] + [
    (f'{ns}.', getattr(optax, ns), getattr(gradtx, ns))
    for ns in ('schedules', 'transforms', 'tree_utils', 'contrib', 'losses',
               'projections')
    if hasattr(gradtx, ns)]

SHARED = [item for prefix, o, g in NAMESPACES for item in _shared(o, g, prefix)]


def _is_namedtuple(cls) -> bool:
  return isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, '_fields')


def _callables():
  for name, o, g in SHARED:
    if _is_namedtuple(o):
      continue  # fields are checked separately
    if isinstance(o, type):
      if (issubclass(o, enum.Enum) or getattr(o, '_is_protocol', False)
          or o.__init__ is object.__init__):
        continue
      yield name, o.__init__, g.__init__
    elif callable(o) and typing.get_origin(o) is None and not isinstance(o, typing.TypeVar):
      yield name, o, g  # typing aliases such as ``Schedule`` are skipped


CALLABLES = list(_callables())
STATES = [(n, o, g) for n, o, g in SHARED if _is_namedtuple(o)]


def _same_default(a, b) -> bool:
  if a is b:
    return True
  if callable(a) and callable(b):
    return getattr(a, '__name__', None) == getattr(b, '__name__', None)
  if hasattr(a, 'init') and hasattr(b, 'init'):  # a default transformation
    # (lbfgs's line search): the same factory made both.
    return (type(a).__name__ == type(b).__name__
            and a.init.__qualname__ == b.init.__qualname__)
  try:
    if np.dtype(a) == np.dtype(b):
      return True
  except TypeError:
    pass
  try:
    return bool(np.all(np.asarray(a == b)))
  except Exception:  # pylint: disable=broad-except
    return False


def incompatibilities(name, optax_fn, gradtx_fn) -> list[str]:
  """Why a call that Optax accepts may fail or mean something else in gradtx."""
  so, sg = inspect.signature(optax_fn), inspect.signature(gradtx_fn)
  po, pg = list(so.parameters.values()), list(sg.parameters.values())
  problems = []

  def bad(param, why):
    if (name, param) not in SIGNATURE_ALLOWED and (name, '*') not in SIGNATURE_ALLOWED:
      problems.append(f'{name}({param}): {why}\n    optax : {so}\n    gradtx: {sg}')

  o_pos = [p for p in po if p.kind in _POSITIONAL]
  g_pos = [p for p in pg if p.kind in _POSITIONAL]
  matched = set()
  for i, p in enumerate(o_pos):
    if i >= len(g_pos):
      bad(p.name, f'positional parameter #{i} missing')
      continue
    q = g_pos[i]
    matched.add(q.name)
    if p.kind == P.POSITIONAL_OR_KEYWORD and (
        q.kind != P.POSITIONAL_OR_KEYWORD or q.name != p.name):
      bad(p.name, f'positional parameter #{i} is {q.name!r} ({q.kind.description})')
    if p.default is not P.empty and not _same_default(p.default, q.default):
      bad(p.name, f'default {p.default!r} != {q.default!r}')
  g_by_name = {q.name: q for q in pg}
  for p in po:
    if p.kind == P.KEYWORD_ONLY:
      q = g_by_name.get(p.name)
      if q is None or q.kind not in (P.KEYWORD_ONLY, P.POSITIONAL_OR_KEYWORD):
        bad(p.name, 'keyword-only parameter missing')
        continue
      matched.add(q.name)
      if p.default is not P.empty and not _same_default(p.default, q.default):
        bad(p.name, f'default {p.default!r} != {q.default!r}')
    elif p.kind in (P.VAR_POSITIONAL, P.VAR_KEYWORD):
      same = [q for q in pg if q.kind == p.kind]
      if not same:
        bad(p.name, f'{p.kind.description} missing')
      else:
        matched.add(same[0].name)
      if p.kind == P.VAR_POSITIONAL and len(g_pos) != len(o_pos):
        bad(p.name, 'a different number of positional parameters before *args')
  for q in pg:
    if q.name in matched or q.kind in (P.VAR_POSITIONAL, P.VAR_KEYWORD):
      continue
    if q.default is P.empty:
      bad(q.name, 'gradtx adds a required parameter')
  return problems


@pytest.mark.parametrize('name,optax_fn,gradtx_fn', CALLABLES, ids=[c[0] for c in CALLABLES])
def test_signature_accepts_every_optax_call(name, optax_fn, gradtx_fn):
  problems = incompatibilities(name, optax_fn, gradtx_fn)
  assert not problems, '\n'.join(problems)


def _methods():
  for name, o, g in SHARED:
    if not isinstance(o, type) or issubclass(o, enum.Enum):
      continue
    for m in _public(o):
      om = getattr(o, m)
      if _is_namedtuple(o) and m in ('count', 'index'):
        continue  # tuple's own methods (shadowed by a ``count`` field)
      if callable(om) and not isinstance(om, type):
        yield f'{name}.{m}', om, getattr(g, m, None)


METHODS = list(_methods())


@pytest.mark.parametrize('name,optax_fn,gradtx_fn', METHODS, ids=[m[0] for m in METHODS])
def test_methods_of_shared_classes(name, optax_fn, gradtx_fn):
  """``MultiSteps.has_updated``, ``.gradient_transformation`` and the like."""
  assert gradtx_fn is not None, f'{name} is missing in gradtx'
  problems = incompatibilities(name, optax_fn, gradtx_fn)
  assert not problems, '\n'.join(problems)


@pytest.mark.parametrize('name,optax_cls,gradtx_cls', STATES, ids=[s[0] for s in STATES])
def test_state_fields_match(name, optax_cls, gradtx_cls):
  gradtx_fields = getattr(gradtx_cls, '_fields', None)
  if gradtx_fields != optax_cls._fields and name in FIELDS_ALLOWED:
    pytest.skip(f'deliberate: {FIELDS_ALLOWED[name]}')
  assert gradtx_fields == optax_cls._fields, (
      f'{name}: optax fields {optax_cls._fields}, gradtx fields {gradtx_fields}')


def test_allow_lists_are_not_stale():
  """An allow-list entry must still be needed, or it hides future regressions."""
  shared = {n for n, _, _ in SHARED}
  for (name, _), _ in SIGNATURE_ALLOWED.items():
    assert name in shared, f'{name} in SIGNATURE_ALLOWED is no longer shared'
  states = {n: (o, g) for n, o, g in STATES}
  for name in FIELDS_ALLOWED:
    assert name in states, f'{name} in FIELDS_ALLOWED is no longer shared'
    o, g = states[name]
    assert o._fields != g._fields, f'{name} in FIELDS_ALLOWED now matches Optax'


def test_there_is_something_to_compare():
  names = {n for n, _, _ in CALLABLES}
  for must in ('adam', 'adamw', 'chain', 'clip_by_global_norm', 'inject_hyperparams',
               'MultiSteps', 'masked', 'multi_transform', 'tree.norm',
               'warmup_cosine_decay_schedule', 'schedules.warmup_cosine_decay_schedule'):
    assert must in names
  assert {'ScaleByAdamState', 'InjectHyperparamsState', 'MultiStepsState'} <= {
      n for n, _, _ in STATES}


def test_report_missing_optax_names():
  """Prints (does not fail on) what Optax exports and gradtx does not."""
  for prefix, o, g in NAMESPACES:
    label = f'optax.{prefix}'.rstrip('.')
    missing = [n for n in _public(o) if not hasattr(g, n)]
    print(f'\n{label} names gradtx lacks ({len(missing)}): {", ".join(missing)}')


# --- the meaning of the calls that were fixed to match Optax --------------------


def test_scale_by_learning_rate_none_is_identity():
  g = {'a': jnp.array([1.0, -2.0])}
  for mod in (optax, gradtx):
    tx = mod.scale_by_learning_rate()
    updates, _ = tx.update(g, tx.init(g))
    np.testing.assert_array_equal(updates['a'], g['a'])
  tx = gradtx.scale_by_learning_rate(None, flip_sign=False)
  np.testing.assert_array_equal(tx.update(g, tx.init(g))[0]['a'], g['a'])


def test_callable_defaults_mean_the_same():
  """Defaults that are functions: gradtx's own, with Optax's values."""
  o = inspect.signature(optax.scale_by_factored_rms).parameters['decay_rate_fn'].default
  g = inspect.signature(gradtx.scale_by_factored_rms).parameters['decay_rate_fn'].default
  for step in (1, 2, 10, 1000):
    np.testing.assert_allclose(g(jnp.asarray(step), 0.8), o(jnp.asarray(step), 0.8), rtol=1e-6)


def test_tree_functions_accept_optax_keywords():
  """The tree helpers answer Optax's keyword names with Optax's values."""
  x = {'a': jnp.array([1.0, -2.0]), 'b': jnp.array([[3.0]])}
  y = {'a': jnp.array([0.5, 4.0]), 'b': jnp.array([[-1.0]])}
  for fn in ('add', 'sub', 'mul', 'div', 'vdot'):
    got = getattr(gradtx.tree, fn)(tree_x=x, tree_y=y)
    want = getattr(optax.tree, fn)(tree_x=x, tree_y=y)
    assert gradtx.tree.allclose(got, want), fn
  assert gradtx.tree.allclose(gradtx.tree.add(x, y, x), optax.tree.add(x, y, x))
  assert gradtx.tree.allclose(gradtx.tree.add_scale(tree_x=x, scalar=0.5, tree_y=y),
                              optax.tree.add_scale(tree_x=x, scalar=0.5, tree_y=y))
  assert gradtx.tree.allclose(gradtx.tree.where(True, tree_x=x, tree_y=y),
                              optax.tree.where(True, tree_x=x, tree_y=y))
  half = gradtx.tree.cast_like(x, other_tree=jax.tree.map(lambda v: v.astype(jnp.float16), x))
  assert half['a'].dtype == jnp.float16
  for kwargs in ({}, {'ord': None}, {'ord': 1}, {'ord': jnp.inf}, {'squared': True}):
    np.testing.assert_allclose(gradtx.tree.norm(x, **kwargs), optax.tree.norm(x, **kwargs),
                               rtol=1e-6, err_msg=str(kwargs))
  for assoc in (False, True):
    many = [jnp.full((2,), float(i)) for i in range(7)]
    np.testing.assert_allclose(gradtx.tree.sum(many, associative_reduction=assoc),
                               optax.tree.sum(many, associative_reduction=assoc))
  np.testing.assert_allclose(
      gradtx.tree.bias_correction(moment=x, decay=0.9, count=jnp.asarray(3))['a'],
      optax.tree.bias_correction(moment=x, decay=0.9, count=jnp.asarray(3))['a'], rtol=1e-6)


def test_tree_get_and_set_accept_filtering():
  opt_g = gradtx.inject_hyperparams(gradtx.sgd)(learning_rate=0.5)
  opt_o = optax.inject_hyperparams(optax.sgd)(learning_rate=0.5)
  params = jnp.ones(2)
  only_arrays = lambda path, value: isinstance(value, jax.Array)
  for mod, opt in ((gradtx, opt_g), (optax, opt_o)):
    state = opt.init(params)
    assert float(mod.tree.get(state, 'learning_rate', None, only_arrays)) == 0.5
    assert float(mod.tree.get(state, 'learning_rate', filtering=only_arrays)) == 0.5
    assert len(mod.tree.get_all_with_path(state, 'learning_rate', filtering=only_arrays)) == 1
    assert mod.tree.get(state, 'learning_rate', 'absent', lambda p, v: False) == 'absent'
    new = mod.tree.set(state, only_arrays, learning_rate=jnp.asarray(0.25))
    assert float(mod.tree.get(new, 'learning_rate')) == 0.25
    with pytest.raises(KeyError):
      mod.tree.set(state, lambda p, v: False, learning_rate=jnp.asarray(0.25))


def test_tree_map_params_passes_rest():
  """``map_params(opt, f, state, specs)`` calls ``f(state_leaf, spec_leaf)``."""
  params = {'w': jnp.zeros(3), 'b': jnp.zeros(2)}
  specs = {'w': 'W', 'b': 'B'}
  for mod in (gradtx, optax):
    opt = mod.adam(1e-3)
    state = opt.init(params)
    out = mod.tree.map_params(opt, lambda _, spec: spec, state, specs,
                              transform_non_params=lambda _: None)
    assert out[0].mu == specs and out[0].nu == specs and out[0].count is None, mod


def test_adamw_state_has_optax_structure():
  """Optax's idioms on an AdamW state: one ``count``, empty decay state."""
  params = {'w': jnp.ones(3)}
  for kwargs in ({}, {'weight_decay': 0.0}, {'weight_decay': 0.3}):
    got = gradtx.adamw(1e-3, **kwargs).init(params)
    want = optax.adamw(1e-3, **kwargs).init(params)
    assert len(jax.tree.leaves(got)) == len(jax.tree.leaves(want)), kwargs
    assert int(gradtx.tree.get(got, 'count')) == int(optax.tree.get(want, 'count')) == 0
    assert got[1] == gradtx.AddDecayedWeightsState() and got[1]._fields == ()
  sched = gradtx.add_decayed_weights(lambda count: 0.1 / (1 + count))
  state = sched.init(params)
  ups, state = sched.update(params, state, params)
  ups, state = sched.update(params, state, params)
  np.testing.assert_allclose(ups['w'], 1.0 + 0.05)
  assert int(state.count) == 2


def test_tree_get_and_set_find_named_tuples_by_class_name():
  params = jnp.ones(2)
  for mod in (gradtx, optax):
    state = mod.adam(1e-3).init(params)
    adam_state = mod.tree.get(state, 'ScaleByAdamState')
    assert int(adam_state.count) == 0 and adam_state.mu.shape == (2,)
    assert len(mod.tree.get_all_with_path(state, 'ScaleByAdamState')) == 1
    new = mod.tree.set(state, ScaleByAdamState=adam_state._replace(count=jnp.asarray(7)))
    assert int(mod.tree.get(new, 'count')) == 7
