"""Battery cases for clipping and constraint transformations.

Each clip is followed by SGD (``scale_by_learning_rate``) so that the battery
can run it as an optimizer; the clip bounds are chosen so that clipping is
active on the battery's loss.
"""

import optax

import gradtx
from tests.cases import Case


def _sgd_after(tx, lr, lib=gradtx):
  return lib.chain(tx, lib.scale_by_learning_rate(lr))


def _pair(make_tx):
  """``(make, oracle)`` for ``chain(tx, sgd)``, with ``make_tx(lib)``."""
  return (lambda lr: _sgd_after(make_tx(gradtx), lr),
          lambda lr: _sgd_after(make_tx(optax), lr, optax))


CASES = [
    Case('clip', *_pair(lambda lib: lib.clip(0.5)), rosenbrock_lr=1e-2),
    Case('clip_by_global_norm', *_pair(lambda lib: lib.clip_by_global_norm(1.0)),
         complex_ok=True, rosenbrock_lr=1e-2),
    Case('clip_by_block_rms', *_pair(lambda lib: lib.clip_by_block_rms(0.5)),
         complex_ok=True, rosenbrock_lr=1e-2),
    # From zero params the AGC bound is clipping * eps, so the steps grow
    # geometrically at first; clipping=1 lets the quadratic converge.
    Case('adaptive_grad_clip',
         *_pair(lambda lib: lib.adaptive_grad_clip(1.0, eps=1e-3))),
    Case('adaptive_grad_clip_axis',
         *_pair(lambda lib: lib.adaptive_grad_clip(0.05, eps=1e-2, axis=-1)),
         converges=False),
    Case('centralize', *_pair(lambda lib: lib.centralize())),
    Case('zero_nans', *_pair(lambda lib: lib.zero_nans()), complex_ok=True),
    # The constrained minimum of the test problems is not their minimum.
    Case('keep_params_nonnegative',
         lambda lr: gradtx.chain(gradtx.scale_by_learning_rate(lr),
                                 gradtx.keep_params_nonnegative()),
         lambda lr: optax.chain(optax.scale_by_learning_rate(lr),
                                optax.keep_params_nonnegative()),
         converges=False),
    Case('adam_after_clip_by_global_norm',
         lambda lr: gradtx.chain(gradtx.clip_by_global_norm(0.5), gradtx.adam(lr)),
         lambda lr: optax.chain(optax.clip_by_global_norm(0.5), optax.adam(lr))),
]
