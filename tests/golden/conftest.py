"""The golden generators run in their own environments (MXNet, MindSpore), not under pytest."""

collect_ignore_glob = ["make_*.py"]
