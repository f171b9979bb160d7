"""The standard figure of warmup-then-decay learning-rate policies.

Six policies, each with 20 warmup steps out of 100 and a peak of 1:
linear, cosine, cosine with (hard) restarts, polynomial, step and
exponential. Run:

  python examples/schedules_gallery.py -o schedules_gallery.png
"""

from __future__ import annotations

import argparse

import gradtx
from gradtx import schedules

WARMUP, TOTAL, PEAK = 20, 100, 1.0


def gallery() -> dict:
  warm = gradtx.linear_schedule(0.0, PEAK, WARMUP)
  after_warmup = lambda decay: gradtx.join_schedules([warm, decay], [WARMUP])
  return {
      'linear': gradtx.linear_schedule_with_warmup(PEAK, WARMUP, TOTAL),
      'cosine': gradtx.warmup_cosine_decay_schedule(0.0, PEAK, WARMUP, TOTAL),
      'cosine with restarts':
          gradtx.cosine_with_hard_restarts_schedule_with_warmup(
              PEAK, WARMUP, TOTAL, num_cycles=3),
      'polynomial (power 2)': gradtx.polynomial_decay_schedule_with_warmup(
          PEAK, WARMUP, TOTAL, lr_end=0.0, power=2.0),
      'step (x0.5 every 20)': after_warmup(gradtx.step_lr(PEAK, 20, 0.5)),
      'exponential': gradtx.warmup_exponential_decay_schedule(
          0.0, PEAK, WARMUP, transition_steps=10, decay_rate=0.7),
  }


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('-o', '--output', default='schedules_gallery.png')
  args = parser.parse_args()
  curves = gallery()
  for name, fn in curves.items():
    v = schedules.evaluate_schedule(fn, TOTAL)
    print(f'{name:24s} step 0: {v[0]:.3f}  step {WARMUP}: {v[WARMUP]:.3f}  '
          f'step {TOTAL - 1}: {v[-1]:.4f}')
  schedules.plot(curves, TOTAL, args.output,
                 title=f'Warmup ({WARMUP} steps) then decay, {TOTAL} steps')
  print(f'wrote {args.output}')


if __name__ == '__main__':
  main()
