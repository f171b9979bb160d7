"""Tree arithmetic: ``gradtx.tree.add``, ``gradtx.tree.norm``, and the rest.

Every transformation in gradtx is written with these helpers; they are public
so that your own transformations can be too.
"""

from gradtx.tree._access import NamedTupleKey as NamedTupleKey
from gradtx.tree._access import get as get
from gradtx.tree._access import get_all_with_path as get_all_with_path
from gradtx.tree._access import get_by_path as get_by_path
from gradtx.tree._access import map_params as map_params
from gradtx.tree._access import path_to_str as path_to_str
from gradtx.tree._access import paths as paths
from gradtx.tree._access import set as set  # pylint: disable=redefined-builtin
from gradtx.tree._access import set_by_path as set_by_path
from gradtx.tree._arithmetic import add as add
from gradtx.tree._arithmetic import add_scale as add_scale
from gradtx.tree._arithmetic import all_finite as all_finite
from gradtx.tree._arithmetic import allclose as allclose
from gradtx.tree._arithmetic import cast as cast
from gradtx.tree._arithmetic import cast_like as cast_like
from gradtx.tree._arithmetic import div as div
from gradtx.tree._arithmetic import full_like as full_like
from gradtx.tree._arithmetic import mul as mul
from gradtx.tree._arithmetic import norm as norm
from gradtx.tree._arithmetic import ones_like as ones_like
from gradtx.tree._arithmetic import scale as scale
from gradtx.tree._arithmetic import size as size
from gradtx.tree._arithmetic import sub as sub
from gradtx.tree._arithmetic import sum as sum  # pylint: disable=redefined-builtin
from gradtx.tree._arithmetic import vdot as vdot
from gradtx.tree._arithmetic import where as where
from gradtx.tree._arithmetic import zeros_like as zeros_like
from gradtx.tree._elementwise import batch_shape as batch_shape
from gradtx.tree._elementwise import clip as clip
from gradtx.tree._elementwise import conj as conj
from gradtx.tree._elementwise import dtype as dtype
from gradtx.tree._elementwise import max as max  # pylint: disable=redefined-builtin
from gradtx.tree._elementwise import min as min  # pylint: disable=redefined-builtin
from gradtx.tree._elementwise import real as real
from gradtx.tree._moments import abs_sq as abs_sq
from gradtx.tree._moments import bias_correction as bias_correction
from gradtx.tree._moments import bias_correction_factor as bias_correction_factor
from gradtx.tree._moments import compute_dtype as compute_dtype
from gradtx.tree._moments import safe_increment as safe_increment
from gradtx.tree._moments import update_infinity_moment as update_infinity_moment
from gradtx.tree._moments import update_moment as update_moment
from gradtx.tree._moments import update_moment_per_elem_norm as update_moment_per_elem_norm
from gradtx.tree._moments import upcast as upcast
from gradtx.tree._random import random_like as random_like
from gradtx.tree._random import split_key_like as split_key_like
from gradtx.tree._random import unwrap_random_key_data as unwrap_random_key_data

__all__ = [
    'abs_sq',
    'add',
    'add_scale',
    'all_finite',
    'allclose',
    'batch_shape',
    'bias_correction',
    'bias_correction_factor',
    'cast',
    'cast_like',
    'clip',
    'compute_dtype',
    'conj',
    'div',
    'dtype',
    'full_like',
    'get',
    'get_all_with_path',
    'get_by_path',
    'map_params',
    'max',
    'min',
    'mul',
    'NamedTupleKey',
    'norm',
    'ones_like',
    'path_to_str',
    'paths',
    'random_like',
    'real',
    'safe_increment',
    'scale',
    'set',
    'set_by_path',
    'size',
    'split_key_like',
    'sub',
    'sum',
    'unwrap_random_key_data',
    'upcast',
    'update_infinity_moment',
    'update_moment',
    'update_moment_per_elem_norm',
    'vdot',
    'where',
    'zeros_like',
]
