"""Different transformations for different parameters, and freezing."""

from __future__ import annotations

from typing import Any, Callable, Hashable, Mapping, NamedTuple, Union

import jax

from gradtx import base
from gradtx import _structure
from gradtx import _masking as masking


class PartitionState(NamedTuple):
  """State of :func:`partition`."""

  inner_states: dict  # label -> MaskedState of that label's transformation.


MultiTransformState = PartitionState

LabelsOrFn = Union[Any, Callable[[base.Params], Any]]

_MAX_LISTED = 6


def _listed(items: list[str]) -> str:
  shown = ', '.join(repr(i) for i in items[:_MAX_LISTED])
  more = len(items) - _MAX_LISTED
  return shown + (f' and {more} more' if more > 0 else '')


def check_labels(
    labels: Any,
    params: Any,
    transforms: Mapping[Hashable, Any],
    *,
    owner: str = 'partition',
    allow_unused_transforms: bool = False,
) -> None:
  """Checks a label tree against the params and the transformations.

  Raises:
    ValueError: naming the paths and labels, when the label tree does not match
      the params, when a label has no transformation, or (unless
      ``allow_unused_transforms``) when a transformation has no parameter
      labelled for it.
  """
  _structure.check_prefix(labels, params, what='param_labels', owner=owner)
  by_label: dict[Any, list[str]] = {}
  for path, label in _structure.leaves_with_paths(labels):
    try:
      by_label.setdefault(label, []).append(path)
    except TypeError as e:
      raise ValueError(
          f'{owner}: the label at path {path!r} is {label!r}, which is not '
          'hashable; labels must be strings or other hashable values.'
      ) from e
  keys = sorted(map(str, transforms))
  missing = [l for l in by_label if l not in transforms]
  if missing:
    lines = [
        f'  label {l!r} at {_listed(by_label[l])}' for l in missing
    ]
    raise ValueError(
        f'{owner}: some parameters have a label with no transformation.\n'
        + '\n'.join(lines)
        + f'\n  transformations are given for the labels {keys}. Add a '
        'transformation for each label (gradtx.set_to_zero() freezes).'
    )
  unused = [k for k in transforms if k not in by_label]
  if unused and not allow_unused_transforms:
    raise ValueError(
        f'{owner}: no parameter is labelled for the transformation(s) '
        f'{sorted(map(str, unused))}. The labels found in param_labels are '
        f'{sorted(map(str, by_label))}. Fix the labels, drop the unused '
        'transformation, or pass allow_unused_transforms=True.'
    )


def _group_mask(labels: Any, label: Hashable) -> Any:
  return jax.tree.map(lambda l: l == label, labels)


def partition(
    transforms: Mapping[Hashable, base.GradientTransformation],
    param_labels: LabelsOrFn,
    *,
    mask_compatible_extra_args: bool = False,
    allow_unused_transforms: bool = False,
) -> base.GradientTransformationExtraArgs:
  """Applies a different transformation to each labelled subset of the params.

  .. code-block:: text

    u_i ← transforms[label_i](g restricted to the leaves labelled label_i)_i

  Each transformation sees only its own leaves (the others are
  :class:`~gradtx.MaskedNode`), so its state holds buffers for them alone and
  any statistic over the tree (a global norm, say) covers its group only.

  Args:
    transforms: a mapping from label to transformation.
    param_labels: a tree of labels with the params' structure (or a prefix of
      it), or a function from the params to one. Labels must be static.
    mask_compatible_extra_args: also restrict the extra keyword arguments of
      ``update`` shaped like the updates to each group.
    allow_unused_transforms: accept transformations that no parameter is
      labelled for (by default that is an error: usually a misspelt label).

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`PartitionState`.

  Raises:
    ValueError: naming paths and labels, for a label tree that does not match
      the params, a label with no transformation, or a transformation with no
      parameters.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> params = {'w': jnp.ones(2), 'b': jnp.ones(2)}
    >>> tx = gradtx.partition(
    ...     {'fast': gradtx.scale(-1.0), 'frozen': gradtx.set_to_zero()},
    ...     {'w': 'fast', 'b': 'frozen'})
    >>> u, _ = tx.update(params, tx.init(params))
    >>> u['w'], u['b']
    (Array([-1., -1.], dtype=float32), Array([0., 0.], dtype=float32))
  """
  if not isinstance(transforms, Mapping) or not transforms:
    raise ValueError(
        'partition: transforms must be a non-empty mapping from label to '
        f'transformation, got {transforms!r}'
    )
  for label, tx in transforms.items():
    if not (hasattr(tx, 'init') and hasattr(tx, 'update')):
      raise ValueError(
          f'partition: transforms[{label!r}] must be a gradient '
          f'transformation, got {type(tx).__name__}'
      )
  txs = {k: base.with_extra_args_support(v) for k, v in transforms.items()}

  def labels_for(tree):
    labels = masking.resolve(param_labels, tree)
    check_labels(labels, tree, txs,
                 allow_unused_transforms=allow_unused_transforms)
    return labels

  def init_fn(params):
    labels = labels_for(params)
    return PartitionState(inner_states={
        k: masking.init_masked(tx, _group_mask(labels, k), params)
        for k, tx in txs.items()
    })

  def update_fn(updates, state, params=None, **extra_args):
    labels = labels_for(updates if params is None else params)
    if params is not None:
      _structure.check_prefix(labels, updates, what='param_labels',
                              owner='partition', against='updates')
    new_states = {}
    for k, tx in txs.items():
      updates, new_states[k] = masking.update_masked(
          tx, _group_mask(labels, k), updates, state.inner_states[k], params,
          mask_compatible_extra_args=mask_compatible_extra_args, **extra_args
      )
    return updates, PartitionState(inner_states=new_states)

  return base.transformation_with_extra_args('partition', init_fn, update_fn)


