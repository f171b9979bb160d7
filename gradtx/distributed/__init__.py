"""Scale-out: sharded optimizer state, ZeRO partitioning, cross-device agreement.

gradtx runs on JAX's own distributed runtime (``jit`` with ``NamedSharding``,
``shard_map``, ``pmap``, ``jax.distributed``); nothing here moves data by
itself. The helpers place optimizer states next to their params, partition
them over a data-parallel axis, and make replicas agree on their decisions.
See ``docs/distributed.md``.
"""

from gradtx.distributed.agreement import agreed as agreed
from gradtx.distributed.agreement import agreed_early_stopping as agreed_early_stopping
from gradtx.distributed.state_sharding import abstract_state as abstract_state
from gradtx.distributed.state_sharding import sharded_init as sharded_init
from gradtx.distributed.state_sharding import state_partition_specs as state_partition_specs
from gradtx.distributed.state_sharding import state_shardings as state_shardings
from gradtx.distributed.zero import ZeroState as ZeroState
from gradtx.distributed.zero import partitioned_layout as partitioned_layout
from gradtx.distributed.zero import shard_size as shard_size
from gradtx.distributed.zero import zero_sharded as zero_sharded

__all__ = [
    'ZeroState',
    'abstract_state',
    'agreed',
    'agreed_early_stopping',
    'partitioned_layout',
    'shard_size',
    'sharded_init',
    'state_partition_specs',
    'state_shardings',
    'zero_sharded',
]
