"""Benchmarks of authdemo (`make bench`); not part of the test suite."""
