"""Data: the synthetic 2-D sets and CSV/NPZ files, split and standardized."""
