"""Hand-run benchmarks (not part of the package or the test suite)."""
