"""Flat layouts: a pytree of arrays kept as one 1-D buffer per dtype."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Optional

import jax
import jax.numpy as jnp
import numpy as np

from gradtx import _checks


OWN_BUFFER_ABOVE = 2**18


def _group_name(dtype: Any) -> str:
  return np.dtype(dtype).name


@dataclasses.dataclass(frozen=True)
class FlatLayout:
  """Where each leaf of a pytree lives in one flat buffer per dtype group.

  Static metadata (hashable, not a pytree): pass it to closures or as a
  static argument, never as a traced value. Build it with :func:`flat_layout`.

  Attributes:
    treedef: the tree structure of the laid-out tree.
    groups: the buffer names (``'float32'``, ``'bfloat16'``, ..., and
      ``'float32#7'`` for a large leaf with a buffer of its own), in order of
      first appearance among the leaves.
    sizes: number of elements of each group's buffer, aligned with ``groups``.
    leaves: for each leaf, ``(group, offset, shape)``: the leaf is
      ``flat[group][offset:offset + prod(shape)].reshape(shape)``.

  Example:
    >>> import jax.numpy as jnp, gradtx, gradtx.fast
    >>> layout = gradtx.fast.flat_layout(
    ...     {'b': jnp.zeros(2), 'w': jnp.ones((2, 3))})
    >>> layout.groups, layout.sizes, layout.leaves
    (('float32',), (8,), (('float32', 0, (2,)), ('float32', 2, (2, 3))))
  """

  treedef: Any
  groups: tuple[str, ...]
  sizes: tuple[int, ...]
  leaves: tuple[tuple[str, int, tuple[int, ...]], ...]

  def _members(self, name: str) -> list[int]:
    return [i for i, (g, _, _) in enumerate(self.leaves) if g == name]

  def _check(self, tree: Any, what: str) -> list[Any]:
    leaves, treedef = jax.tree.flatten(tree)
    if treedef != self.treedef:
      raise TypeError(
          f'FlatLayout.{what} received a tree whose structure differs from '
          'the layout.\n' + _checks.describe_mismatch(
              'layout  ', self.treedef, 'received', treedef))
    for leaf, (group, _, shape) in zip(leaves, self.leaves):
      dtype = group.split('#')[0]
      if tuple(np.shape(leaf)) != shape or _group_name(
          jnp.result_type(leaf)) != dtype:
        raise TypeError(
            f'FlatLayout.{what}: a leaf of shape {np.shape(leaf)} and dtype '
            f'{jnp.result_type(leaf)} sits where the layout has shape {shape} '
            f'and dtype {dtype}. Build the layout from this tree (or one with '
            'the same shapes and dtypes).')
    return leaves

  def flatten(self, tree: Any) -> dict[str, jax.Array]:
    """Concatenates the leaves of ``tree`` into one 1-D buffer per group.

    Args:
      tree: a pytree with this layout's structure, shapes and dtypes.

    Returns:
      A dict from group name to a 1-D array (a plain pytree).

    Example:
      >>> import jax.numpy as jnp, gradtx, gradtx.fast
      >>> tree = {'b': jnp.zeros(2), 'w': jnp.ones((2, 2))}
      >>> gradtx.fast.flat_layout(tree).flatten(tree)['float32']
      Array([0., 0., 1., 1., 1., 1.], dtype=float32)
    """
    leaves = self._check(tree, 'flatten')
    out = {}
    for name in self.groups:
      parts = [jnp.ravel(leaves[i]) for i in self._members(name)]
      if len(parts) == 1:
        out[name] = parts[0]
      else:
        # The barrier keeps XLA from fusing the concatenation into its
        # consumers, where each element would pick among all the leaves: as
        # a copy of its own it is a handful of memcpys.
        out[name] = jax.lax.optimization_barrier(jnp.concatenate(parts))
    return out

  def unflatten(self, flat: dict[str, jax.Array],
                offsets: Optional[tuple[jax.Array, ...]] = None) -> Any:
    """Views of the flat buffers shaped as the original tree.

    Inside a jitted function the views are slices and reshapes that XLA fuses
    into their consumers; the loss can read the params from them directly.
    The slices read their offsets as runtime values, so that XLA compiles
    one kernel per leaf shape, not one per leaf (each view is still one
    small op of the step). Their gradient is one concatenation of the
    leaves' cotangents.

    Where the offsets come from: by default they are derived inside the step
    from a loop that never runs (see :meth:`offsets`); it costs a few
    instructions per leaf at compile time. Passing :meth:`offsets` as an
    argument of the jitted step instead is cheaper still: on a 600-leaf MLP
    the whole train step compiled about 20% faster (2.95 s against 3.73 s)
    and stepped a few percent faster (see ``benchmarks/README.md``). Offsets that are not
    traced values of the step (closed over, so XLA would see constants) are
    ignored in favour of the default, which gives the same values.

    Args:
      flat: a dict from group name to a 1-D array, as :meth:`flatten` returns.
      offsets: optional, :meth:`offsets` of this layout received as an
        argument of the jitted function that calls ``unflatten``.

    Returns:
      A pytree with this layout's structure and shapes (and each buffer's
      dtype).

    Example:
      >>> import jax, jax.numpy as jnp, gradtx, gradtx.fast
      >>> tree = {'b': jnp.zeros(2), 'w': jnp.ones((2, 2))}
      >>> layout = gradtx.fast.flat_layout(tree)
      >>> layout.unflatten(layout.flatten(tree))['w']
      Array([[1., 1.],
             [1., 1.]], dtype=float32)
      >>> read_w = jax.jit(lambda flat, offsets: layout.unflatten(
      ...     flat, offsets)['w'].sum())
      >>> read_w(layout.flatten(tree), layout.offsets())
      Array(4., dtype=float32)
    """
    if not isinstance(flat, dict) or set(flat) != set(self.groups):
      got = sorted(flat) if isinstance(flat, dict) else type(flat).__name__
      raise TypeError(
          f'FlatLayout.unflatten expects a dict with keys {list(self.groups)} '
          f'(what flatten returns), got {got}.')
    if offsets is not None and len(offsets) != len(self.leaves):
      raise TypeError(
          f'FlatLayout.unflatten expects {len(self.leaves)} offsets (one '
          f'per leaf, as layout.offsets() returns), got {len(offsets)}.')
    # Only values traced as arguments help; constants (offsets() called
    # inside the trace) would give every slice a kernel of its own.
    if offsets is None or not all(
        isinstance(o, jax.core.Tracer) for o in offsets):
      offsets = _opaque_offsets(self, flat)
    if offsets and isinstance(offsets[0], int):
      return _views(self, flat, None)  # static slices: beyond int32
    return _views(self, flat, tuple(offsets))

  def offsets(self) -> tuple[Any, ...]:
    """Each leaf's start in its buffer, as int32 scalars.

    Given to :meth:`split` or :meth:`unflatten` as runtime values (an
    argument of the jitted step, or the state of :func:`gradtx.fast.fused`),
    the offsets let XLA compile one kernel for every leaf of a shape, where
    constant offsets make each slice a kernel of its own. Call it outside
    the jitted function and pass the result in: called while a function is
    being traced, it returns NumPy scalars (constants of that function),
    which :meth:`unflatten` recognises and ignores.

    Returns:
      A tuple of int32 scalars, one per leaf, in leaf order: device arrays,
      or NumPy scalars while tracing (Python ints, which slice statically,
      if a buffer is too long for int32 offsets).

    Example:
      >>> import jax.numpy as jnp, gradtx, gradtx.fast
      >>> layout = gradtx.fast.flat_layout({'b': jnp.zeros(2), 'w': jnp.ones(3)})
      >>> [int(o) for o in layout.offsets()]
      [0, 2]
    """
    starts = tuple(offset for _, offset, _ in self.leaves)
    if max(self.sizes, default=0) > np.iinfo(np.int32).max:
      return starts
    host = tuple(np.int32(offset) for offset in starts)
    if isinstance(jnp.zeros((), jnp.int32), jax.core.Tracer):
      return host  # inside a trace: constants either way; keep them visible.
    return tuple(jax.device_put(host))

  def split(self, flat: dict[str, jax.Array],
            offsets: tuple[jax.Array, ...]) -> Any:
    """The leaves of ``flat`` as a tree, sliced at runtime ``offsets``.

    Same values as :meth:`unflatten` (copies, not views: use it for results
    such as updates, not inside a loss).

    Args:
      flat: a dict from group name to a 1-D array, as :meth:`flatten` returns.
      offsets: :meth:`offsets` of this layout, carried through the jitted
        step as data.

    Returns:
      A pytree with this layout's structure and shapes.

    Example:
      >>> import jax.numpy as jnp, gradtx, gradtx.fast
      >>> tree = {'b': jnp.zeros(2), 'w': jnp.ones(3)}
      >>> layout = gradtx.fast.flat_layout(tree)
      >>> layout.split(layout.flatten(tree), layout.offsets())['w']
      Array([1., 1., 1.], dtype=float32)
    """
    if len(offsets) != len(self.leaves):
      raise TypeError(f'FlatLayout.split expects {len(self.leaves)} offsets '
                      f'(one per leaf), got {len(offsets)}.')
    leaves = []
    for (group, _, shape), offset in zip(self.leaves, offsets):
      buf = flat[group]
      size = int(np.prod(shape, dtype=np.int64))
      if size == buf.shape[0]:
        part = buf
      elif isinstance(offset, int):
        part = jax.lax.slice(buf, (offset,), (offset + size,))
      else:
        part = jax.lax.dynamic_slice(buf, (offset,), (size,))
      leaves.append(jnp.reshape(part, shape))
    return jax.tree.unflatten(self.treedef, leaves)

  def _concat(self, tree: Any) -> dict[str, jax.Array]:
    leaves = jax.tree.leaves(tree)
    return {name: jnp.concatenate([jnp.ravel(leaves[i])
                                   for i in self._members(name)])
            for name in self.groups}


def _opaque_offsets(layout: FlatLayout,
                    flat: dict[str, jax.Array]) -> tuple[jax.Array, ...]:
  """The layout's offsets as runtime values that XLA cannot constant-fold.

  XLA:CPU compiles one kernel per distinct piece of code, and a slice at a
  constant offset differs from every other, so n views would cost n kernel
  compiles (about 10 ms each). The offsets are passed through a loop that
  never runs: its condition asks whether a non-negative integer (the low 31
  bits of a buffer's first element) is negative, which is false for any
  data, so the offsets come out unchanged; but XLA cannot tell, and the
  slices receive them as runtime scalars. Views of one shape then share one
  kernel, and the compile time of a model reading n views no longer grows
  with n distinct kernels. At run time the loop is one comparison, plus a
  4-byte copy per leaf.
  """
  offsets = layout.offsets()
  nonempty = [flat[g] for g, n in zip(layout.groups, layout.sizes) if n]
  if len(offsets) < 2 or not nonempty or isinstance(offsets[0], int):
    return offsets
  first = jax.lax.convert_element_type(nonempty[0][0], jnp.float32)
  guard = jnp.bitwise_and(jax.lax.bitcast_convert_type(first, jnp.int32),
                          jnp.int32(0x7fffffff))  # >= 0 whatever the data

  def body(carry):
    # Never runs. Each offset depends on the guard in its own way, so XLA
    # cannot rewrite the offsets as constants plus one shared counter.
    g, offsets = carry
    return g, tuple(jnp.bitwise_xor(o, g) for o in offsets)

  _, offsets = jax.lax.while_loop(lambda carry: carry[0] < 0, body,
                                  (guard, offsets))
  return offsets


# The transpose of a slice is a pad to the whole buffer, so the gradient of n
# views would be n buffer-sized pads summed: O(n · size) work. The cotangents
# of the views are concatenated instead. The offsets are runtime integers
# (their cotangent is float0), or None for the layout's static offsets.
@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _views(layout: FlatLayout, flat: dict[str, jax.Array],
           offsets: Optional[tuple[jax.Array, ...]]) -> Any:
  return layout.split(flat, layout.offsets() if offsets is None else offsets)


def _views_fwd(layout, flat, offsets):
  return _views(layout, flat, offsets), offsets is None


def _views_bwd(layout, static, cotangents):
  zero = np.zeros((), jax.dtypes.float0)
  return (layout._concat(cotangents),  # pylint: disable=protected-access
          None if static else (zero,) * len(layout.leaves))


_views.defvjp(_views_fwd, _views_bwd)


def flat_layout(tree: Any,
                own_buffer_above: Optional[int] = OWN_BUFFER_ABOVE
                ) -> FlatLayout:
  """The :class:`FlatLayout` of a pytree of arrays: one buffer per dtype.

  .. code-block:: text

    flat[d]   = concat(ravel(x) for each leaf x of dtype d, in tree order)
    flat[d#i] = ravel(x_i)   for a leaf with more than own_buffer_above elements

  Leaves keep their dtypes: bfloat16, float16 and float32 leaves go to three
  buffers. A large leaf keeps a buffer of its own (named ``'<dtype>#<leaf
  index>'``): it already runs at full bandwidth, and a buffer of its own is a
  free reshape where a slice of a shared one would be a copy. Only shapes and
  dtypes are read, so ``tree`` may hold :class:`jax.ShapeDtypeStruct` leaves.

  Args:
    tree: a pytree of arrays (typically the params).
    own_buffer_above: leaves with more elements than this keep their own
      buffer (default ``2**18``, 1 MiB of float32); None puts every leaf in
      its dtype's buffer.

  Returns:
    A hashable :class:`FlatLayout`.

  Example:
    >>> import jax, jax.numpy as jnp, gradtx, gradtx.fast
    >>> params = {'b': jnp.zeros(3), 'w': jnp.ones((3, 2), jnp.bfloat16)}
    >>> layout = gradtx.fast.flat_layout(params)
    >>> flat = layout.flatten(params)  # keep this; train it
    >>> {k: v.shape for k, v in flat.items()}
    {'float32': (3,), 'bfloat16': (6,)}
    >>> loss = lambda flat: jnp.sum(layout.unflatten(flat)['b'] ** 2)
    >>> jax.grad(loss)(flat)['float32']
    Array([0., 0., 0.], dtype=float32)
  """
  if own_buffer_above is not None and (
      not isinstance(own_buffer_above, int) or own_buffer_above < 0):
    raise ValueError('own_buffer_above must be None or an int >= 0, got '
                     f'{own_buffer_above!r}')
  leaves, treedef = jax.tree.flatten(tree)
  groups: list[str] = []
  sizes: dict[str, int] = {}
  placed = []
  for i, leaf in enumerate(leaves):
    name = _group_name(leaf.dtype if hasattr(leaf, 'dtype')
                       else jnp.result_type(leaf))
    shape = tuple(int(d) for d in np.shape(leaf))
    if (own_buffer_above is not None
        and int(np.prod(shape, dtype=np.int64)) > own_buffer_above):
      name = f'{name}#{i}'  # a large leaf: a buffer of its own, no copies.
    if name not in sizes:
      groups.append(name)
      sizes[name] = 0
    placed.append((name, sizes[name], shape))
    sizes[name] += int(np.prod(shape, dtype=np.int64))
  return FlatLayout(treedef, tuple(groups), tuple(sizes[g] for g in groups),
                    tuple(placed))
