"""Checkpoints and exact resume: Orbax, Flax msgpack, validation, PyTorch state.

* :func:`save` / :func:`restore`: through an Orbax ``CheckpointManager``, with
  the state's classes restored from a target, its layout checked and every
  leaf checksummed (``pip install 'gradtx[checkpoint]'``);
* :func:`abstract_state`: the target to restore an optimizer state against,
  with the shardings ``opt.init`` gives for the current devices;
* :func:`check_state`: one clear error when a state does not fit an
  optimizer and params;
* :func:`register_flax_serialization`: ``flax.serialization`` (msgpack) for
  every gradtx state;
* :func:`from_torch_state_dict` / :func:`to_torch_state_dict`: the state of
  ``torch.optim.SGD``, ``Adam`` and ``AdamW``, both ways.

See ``docs/checkpointing.md``.
"""

from gradtx.checkpoint.flax_msgpack import register_flax_serialization as register_flax_serialization
from gradtx.checkpoint.orbax_io import CheckpointError as CheckpointError
from gradtx.checkpoint.orbax_io import restore as restore
from gradtx.checkpoint.orbax_io import save as save
from gradtx.checkpoint.torch_state import from_torch_state_dict as from_torch_state_dict
from gradtx.checkpoint.torch_state import to_torch_state_dict as to_torch_state_dict
from gradtx.checkpoint.validate import StateMismatchError as StateMismatchError
# One implementation: the restore target is the distributed state layout.
from gradtx.distributed import abstract_state as abstract_state
from gradtx.checkpoint.validate import check_state as check_state

__all__ = [
    'CheckpointError',
    'StateMismatchError',
    'abstract_state',
    'check_state',
    'from_torch_state_dict',
    'register_flax_serialization',
    'restore',
    'save',
    'to_torch_state_dict',
]
