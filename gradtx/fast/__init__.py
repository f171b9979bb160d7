"""The fast path for many-leaf models: optimizers on flat buffers.

:func:`fused` runs any elementwise optimizer on one flat buffer per dtype
group (and falls back to the tree path for the others); :func:`flat_layout`
lets a model keep its params flat and read them as views inside the loss.
See ``docs/performance-fast-path.md``.
"""

from gradtx.base import ELEMENTWISE_NAMES as ELEMENTWISE_NAMES
from gradtx.base import is_elementwise as is_elementwise
from gradtx.fast.fused import FusedState as FusedState
from gradtx.fast.fused import fused as fused
from gradtx.fast.layout import FlatLayout as FlatLayout
from gradtx.fast.layout import flat_layout as flat_layout

__all__ = [
    'ELEMENTWISE_NAMES',
    'FlatLayout',
    'FusedState',
    'flat_layout',
    'fused',
    'is_elementwise',
]
