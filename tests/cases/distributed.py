"""Battery cases for gradtx.distributed, run on a mapped axis of one device.

``zero_sharded`` and ``agreed`` use collectives over a named axis, so each
case runs its ``init`` and ``update`` under ``jax.vmap`` with ``axis_size=1``
and ``axis_name='data'`` (a one-device data-parallel run). With one shard the
partitioned state is the whole state, flattened, and every collective is the
identity: the trajectory must be Adam's (the oracle: Optax's adam). The
multi-device behaviour is tested in ``tests/test_distributed*.py``.
"""

import jax
import optax

import gradtx
from gradtx import distributed as gd
from tests.cases import Case


def _on_one_device(tx: gradtx.GradientTransformation) -> gradtx.GradientTransformation:
  """Runs ``tx`` under a vmap of size 1 over the axis ``'data'``."""
  mapped = lambda f: jax.vmap(f, in_axes=None, axis_size=1, axis_name='data')
  first = lambda tree: jax.tree.map(lambda x: x[0], tree)

  def init(params):
    return first(mapped(tx.init)(params))

  def update(updates, state, params=None):
    return first(mapped(lambda u, s, p: tx.update(u, s, p))(updates, state, params))

  return gradtx.GradientTransformation(init, update)


CASES = [
    Case('zero_sharded_adam',
         lambda lr: _on_one_device(gd.zero_sharded(gradtx.adam(lr), 'data', 1)),
         lambda lr: optax.adam(lr)),
    Case('agreed_adam', lambda lr: _on_one_device(gd.agreed(gradtx.adam(lr), 'data')),
         lambda lr: optax.adam(lr)),
]
