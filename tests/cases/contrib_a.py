"""Battery cases for gradtx.contrib, part A (Muon, schedule-free, Prodigy, ...).

The oracle is the same name in ``optax.contrib`` (Optax 0.2.8).
"""

import jax
import optax

import gradtx
from gradtx import contrib
from tests.cases import Case


def _scaled(lr, factor):
  """``lr`` (a number or a schedule) times ``factor``."""
  if callable(lr):
    return lambda step: factor * lr(step)
  return factor * lr


def _alias(name, make, **kw):
  """The same optimizer name and arguments in gradtx.contrib and optax.contrib."""
  args = kw.pop('args', {})
  factor = kw.pop('lr_factor', 1.0)
  return Case(name, lambda lr: make(contrib)(_scaled(lr, factor), **args),
              lambda lr: make(optax.contrib)(_scaled(lr, factor), **args), **kw)


def _then_lr(tx, lr, lib):
  return lib.chain(tx, lib.scale_by_learning_rate(lr))


def _bare(name, make, **kw):
  """A bare transformation chained with ``scale_by_learning_rate``."""
  args = kw.pop('args', {})
  return Case(name, lambda lr: _then_lr(make(contrib)(**args), lr, gradtx),
              lambda lr: _then_lr(make(optax.contrib)(**args), lr, optax), **kw)


def muon_options(mod):
  """Muon's non-default options, with ``mod`` gradtx.contrib or optax.contrib.

  ``scale`` (2, 3, 2) is a stack of two (3, 2) matrices, the kernel a plain
  matrix and the bias goes to AdamW.
  """
  d = mod.MuonDimensionNumbers
  return dict(
      muon_weight_dimension_numbers={
          'b': None, 'layer': {'kernel': d(0, 1), 'scale': d(1, 2)}},
      ns_coeffs='dion', preconditioning='aol', nesterov=False, adaptive=True,
      weight_decay=1e-2, adam_weight_decay=1e-3, adam_learning_rate=1e-2,
      consistent_rms=0.2)


def _sam(lib, lr, sync_period=2, reset_state=True):
  """SAM with Adam outside and normalised SGD (ρ = 0.05) as the adversary."""
  if lib is optax:
    normalize, mod = optax.contrib.normalize(), optax.contrib
  else:
    normalize, mod = gradtx.normalize_by_update_norm(eps=0.0), contrib
  adv = lib.chain(normalize, lib.sgd(0.05))
  return mod.sam(lib.adam(lr), adv, sync_period=sync_period,
                 reset_state=reset_state)


def _masked_muon(lib, lr):
  """scale_by_muon on the kernel only (the other leaves are not matrices)."""
  mod = contrib if lib is gradtx else optax.contrib
  dims = lambda u: jax.tree.map(lambda _: mod.MuonDimensionNumbers(), u)
  tx = lib.masked(mod.scale_by_muon(beta=0.9, weight_dimension_numbers=dims),
                  {'b': False, 'layer': {'kernel': True, 'scale': False}})
  return _then_lr(tx, lr, lib)


# D-Adaptation methods start from a tiny step estimate d₀; a larger d₀ and a
# learning-rate multiplier around 1 make them move in 100 steps.
_D0 = dict(estim_lr0=1e-3)

CASES = [
    # --- Muon --------------------------------------------------------------------
    _alias('muon', lambda m: m.muon, lr=3e-2, rosenbrock_lr=3e-3),
    # Dimension numbers (a stack of two matrices), the other options at once.
    Case('muon_dims_options',
         lambda lr: contrib.muon(lr, **muon_options(contrib)),
         lambda lr: optax.contrib.muon(lr, **muon_options(optax.contrib)),
         converges=False),
    Case('scale_by_muon', lambda lr: _masked_muon(gradtx, lr),
         lambda lr: _masked_muon(optax, lr), converges=False),
    # --- schedule-free -------------------------------------------------------------
    _alias('schedule_free_adamw', lambda m: m.schedule_free_adamw,
           args=dict(weight_decay=1e-3), lr=0.1, rosenbrock_lr=1e-2),
    _alias('schedule_free_sgd', lambda m: m.schedule_free_sgd,
           args=dict(weight_decay=1e-3), lr=0.1, rosenbrock_lr=1e-3),
    Case('schedule_free',
         lambda lr: contrib.schedule_free(gradtx.adam(lr, b1=0.0), lr, b1=0.95,
                                          weight_lr_power=1.0),
         lambda lr: optax.contrib.schedule_free(optax.adam(lr, b1=0.0), lr,
                                                b1=0.95, weight_lr_power=1.0),
         lr=0.1, rosenbrock_lr=1e-2),
    # --- learning-rate free ----------------------------------------------------------
    _alias('prodigy', lambda m: m.prodigy, lr_factor=20.0, args=_D0,
           lr=0.05, rosenbrock_lr=0.05),
    _alias('dadapt_adamw', lambda m: m.dadapt_adamw, lr_factor=20.0,
           args=dict(weight_decay=1e-2, **_D0), lr=0.05, rosenbrock_lr=0.05),
    # --- SAM (transparent mode; opaque mode in tests/test_contrib_a.py) ----------------
    Case('sam', lambda lr: _sam(gradtx, lr), lambda lr: _sam(optax, lr),
         converges=False),
    # --- AdEMAMix ------------------------------------------------------------------------
    _alias('ademamix', lambda m: m.ademamix, args=dict(weight_decay=1e-2),
           lr=0.1, rosenbrock_lr=1e-3),
    _bare('scale_by_ademamix', lambda m: m.scale_by_ademamix,
          args=dict(b3=lambda t: 0.99 - 0.5 * 0.99 ** t,
                    alpha=lambda t: 0.05 * t, eps_root=1e-8), converges=False),
    # eps = 0.1 keeps the undamped momentum from sign-like chaos near the
    # optimum, where jit and eager (and Optax's own) runs part after ~50 steps.
    _alias('simplified_ademamix', lambda m: m.simplified_ademamix,
           lr_factor=0.05, args=dict(alpha=2.0, b1=0.9), lr=0.1,
           rosenbrock_lr=1e-3),
    _bare('scale_by_simplified_ademamix',
          lambda m: m.scale_by_simplified_ademamix,
          args=dict(b1=0.5, alpha=lambda t: 0.5 + 0.01 * t, eps=0.1),
          converges=False),
    # --- ADOPT ----------------------------------------------------------------------------
    _alias('adopt', lambda m: m.adopt, lr=0.1, rosenbrock_lr=1e-3),
    _bare('scale_by_adopt', lambda m: m.scale_by_adopt,
          args=dict(use_clipping=False, b2=0.99, nesterov=True),
          converges=False),
    # --- MADGRAD ----------------------------------------------------------------------------
    _alias('madgrad', lambda m: m.madgrad, args=dict(weight_decay=1e-3),
           lr=0.1, rosenbrock_lr=1e-3),
    Case('scale_by_madgrad', lambda lr: contrib.scale_by_madgrad(lr, 0.5),
         lambda lr: optax.contrib.scale_by_madgrad(lr, 0.5), converges=False),
]
