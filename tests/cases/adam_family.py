"""Battery cases for the Adam family and the layer-wise (trust-ratio) optimizers."""

import optax

import gradtx
from tests.cases import Case


def _then_lr(tx, lr, lib=gradtx):
  return lib.chain(tx, lib.scale_by_learning_rate(lr))


def _bare(name, ours, theirs, **kw):
  """A bare transformation chained with ``scale_by_learning_rate``."""
  kw.setdefault('complex_ok', True)
  return Case(name, lambda lr: _then_lr(ours(), lr),
              lambda lr: _then_lr(theirs(), lr, optax), **kw)


def _alias(name, make, **kw):
  """An optimizer with the same name and arguments in gradtx and Optax."""
  args = kw.pop('args', {})
  kw.setdefault('complex_ok', True)  # all use |g|², so complex params work
  return Case(name, lambda lr: make(gradtx)(lr, **args),
              lambda lr: make(optax)(lr, **args), **kw)


# gradtx evaluates RAdam's ρₜ without float32 cancellation; Optax's naive
# float32 ρₜ is off by up to 0.04 in the first steps (r by ~1%), see
# tests/test_adam_family.py for the float64 and PyTorch references.
_RADAM_RTOL = 2e-3

CASES = [
    # --- optimizers ------------------------------------------------------------
    _alias('nadam', lambda m: m.nadam),
    _alias('nadamw', lambda m: m.nadamw, args=dict(weight_decay=1e-2)),
    _alias('radam', lambda m: m.radam, rtol=_RADAM_RTOL),
    _alias('radam_nesterov', lambda m: m.radam, args=dict(nesterov=True),
           rtol=_RADAM_RTOL),
    _alias('adamax', lambda m: m.adamax),
    _alias('adamaxw', lambda m: m.adamaxw, args=dict(weight_decay=1e-2)),
    _alias('amsgrad', lambda m: m.amsgrad),
    _alias('amsgrad_paper', lambda m: m.amsgrad,
           args=dict(bias_correction_mu=False, bias_correction_nu=False)),
    _alias('adabelief', lambda m: m.adabelief),
    _alias('adabelief_nesterov', lambda m: m.adabelief, args=dict(nesterov=True)),
    _alias('yogi', lambda m: m.yogi),
    _alias('novograd', lambda m: m.novograd, lr=1e-2, rosenbrock_lr=1e-3),
    _alias('novograd_wd', lambda m: m.novograd, args=dict(weight_decay=1e-3),
           lr=1e-2),
    _alias('lamb', lambda m: m.lamb, lr=1e-2, steps=2000),
    _alias('lamb_wd', lambda m: m.lamb, args=dict(weight_decay=1e-2), lr=1e-2,
           steps=2000),
    _alias('lars', lambda m: m.lars, args=dict(trust_coefficient=0.02),
           lr=0.5, rosenbrock_lr=0.05),
    _alias('lars_nesterov_wd', lambda m: m.lars,
           args=dict(weight_decay=1e-3, nesterov=True, trust_coefficient=0.02),
           lr=0.5, rosenbrock_lr=0.05),
    _alias('fromage', lambda m: m.fromage, converges=False),
    # --- bare transformations ------------------------------------------------------
    _bare('scale_by_adamax', lambda: gradtx.scale_by_adamax(b1=0.8),
          lambda: optax.scale_by_adamax(b1=0.8)),
    _bare('scale_by_amsgrad', lambda: gradtx.scale_by_amsgrad(eps_root=1e-8),
          lambda: optax.scale_by_amsgrad(eps_root=1e-8)),
    _bare('scale_by_belief', lambda: gradtx.scale_by_belief(b2=0.99),
          lambda: optax.scale_by_belief(b2=0.99)),
    _bare('scale_by_radam', lambda: gradtx.scale_by_radam(b2=0.99, threshold=6.0),
          lambda: optax.scale_by_radam(b2=0.99, threshold=6.0),
          rtol=_RADAM_RTOL),
    _bare('scale_by_yogi', lambda: gradtx.scale_by_yogi(
        eps_root=1e-8, initial_accumulator_value=0.1),
          lambda: optax.scale_by_yogi(eps_root=1e-8, initial_accumulator_value=0.1)),
    _bare('scale_by_novograd', lambda: gradtx.scale_by_novograd(weight_decay=1e-3),
          lambda: optax.scale_by_novograd(weight_decay=1e-3), lr=1e-2),
    _bare('scale_by_trust_ratio', lambda: gradtx.scale_by_trust_ratio(
        min_norm=1e-3, trust_coefficient=0.5, eps=1e-6),
          lambda: optax.scale_by_trust_ratio(
              min_norm=1e-3, trust_coefficient=0.5, eps=1e-6), converges=False),
]
