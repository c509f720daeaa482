"""Data: the synthetic 2-D sets (datasets), CSV/NPZ files (loaders), and the checks on
labels and targets that both go through (checks)."""
