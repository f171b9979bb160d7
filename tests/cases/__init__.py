"""The battery's registry: every optimizer and transformation joins in a line.

Each module in this package defines ``CASES``, a list of :class:`Case`. The
battery in ``tests/test_battery.py`` runs every case through the same checks.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from typing import Any, Callable, Optional


@dataclasses.dataclass(frozen=True)
class Case:
  """One optimizer or transformation under test.

  Attributes:
    name: test id.
    make: ``make(learning_rate) -> gradtx transformation``. ``learning_rate``
      may be a schedule. For a bare transformation (no learning rate of its
      own), chain ``gradtx.scale_by_learning_rate(learning_rate)`` after it.
    oracle: same signature, returning the Optax equivalent; None when Optax
      has no such thing (then a hand-derived test must exist elsewhere).
    converges: the result is a full optimizer expected to minimise a
      quadratic and Rosenbrock.
    lr: learning rate used for the convergence checks.
    steps: number of convergence steps.
    needs_params: update needs params.
    complex_ok: the math is defined for complex parameters.
    rtol: parity tolerance against the oracle after 100 steps.
    rosenbrock: also run the Rosenbrock convergence check.
    rosenbrock_lr: learning rate for Rosenbrock (curvature ~1000 at the start).
  """

  name: str
  make: Callable[[Any], Any]
  oracle: Optional[Callable[[Any], Any]] = None
  converges: bool = True
  lr: float = 1e-1
  steps: int = 1000
  needs_params: bool = True
  complex_ok: bool = False
  rtol: float = 1e-5
  rosenbrock: bool = True
  rosenbrock_lr: float = 1e-3


def all_cases() -> list[Case]:
  cases = []
  for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    module = importlib.import_module(f'{__name__}.{info.name}')
    cases.extend(getattr(module, 'CASES', []))
  names = [c.name for c in cases]
  dup = {n for n in names if names.count(n) > 1}
  if dup:
    raise ValueError(f'duplicate case names: {sorted(dup)}')
  return cases
