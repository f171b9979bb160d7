"""Euclidean projections of pytrees onto convex sets, as in ``optax.projections``.

Each function returns the point of a set nearest (in the l2 norm of all
leaves together) to the given pytree. Use them for projected gradient
descent: ``params = projection_l2_ball(gradtx.apply_updates(params, updates))``.
"""

from gradtx.projections._affine import projection_halfspace as projection_halfspace
from gradtx.projections._affine import projection_hyperplane as projection_hyperplane
from gradtx.projections._affine import projection_vector as projection_vector
from gradtx.projections._box import projection_box as projection_box
from gradtx.projections._box import projection_hypercube as projection_hypercube
from gradtx.projections._box import projection_linf_ball as projection_linf_ball
from gradtx.projections._box import projection_non_negative as projection_non_negative
from gradtx.projections._l2 import projection_l2_ball as projection_l2_ball
from gradtx.projections._l2 import projection_l2_sphere as projection_l2_sphere
from gradtx.projections._simplex import projection_l1_ball as projection_l1_ball
from gradtx.projections._simplex import projection_l1_sphere as projection_l1_sphere
from gradtx.projections._simplex import projection_simplex as projection_simplex

__all__ = [
    'projection_box',
    'projection_halfspace',
    'projection_hypercube',
    'projection_hyperplane',
    'projection_l1_ball',
    'projection_l1_sphere',
    'projection_l2_ball',
    'projection_l2_sphere',
    'projection_linf_ball',
    'projection_non_negative',
    'projection_simplex',
    'projection_vector',
]
