"""Every public name is documented: summary, Args, a runnable Example, References.

The public names are discovered from ``gradtx``, ``gradtx.schedules``,
``gradtx.tree`` and ``gradtx.mixed_precision``, so a new export is checked
without touching this file. What is checked depends on what a name is:

* every public function and class: a real docstring (not the one
  ``NamedTuple`` or ``dataclass`` make up) that opens with a one-line summary;
* every public function of ``gradtx``, ``gradtx.schedules`` and
  ``gradtx.mixed_precision`` (every transformation, optimizer, schedule and
  wrapper among them), plus the classes listed in ``_ALSO_NEEDS_EXAMPLE``: an
  ``Args:`` section naming every argument, a ``Returns:`` section, and an
  ``Example:`` section with a doctest (the doctests themselves run with
  ``python -m pytest gradtx``, which uses ``--doctest-modules``). The helpers
  of ``gradtx.tree`` only need the summary;
* everything that builds a gradient transformation or a schedule (found from
  its return annotation) also states its rule as a formula;
* optimizers and transformations (``gradtx.optimizers``, ``gradtx.transforms``)
  and the paper-based names in ``_PAPER_BASED``: a ``References:`` section,
  unless exempted in ``_REFERENCES_EXEMPT`` with a reason;
* schedules and presets that reproduce another framework: the name of the
  framework function or class they reproduce (``_FRAMEWORK_FUNCTIONS``).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import gradtx
from gradtx import mixed_precision
from gradtx import schedules
from gradtx import tree



def _faces():
  """Every public module under gradtx that declares ``__all__``."""
  found = []
  for info in pkgutil.walk_packages(gradtx.__path__, 'gradtx.'):
    if any(part.startswith('_') for part in info.name.split('.')):
      continue
    try:
      module = importlib.import_module(info.name)
    except ImportError:  # an optional extra is not installed
      continue
    if hasattr(module, '__all__'):
      found.append(module)
  return tuple(found)


# The top level and the faces it gathers first (a name re-exported in several
# places is checked under the first), then every other public face
# (gradtx.contrib, gradtx.losses, ...).
_NAMESPACES = (gradtx, schedules, tree, mixed_precision) + tuple(
    m for m in _faces() if m not in (gradtx, schedules, tree, mixed_precision))


def _public_objects():
  """``{qualified name: object}`` for every public function and class.

  Type aliases (``Schedule``, ``ScalarOrSchedule``, ``LossScale``) are not
  functions or classes defined in gradtx, and are skipped.
  """
  found = {}
  for ns in _NAMESPACES:
    for name in sorted(getattr(ns, "__all__", vars(ns))):
      if name.startswith('_'):
        continue
      obj = getattr(ns, name)
      if not (inspect.isfunction(obj) or inspect.isclass(obj)):
        continue
      if not getattr(obj, '__module__', '').startswith('gradtx'):
        continue  # e.g. ``LossScale = Any``
      found.setdefault(id(obj), (f'{ns.__name__}.{name}', obj))
  return dict(sorted(found.values()))


_PUBLIC = _public_objects()


def _short(qualname: str) -> str:
  return qualname.rsplit('.', 1)[1]


def _is_namedtuple(obj) -> bool:
  return inspect.isclass(obj) and issubclass(obj, tuple) and hasattr(
      obj, '_fields')


def _return_annotation(obj) -> str:
  try:
    ann = inspect.signature(obj).return_annotation
  except (TypeError, ValueError):
    return ''
  if ann is inspect.Signature.empty:
    return ''
  return ann if isinstance(ann, str) else getattr(ann, '__name__', str(ann))


def _builds_transformation_or_schedule(obj) -> bool:
  if not inspect.isfunction(obj):
    return False
  ann = _return_annotation(obj)
  return 'GradientTransformation' in ann or 'Schedule' in ann


# Classes used like transformations, schedules or loss scales, which get
# examples as the functions do.
_ALSO_NEEDS_EXAMPLE = frozenset({
    'gradtx.MultiSteps',
    'gradtx.ParamGroups',
    'gradtx.WrappedSchedule',
    'gradtx.DynamicLossScale',
    'gradtx.StaticLossScale',
    'gradtx.NoOpLossScale',
    'gradtx.Policy',
})

# Public functions: everything users call, but the gradtx.tree helpers.
_FUNCTIONS = sorted(q for q, o in _PUBLIC.items() if inspect.isfunction(o)
                    and not q.startswith('gradtx.tree.'))

_NEEDS_EXAMPLE = sorted(set(_FUNCTIONS) | _ALSO_NEEDS_EXAMPLE)

# Names outside gradtx.optimizers / gradtx.transforms whose rule comes from a
# paper, so their docstrings must cite it.
_PAPER_BASED = frozenset({
    'gradtx.lookahead',  # Zhang et al. 2019.
    'gradtx.with_loss_scale',  # Micikevicius et al. 2018.
    'gradtx.with_master_weights',  # Micikevicius et al. 2018.
    'gradtx.DynamicLossScale',  # Micikevicius et al. 2018.
    'gradtx.cosine_decay_schedule',  # Loshchilov & Hutter (SGDR).
    'gradtx.warmup_cosine_decay_schedule',  # Loshchilov & Hutter; Goyal et al.
    'gradtx.sgdr_schedule',  # Loshchilov & Hutter (SGDR).
    'gradtx.cosine_onecycle_schedule',  # Smith & Topin.
    'gradtx.linear_onecycle_schedule',  # Smith & Topin.
    'gradtx.cosine_annealing_warm_restarts',  # Loshchilov & Hutter (SGDR).
    'gradtx.cosine_decay_restarts',  # Loshchilov & Hutter (SGDR).
    'gradtx.cyclic_lr',  # Smith 2017.
    'gradtx.one_cycle_lr',  # Smith & Topin.
    'gradtx.wsd_schedule',  # Hu et al. (MiniCPM).
    'gradtx.inverse_sqrt_schedule',  # Vaswani et al.
})

# Transformations and optimizers that need no ``References:`` section.
_REFERENCES_EXEMPT = {
    'gradtx.scale': 'multiplication by a constant; no paper',
    'gradtx.scale_by_learning_rate': 'multiplication by -lr; no paper',
    'gradtx.scale_by_schedule': 'multiplication by a schedule; no paper',
    'gradtx.clip': 'element-wise clipping to [-max, max]; no paper',
    'gradtx.clip_by_block_rms': 'clipping by each leaf RMS; no paper',
    'gradtx.ema': 'an exponential moving average; elementary, no paper',
    'gradtx.keep_params_nonnegative': 'a projection onto params >= 0; no paper',
    'gradtx.zero_nans': 'a numerical guard (NaN -> 0); no paper',
}

# Schedules and presets that reproduce another framework name the function or
# class they reproduce, instead of a paper (some also cite a paper, above).
_FRAMEWORK_FUNCTIONS = {
    # PyTorch (torch.optim.lr_scheduler, torch.amp).
    'gradtx.step_lr': 'StepLR',
    'gradtx.multi_step_lr': 'MultiStepLR',
    'gradtx.exponential_lr': 'ExponentialLR',
    'gradtx.linear_lr': 'LinearLR',
    'gradtx.polynomial_lr': 'PolynomialLR',
    'gradtx.cosine_annealing_lr': 'CosineAnnealingLR',
    'gradtx.cosine_annealing_warm_restarts': 'CosineAnnealingWarmRestarts',
    'gradtx.cyclic_lr': 'CyclicLR',
    'gradtx.one_cycle_lr': 'OneCycleLR',
    'gradtx.torch_reduce_on_plateau': 'ReduceLROnPlateau',
    'gradtx.torch_grad_scaler': 'GradScaler',
    # Keras (keras.optimizers.schedules, keras.callbacks, keras.mixed_precision).
    'gradtx.piecewise_constant_decay': 'PiecewiseConstantDecay',
    'gradtx.inverse_time_decay': 'InverseTimeDecay',
    'gradtx.polynomial_decay': 'PolynomialDecay',
    'gradtx.cosine_decay': 'CosineDecay',
    'gradtx.cosine_decay_restarts': 'CosineDecayRestarts',
    'gradtx.keras_reduce_on_plateau': 'ReduceLROnPlateau',
    'gradtx.keras_loss_scale': 'LossScaleOptimizer',
    # MindSpore (mindspore.nn).
    'gradtx.schedule_from_values': 'dynamic_lr',
    'gradtx.natural_exp_decay': 'NaturalExpDecayLR',
    'gradtx.piecewise_constant_lr': 'piecewise_constant_lr',
    'gradtx.exponential_decay_lr': 'exponential_decay_lr',
    'gradtx.natural_exp_decay_lr': 'natural_exp_decay_lr',
    'gradtx.inverse_decay_lr': 'inverse_decay_lr',
    'gradtx.cosine_decay_lr': 'cosine_decay_lr',
    'gradtx.polynomial_decay_lr': 'polynomial_decay_lr',
    'gradtx.warmup_lr': 'warmup_lr',
    'gradtx.mindspore_loss_scale': 'DynamicLossScaleManager',
    # MXNet (mxnet.lr_scheduler).
    'gradtx.factor_scheduler': 'FactorScheduler',
    'gradtx.multi_factor_scheduler': 'MultiFactorScheduler',
    'gradtx.poly_scheduler': 'PolyScheduler',
    'gradtx.cosine_scheduler': 'CosineScheduler',
    # Hugging Face transformers.
    'gradtx.constant_schedule_with_warmup': 'get_constant_schedule_with_warmup',
    'gradtx.linear_schedule_with_warmup': 'get_linear_schedule_with_warmup',
    'gradtx.cosine_schedule_with_warmup': 'get_cosine_schedule_with_warmup',
    'gradtx.cosine_with_hard_restarts_schedule_with_warmup':
        'get_cosine_with_hard_restarts_schedule_with_warmup',
    'gradtx.polynomial_decay_schedule_with_warmup':
        'get_polynomial_decay_schedule_with_warmup',
    'gradtx.inverse_sqrt_schedule': 'get_inverse_sqrt_schedule',
    'gradtx.cosine_with_min_lr_schedule_with_warmup':
        'get_cosine_with_min_lr_schedule_with_warmup',
    'gradtx.wsd_schedule': 'get_wsd_schedule',
}

# Modules whose every public function reproduces another framework.
_FRAMEWORK_MODULES = {
    'gradtx.schedules.torch': 'PyTorch',
    'gradtx.schedules.keras': 'Keras',
    'gradtx.schedules.mindspore': 'MindSpore',
    'gradtx.schedules.mxnet': 'MXNet',
    'gradtx.schedules.huggingface': 'HF',
}
_FRAMEWORK_WORDS = ('PyTorch', 'Keras', 'MindSpore', 'MXNet', 'HF',
                    'Hugging Face', 'transformers')


def _needs_references(qualname, obj) -> bool:
  if qualname in _PAPER_BASED:
    return True
  if qualname in _REFERENCES_EXEMPT:
    return False
  module = getattr(obj, '__module__', '')
  return module.startswith(('gradtx.optimizers.', 'gradtx.transforms.')) and (
      _builds_transformation_or_schedule(obj))


_NEEDS_REFERENCES = sorted(q for q, o in _PUBLIC.items()
                           if _needs_references(q, o))


def _doc(obj) -> str:
  return inspect.getdoc(obj) or ''


def _section(doc: str, title: str) -> str | None:
  """The text of a Google-style section (``Title:`` alone on a line)."""
  lines = doc.splitlines()
  for i, line in enumerate(lines):
    if re.fullmatch(rf'{title}:\s*', line):
      body = []
      for nxt in lines[i + 1:]:
        if nxt and not nxt[0].isspace():
          break  # the next unindented line ends the section
        body.append(nxt)
      return '\n'.join(body)
  return None


def _arguments(obj) -> list[str]:
  """The names a caller passes, as ``Args:`` would list them."""
  target = obj.__init__ if inspect.isclass(obj) else obj
  try:
    params = inspect.signature(target).parameters.values()
  except (TypeError, ValueError):
    return []
  names = []
  for p in params:
    if p.name in ('self', 'cls'):
      continue
    prefix = {p.VAR_POSITIONAL: '*', p.VAR_KEYWORD: '**'}.get(p.kind, '')
    names.append(prefix + p.name)
  return names


# ---------------------------------------------------------------------------
# The discovery itself.
# ---------------------------------------------------------------------------
def test_discovery_finds_every_kind_of_public_name():
  assert len(_PUBLIC) > 200
  for q in ('gradtx.adam', 'gradtx.scale_by_adam', 'gradtx.ScaleByAdamState',
            'gradtx.cosine_decay_schedule', 'gradtx.masked',
            'gradtx.tree.norm', 'gradtx.cast_floating',
            'gradtx.schedules.plot'):
    assert q in _PUBLIC, q
  assert 'gradtx.adam' in _NEEDS_EXAMPLE
  assert 'gradtx.step_lr' in _NEEDS_EXAMPLE
  assert 'gradtx.tree.norm' not in _NEEDS_EXAMPLE
  assert 'gradtx.adam' in _NEEDS_REFERENCES
  assert 'gradtx.scale' not in _NEEDS_REFERENCES


def test_exemption_lists_name_real_public_objects():
  listed = (set(_ALSO_NEEDS_EXAMPLE) | set(_PAPER_BASED)
            | set(_REFERENCES_EXEMPT) | set(_FRAMEWORK_FUNCTIONS))
  missing = sorted(listed - set(_PUBLIC))
  assert not missing, f'listed but not public: {missing}'
  both = sorted(set(_PAPER_BASED) & set(_REFERENCES_EXEMPT))
  assert not both, f'both paper-based and exempt: {both}'
  for q, reason in _REFERENCES_EXEMPT.items():
    assert reason.strip(), f'{q} is exempt without a reason'


def test_every_framework_schedule_is_listed():
  """A new function in a framework module must say what it reproduces."""
  unlisted = [
      q for q, o in _PUBLIC.items()
      if getattr(o, '__module__', '') in _FRAMEWORK_MODULES
      and inspect.isfunction(o) and q not in _FRAMEWORK_FUNCTIONS
  ]
  assert not unlisted, f'add to _FRAMEWORK_FUNCTIONS: {unlisted}'


# ---------------------------------------------------------------------------
# The docstrings.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('qualname', sorted(_PUBLIC))
def test_has_one_line_summary(qualname):
  obj = _PUBLIC[qualname]
  doc = _doc(obj)
  assert doc.strip(), f'{qualname} has no docstring'
  lines = doc.splitlines()
  summary = lines[0].strip()
  # NamedTuple and dataclass make up ``Name(field, ...)`` when none is given.
  generated = (_short(qualname) + '(', getattr(obj, '__name__', '?') + '(')
  assert not summary.startswith(generated), (
      f'{qualname}: the docstring is the generated one: {summary!r}')
  assert summary.endswith('.'), (
      f'{qualname}: the summary line should be a sentence: {summary!r}')
  assert len(summary) <= 100, f'{qualname}: the summary line is too long'
  assert '>>>' not in summary and not summary.startswith(('Args', 'Example')), (
      f'{qualname}: the docstring should open with a summary')
  assert len(lines) == 1 or not lines[1].strip(), (
      f'{qualname}: the summary should be one line, followed by a blank line')


@pytest.mark.parametrize('qualname', _NEEDS_EXAMPLE)
def test_has_runnable_example(qualname):
  doc = _doc(_PUBLIC[qualname])
  example = _section(doc, 'Examples?')
  assert example is not None, f'{qualname} has no Example: section'
  assert '>>>' in example, f"{qualname}'s Example: has no doctest (>>>)"


@pytest.mark.parametrize('qualname', _NEEDS_EXAMPLE)
def test_args_section_names_every_argument(qualname):
  obj = _PUBLIC[qualname]
  arguments = _arguments(obj)
  if _is_namedtuple(obj) or not arguments:
    return
  doc = _doc(obj)
  args = _section(doc, 'Args')
  if args is None and inspect.isclass(obj):
    args = _section(doc, 'Attributes')
  assert args is not None, f'{qualname}{arguments} has no Args: section'
  # An entry is ``name: ...``, ``name (type): ...`` or, for arguments
  # documented together, ``b1, b2, eps: see scale_by_adam``.
  documented = set()
  for head in re.findall(r'^\s+([*\w]+(?:,\s*[*\w]+)*)\s*(?:\(.*?\))?:',
                         args, re.M):
    documented.update(n.strip() for n in head.split(','))
  undocumented = [a for a in arguments if a not in documented]
  assert not undocumented, f'{qualname}: Args: does not list {undocumented}'


@pytest.mark.parametrize('qualname', _FUNCTIONS)
def test_has_returns_section(qualname):
  obj = _PUBLIC[qualname]
  if _return_annotation(obj) in ('None',):
    return
  doc = _doc(obj)
  assert _section(doc, 'Returns?') is not None or re.match(
      r'Returns? ', doc), f'{qualname} has no Returns: section'


@pytest.mark.parametrize('qualname', _NEEDS_REFERENCES)
def test_cites_its_paper(qualname):
  doc = _doc(_PUBLIC[qualname])
  refs = _section(doc, 'References?')
  assert refs is not None and refs.strip(), (
      f'{qualname} has no References: section; add the paper, or exempt it '
      'in _REFERENCES_EXEMPT with a reason')


# What counts as a formula: an assignment or arrow in text, or LaTeX.
_FORMULA = re.compile(r'←|→|=|:math:|math::|code-block')

# The update rule (or the schedule's formula) comes before Args and Example.
_NEEDS_FORMULA = sorted(
    set(_NEEDS_REFERENCES) | set(_FRAMEWORK_FUNCTIONS) | {
        q for q, o in _PUBLIC.items()
        if 'Schedule' in _return_annotation(o) and inspect.isfunction(o)})


@pytest.mark.parametrize('qualname', _NEEDS_FORMULA)
def test_states_its_rule_as_a_formula(qualname):
  doc = _doc(_PUBLIC[qualname])
  body = re.split(r'^(?:Args|Returns|Examples?|References?):\s*$', doc,
                  flags=re.M)[0]
  assert _FORMULA.search(body), (
      f'{qualname} should give its update rule or formula before Args:')


@pytest.mark.parametrize('qualname', sorted(_FRAMEWORK_FUNCTIONS))
def test_framework_reproduction_names_what_it_reproduces(qualname):
  doc = _doc(_PUBLIC[qualname])
  target = _FRAMEWORK_FUNCTIONS[qualname]
  assert re.search(rf'\b{re.escape(target)}\b', doc), (
      f'{qualname} should name the framework function it reproduces '
      f'({target})')
  assert any(w in doc for w in _FRAMEWORK_WORDS), (
      f'{qualname} should name the framework it reproduces')
