"""Command line: ``python -m gradtx schedule NAME --arg value ... --steps N -o lr.png``.

Builds ``gradtx.schedules.NAME(arg=value, ...)`` (values are read as Python
literals: ``--boundaries_and_scales "{100: 0.1}"``, ``--staircase True``;
anything else is a string), prints its first, peak and last values over
``N`` steps and, with ``-o``, writes the curve as a PNG.
"""

from __future__ import annotations

import argparse
import ast
import sys
from typing import Any, Optional, Sequence


def _literal(text: str) -> Any:
  try:
    return ast.literal_eval(text)
  except (ValueError, SyntaxError):
    return text


def _kwargs(extra: Sequence[str]) -> dict[str, Any]:
  out, i = {}, 0
  while i < len(extra):
    key = extra[i]
    if not key.startswith('--') or len(key) == 2:
      raise SystemExit(f'expected --name value, got {key!r}')
    key = key[2:]
    if '=' in key:
      key, value = key.split('=', 1)
      i += 1
    elif i + 1 < len(extra):
      value = extra[i + 1]
      i += 2
    else:
      raise SystemExit(f'--{key} needs a value')
    out[key.replace('-', '_')] = _literal(value)
  return out


def schedule_command(name: str, kwargs: dict[str, Any], steps: int,
                     output: Optional[str]) -> str:
  """Builds the schedule, writes the plot if asked; returns the summary."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  from gradtx import schedules  # pylint: disable=g-import-not-at-top
  factory = getattr(schedules, name, None)
  if factory is None or name.startswith('_') or not callable(factory):
    known = sorted(n for n in dir(schedules) if not n.startswith('_')
                   and callable(getattr(schedules, n)))
    raise SystemExit(f'unknown schedule {name!r}; known: {", ".join(known)}')
  schedule = factory(**kwargs)
  values = schedules.evaluate_schedule(schedule, steps)
  peak = int(np.argmax(values))
  lines = [f'{name}({", ".join(f"{k}={v!r}" for k, v in kwargs.items())})',
           f'first: {values[0]:.6g} (step 0)',
           f'peak:  {values[peak]:.6g} (step {peak})',
           f'last:  {values[-1]:.6g} (step {steps - 1})']
  if output:
    schedules.plot({name: schedule}, steps, output, title=name)
    lines.append(f'wrote {output}')
  return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
  parser = argparse.ArgumentParser(prog='python -m gradtx')
  sub = parser.add_subparsers(dest='command', required=True)
  p = sub.add_parser('schedule', help='evaluate and plot a schedule by name')
  p.add_argument('name', help='a function of gradtx.schedules, e.g. step_lr')
  p.add_argument('--steps', type=int, default=1000)
  p.add_argument('-o', '--output', default=None, help='PNG to write')
  args, extra = parser.parse_known_args(argv)
  if args.steps <= 0:
    parser.error(f'--steps must be positive, got {args.steps}')
  print(schedule_command(args.name, _kwargs(extra), args.steps, args.output))
  return 0


if __name__ == '__main__':
  sys.exit(main())
