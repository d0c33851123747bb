"""Benchmarks for bt_explore: run each with ``python -m benchmarks.<name>``; they print a table."""