multi_transform = partition
"""Alias of :func:`partition` (its former name in Optax)."""


def freeze(mask: Union[bool, Any]) -> base.GradientTransformationExtraArgs:
  """Zeroes the updates of the parameters where ``mask`` is True.

  ``u_i ← 0`` where ``mask_i``, ``u_i ← g_i`` elsewhere. Chain it with an
  optimizer to hold some parameters constant; to also keep the optimizer from
  storing state for them, use :func:`selective_transform`.

  Args:
    mask: True (freeze everything), False (nothing), a tree of booleans with
      the params' structure (or a prefix of it), or a function of the params
      returning one, e.g. :func:`gradtx.path_mask`.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> params = {'backbone': jnp.ones(2), 'head': jnp.ones(2)}
    >>> tx = gradtx.freeze({'backbone': True, 'head': False})
    >>> u, _ = tx.update(params, tx.init(params))
    >>> u['backbone'], u['head']
    (Array([0., 0.], dtype=float32), Array([1., 1.], dtype=float32))
  """
  return masking.masked(base.set_to_zero(), mask)


def selective_transform(
    optimizer: base.GradientTransformation,
    *,
    freeze_mask: Union[bool, Any],
) -> base.GradientTransformationExtraArgs:
  """Runs ``optimizer`` on the unfrozen parameters and zeroes the frozen ones.

  ``u_i ← 0`` where ``freeze_mask_i``, else ``u_i ← optimizer(g)_i``, with
  ``optimizer`` seeing (and keeping state for) the unfrozen leaves only. This is
  :func:`partition` with the labels ``'train'`` and ``'freeze'``.

  Args:
    optimizer: the transformation for the trainable parameters.
    freeze_mask: True/False, a tree of booleans (True = frozen) with the
      params' structure or a prefix of it, or a function of the params.

  Returns:
    A :class:`~gradtx.GradientTransformationExtraArgs` with a
    :class:`PartitionState`.

  Example:
    >>> import jax.numpy as jnp, gradtx
    >>> params = {'backbone': jnp.ones(2), 'head': jnp.ones(2)}
    >>> tx = gradtx.selective_transform(
    ...     gradtx.adam(0.1), freeze_mask={'backbone': True, 'head': False})
    >>> u, _ = tx.update(params, tx.init(params))
    >>> u['backbone'], u['head']
    (Array([0., 0.], dtype=float32), Array([-0.1, -0.1], dtype=float32))
  """

  def label_fn(params):
    m = masking.resolve(freeze_mask, params)
    return jax.tree.map(lambda frozen: 'freeze' if frozen else 'train', m)

  return partition(
      {'train': optimizer, 'freeze': base.set_to_zero()}, label_fn,
      allow_unused_transforms=True,
  )
