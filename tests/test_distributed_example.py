"""examples/data_parallel.py runs as a new user runs it and does its job."""

from __future__ import annotations

import re

from tests.test_examples import accuracies
from tests.test_examples import run_example


def test_data_parallel_example_zero_on_8_devices(tmp_path):
  out = tmp_path / 'curves.png'
  stdout, _ = run_example('data_parallel.py', '--devices', '8', '--zero',
                          '--steps', '25', '--out', str(out))
  assert '1 process(es), 8 devices, ZeRO' in stdout
  # The quickstart MLP (64-128-128-10) under AdamW: each of the 8 devices
  # keeps ceil(n/8) elements of mu and nu per leaf (leaves of 8192, 128,
  # 16384, 128, 1280, 10 elements: 1024+16+2048+16+160+2), plus two int32
  # counters; replicated it would be 2 * 26122 * 4 + 8 = 208984 bytes.
  nbytes = int(re.search(r'optimizer state per device: (\d+) bytes', stdout)[1])
  assert nbytes == 2 * 4 * (1024 + 16 + 2048 + 16 + 160 + 2) + 8
  assert accuracies(stdout)[0] > 0.7
  # The loss curves on 1, 2, 4 and 8 devices agree (float32 rounding only).
  spread = float(re.search(r'between the loss curves: ([0-9.e+-]+)', stdout)[1])
  assert spread < 1e-4
  assert out.exists() and out.stat().st_size > 10_000
