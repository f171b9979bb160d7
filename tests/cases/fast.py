"""Battery cases: optimizers on flat buffers (gradtx.fast.fused)."""

import optax

import gradtx
import gradtx.fast
from tests.cases import Case

CASES = [
    Case('fused_adamw', lambda lr: gradtx.fast.fused(gradtx.adamw(lr, weight_decay=1e-2)),
         lambda lr: optax.adamw(lr, weight_decay=1e-2)),
    Case('fused_sgd_momentum',
         lambda lr: gradtx.fast.fused(gradtx.sgd(lr, momentum=0.9)),
         lambda lr: optax.sgd(lr, momentum=0.9), lr=1e-2, steps=2000,
         needs_params=False),
    Case('fused_lion', lambda lr: gradtx.fast.fused(gradtx.lion(lr)),
         lambda lr: optax.lion(lr), lr=1e-2),
    Case('fused_lamb_fallback', lambda lr: gradtx.fast.fused(gradtx.lamb(lr)),
         lambda lr: optax.lamb(lr), lr=1e-2),
]
