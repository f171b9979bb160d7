"""Optax behaviours that real code relies on, checked over the whole battery.

For every case of ``tests/cases``:

* its float hyperparameters may be 0-d arrays, traced values inside ``jit``
  (wherever Optax accepts them) and injected with ``inject_hyperparams``,
  and each gives the same numbers as the plain Python floats;
* ``tree.map_params`` finds the parts of its state that mirror the params;
* integer params raise a ``TypeError`` that names the problem.

The hyperparameters are reached without touching the cases: while a case
builds its optimizer, the public functions of ``gradtx`` (and of ``optax``
for the oracle) are replaced by wrappers that rewrite their float
arguments. The float arguments are found by running the case once and
recording them.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from typing import Any, Callable

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx
from tests.cases import all_cases

CASES = all_cases()
IDS = [c.name for c in CASES]
STEPS = 2
LR = 0.05

# Transformations that must stay out of the rewriting: combinators whose
# arguments are transformations, and the injection wrapper itself.
_NOT_CONSTRUCTORS = {'chain', 'named_chain', 'inject_hyperparams',
                     'inject_stateful_hyperparams', 'with_extra_args_support'}


def make_params():
  k = jax.random.split(jax.random.PRNGKey(0), 3)
  return {
      'b': jax.random.normal(k[0], (3,)),
      'layer': {'kernel': jax.random.normal(k[1], (4, 5)),
                'scale': 1.0 + 0.1 * jax.random.normal(k[2], (2, 3, 2))},
  }


def _loss(params):
  return sum(jnp.sum(0.5 * (i + 1) * p**2 + 0.1 * jnp.sin(3 * p))
             for i, p in enumerate(jax.tree.leaves(params)))


def run(opt, steps=STEPS):
  """The params after each of ``steps`` updates of ``opt`` on a fixed loss."""
  params = make_params()
  state = opt.init(params)
  out = []
  for _ in range(steps):
    updates, state = opt.update(jax.grad(_loss)(params), state, params)
    params = gradtx.apply_updates(params, updates)
    out.append(params)
  return out


def _functions(lib) -> dict[str, Callable[..., Any]]:
  names = getattr(lib, '__all__', None) or [
      n for n in dir(lib) if not n.startswith('_')]
  return {n: getattr(lib, n) for n in names
          if inspect.isfunction(getattr(lib, n, None))
          and n not in _NOT_CONSTRUCTORS}


@contextlib.contextmanager
def rewritten_floats(lib, rewrite: Callable[[str, str, float], Any]):
  """Calls ``lib.f(..., x=1.5)`` as ``f(..., x=rewrite('f', 'x', 1.5))``.

  Only Python floats given by the caller are rewritten (not defaults, ints
  or bools); the originals are restored on exit.
  """
  originals = _functions(lib)

  def wrap(name, fn):
    try:
      sig = inspect.signature(fn)
    except (TypeError, ValueError):
      return fn

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
      bound = sig.bind(*args, **kwargs)
      for arg, value in list(bound.arguments.items()):
        if type(value) is float:  # pylint: disable=unidiomatic-typecheck
          bound.arguments[arg] = rewrite(name, arg, value)
      return fn(*bound.args, **bound.kwargs)

    return wrapper

  try:
    for name, fn in originals.items():
      setattr(lib, name, wrap(name, fn))
    yield
  finally:
    for name, fn in originals.items():
      setattr(lib, name, fn)


def recorded_floats(make) -> list[tuple[str, str, float]]:
  """The ``(function, argument, value)`` float arguments ``make`` passes."""
  seen = []

  def record(fn, arg, value):
    seen.append((fn, arg, value))
    return value

  with rewritten_floats(gradtx, record):
    make(LR)
  return seen


def _close(a, b, rtol):
  chex.assert_trees_all_close(a, b, rtol=rtol, atol=rtol)


@pytest.fixture(scope='module')
def reference():
  """The plain run of each case, computed once."""
  cache = {}

  def get(case):
    if case.name not in cache:
      cache[case.name] = run(case.make(LR))
    return cache[case.name]

  return get


@pytest.mark.parametrize('case', CASES, ids=IDS)
def test_float_hyperparameters_as_0d_arrays(case, reference):
  """Concrete 0-d arrays are validated like floats and give the same numbers."""
  with rewritten_floats(gradtx, lambda fn, arg, v: jnp.asarray(v, jnp.float32)):
    as_arrays = run(case.make(LR), steps=1)
  _close(as_arrays, reference(case)[:1], 1e-4)


def _traced_build(lib, make, floats):
  """Traces (without compiling) building ``make(LR)`` from traced floats."""
  def build_and_run(values):
    it = iter(values)
    with rewritten_floats(lib, lambda fn, arg, v: next(it)):
      opt = make(LR)
    return run(opt, steps=1)

  return jax.eval_shape(build_and_run, [jnp.float32(v) for _, _, v in floats])


@pytest.mark.parametrize('case', CASES, ids=IDS)
def test_float_hyperparameters_traced_inside_jit(case):
  """Building and stepping with traced floats is never refused where Optax
  accepts it. (The numbers with traced values are checked by the injection
  test below, whose jitted update reads the hyperparameters as tracers.)"""
  try:
    _traced_build(gradtx, case.make, recorded_floats(case.make))
  except Exception as ours:  # pylint: disable=broad-except
    if case.oracle is None:
      raise
    try:
      floats = []
      with rewritten_floats(optax, lambda fn, arg, v: floats.append(v) or v):
        case.oracle(LR)
      _traced_build(optax, case.oracle, [(None, None, v) for v in floats])
    except Exception:  # pylint: disable=broad-except
      pytest.skip(f'Optax rejects traced hyperparameters here too: {ours}')
    raise


def _injecting(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
  """``fn`` with every float argument (given or default) injected."""
  sig = inspect.signature(fn)
  if any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values()):
    return fn

  @functools.wraps(fn)
  def wrapper(*args, **kwargs):
    built = fn(*args, **kwargs)
    if not isinstance(built, gradtx.GradientTransformation):
      return built
    bound = sig.bind(*args, **kwargs)
    bound.apply_defaults()
    floats = {n for n, v in bound.arguments.items()
              if type(v) is float or (callable(v) and n == 'learning_rate')}  # pylint: disable=unidiomatic-typecheck
    if not floats:
      return built
    static = [n for n in sig.parameters if n not in floats]
    injected.append((name, sorted(floats)))
    return gradtx.inject_hyperparams(fn, static_args=static)(*args, **kwargs)

  return wrapper


injected: list = []


@pytest.mark.parametrize('case', CASES, ids=IDS)
def test_every_float_hyperparameter_is_injectable(case, reference):
  # Optax-style constructors live at the top level and in gradtx.contrib.
  spaces = (gradtx, gradtx.contrib)
  originals = [(ns, _functions(ns)) for ns in spaces]
  injected.clear()
  try:
    for ns, fns in originals:
      for name, fn in fns.items():
        setattr(ns, name, _injecting(name, fn))
    opt = case.make(LR)
  finally:
    for ns, fns in originals:
      for name, fn in fns.items():
        setattr(ns, name, fn)
  if not injected and case.name.startswith(('compat_', 'fused_', 'zero_', 'agreed_')):
    pytest.skip('built by a framework-named constructor (gradtx.compat) or a '
                'wrapper of gradtx.fast/gradtx.distributed, which take no '
                'injectable floats of their own; the optimizers they wrap are '
                'swept under their own cases')
  assert injected, f'{case.name}: nothing was injected'
  # The jitted update reads the injected values from the state: tracers.
  opt = opt._replace(update=jax.jit(opt.update))
  _close(run(opt), reference(case), 1e-4)


# ---------------------------------------------------------------------------
# tree.map_params over every case and the mask/label wrappers.
# ---------------------------------------------------------------------------
def _labels(params):
  return jax.tree_util.tree_map_with_path(
      lambda p, _: jax.tree_util.keystr(p), params)


def _check_map_params(opt, params, expect_some=True):
  state = opt.init(params)
  labels = _labels(params)
  shapes = {jax.tree_util.keystr(p): x.shape
            for p, x in jax.tree_util.tree_flatten_with_path(params)[0]}
  mapped = gradtx.tree.map_params(opt, lambda x, label: (label, x.shape),
                                  state, labels)
  found = [leaf for leaf in jax.tree.leaves(
      mapped, is_leaf=lambda x: isinstance(x, tuple) and len(x) == 2
      and isinstance(x[0], str)) if isinstance(leaf, tuple)]
  for label, shape in found:
    assert shapes[label] == shape, (label, shape)
  if expect_some:
    assert found, 'no part of the state was recognised as params'
  # Non-param leaves are passed to transform_non_params, params are not.
  counted = gradtx.tree.map_params(
      opt, lambda x: 'param', state, transform_non_params=lambda x: 'other')
  assert set(jax.tree.leaves(counted)) <= {'other', 'param'}
  assert jax.tree.leaves(counted).count('param') == len(found)
  return found


def _has_param_shaped_moment(state):
  shapes = {(4, 5), (2, 3, 2)}
  return any(getattr(x, 'shape', None) in shapes for x in jax.tree.leaves(state))


# Cases whose state holds leaves shaped like a param's *projection*, which
# map_params cannot tell from param-shaped leaves.
MAP_PARAMS_EXEMPT = {
    'galore': "GaLore's projector (m, r) shares the param's leading "
              'dimension; map it by path with tree.get_all_with_path instead',
}


@pytest.mark.parametrize('case', CASES, ids=IDS)
def test_map_params_on_every_case(case):
  if case.name in MAP_PARAMS_EXEMPT:
    pytest.skip(MAP_PARAMS_EXEMPT[case.name])
  opt = case.make(LR)
  params = make_params()
  expect = _has_param_shaped_moment(opt.init(params))
  _check_map_params(opt, params, expect_some=expect)


_MASK = {'b': False, 'layer': {'kernel': True, 'scale': False}}
_LABEL = {'b': 'x', 'layer': {'kernel': 'y', 'scale': 'x'}}


@pytest.mark.parametrize('make', [
    lambda lib: lib.masked(lib.adam(0.1), _MASK),
    lambda lib: lib.adamw(0.1, weight_decay=0.1, mask=_MASK),
    lambda lib: lib.multi_transform(
        {'x': lib.adam(0.1), 'y': lib.sgd(0.1, momentum=0.9)}, _LABEL),
    lambda lib: lib.partition(
        {'x': lib.adam(0.1), 'y': lib.lion(0.1)}, lambda p: _LABEL),
], ids=['masked', 'adamw_mask', 'multi_transform', 'partition_fn'])
def test_map_params_on_mask_and_label_wrappers_matches_optax(make):
  params = make_params()
  found = _check_map_params(make(gradtx), params)
  # The same leaves as Optax maps (its placeholder probe works here).
  to_bf16 = lambda x: x.astype(jnp.bfloat16)
  ours = gradtx.tree.map_params(make(gradtx), to_bf16, make(gradtx).init(params))
  theirs = optax.tree_map_params(make(optax), to_bf16, make(optax).init(params))
  dtypes = lambda t: sorted(str(x.dtype) for x in jax.tree.leaves(t))
  assert dtypes(ours) == dtypes(theirs)
  assert dtypes(ours).count('bfloat16') == len(found) > 0


def test_map_params_on_param_groups():
  params = make_params()
  opt = gradtx.param_groups(
      [{'params': ['layer/kernel'], 'weight_decay': 0.1},
       {'params': ['b', 'layer/scale'], 'weight_decay': 0.0}],
      optimizer=gradtx.adamw, learning_rate=0.1)
  found = _check_map_params(opt, params)
  # Adam's mu and nu for each of the three params.
  assert sorted(label for label, _ in found) == sorted(
      2 * ["['b']", "['layer']['kernel']", "['layer']['scale']"])


def test_map_params_builds_shardings_for_a_masked_optimizer():
  """The use that motivates it: a state sharding from a params sharding."""
  mesh = jax.sharding.Mesh(np.array(jax.devices()[:1]), ('d',))
  spec = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
  params = make_params()
  opt = gradtx.masked(gradtx.adam(0.1), _MASK)
  shardings = gradtx.tree.map_params(
      opt, lambda _, s: s, opt.init(params), jax.tree.map(lambda _: spec, params),
      transform_non_params=lambda _: spec)
  state = jax.jit(opt.init, out_shardings=shardings)(params)
  assert jax.tree.structure(state) == jax.tree.structure(opt.init(params))


# ---------------------------------------------------------------------------
# Integer params: a clear error, never integer zeros.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('case', CASES, ids=IDS)
def test_integer_params_raise_a_type_error(case):
  params = jax.tree.map(lambda p: jnp.round(10 * p).astype(jnp.int32),
                        make_params())
  opt = case.make(LR)
  with pytest.raises(TypeError, match='int32'):
    state = opt.init(params)
    opt.update(params, state, params)
