"""Optax's ``optax.tree_utils`` names for the helpers of :mod:`gradtx.tree`.

Optax spells its tree helpers with a ``tree_`` prefix (``tree_add``,
``tree_l2_norm``...). gradtx keeps one implementation of each, in
:mod:`gradtx.tree`; this module gives them their Optax names so that
``optax.tree_utils`` code runs with ``gradtx.tree_utils`` unchanged.

Example:
  >>> import jax.numpy as jnp
  >>> from gradtx import tree_utils as otu
  >>> otu.tree_add({'a': jnp.ones(2)}, {'a': jnp.ones(2)})['a']
  Array([2., 2.], dtype=float32)
"""

from gradtx import tree as _tree

_OPTAX_NAMES = {f'tree_{name}': name for name in _tree.__all__}

NamedTupleKey = _tree.NamedTupleKey

tree_add = _tree.add
tree_add_scale = _tree.add_scale
tree_allclose = _tree.allclose
tree_bias_correction = _tree.bias_correction
tree_cast = _tree.cast
tree_cast_like = _tree.cast_like
tree_div = _tree.div
tree_full_like = _tree.full_like
tree_get = _tree.get
tree_get_all_with_path = _tree.get_all_with_path
tree_map_params = _tree.map_params
tree_mul = _tree.mul
tree_norm = _tree.norm
tree_ones_like = _tree.ones_like
tree_scale = _tree.scale
tree_set = _tree.set
tree_size = _tree.size
tree_sub = _tree.sub
tree_sum = _tree.sum
tree_update_infinity_moment = _tree.update_infinity_moment
tree_update_moment = _tree.update_moment
tree_update_moment_per_elem_norm = _tree.update_moment_per_elem_norm
tree_vdot = _tree.vdot
tree_where = _tree.where
tree_zeros_like = _tree.zeros_like
tree_batch_shape = _tree.batch_shape
tree_clip = _tree.clip
tree_conj = _tree.conj
tree_dtype = _tree.dtype
tree_max = _tree.max
tree_min = _tree.min
tree_random_like = _tree.random_like
tree_real = _tree.real
tree_split_key_like = _tree.split_key_like
tree_unwrap_random_key_data = _tree.unwrap_random_key_data

__all__ = ['NamedTupleKey'] + sorted(
    n for n in globals() if n.startswith('tree_'))
