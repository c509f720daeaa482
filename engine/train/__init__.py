"""Training: a network, data and optimizer built from a config, the Trainer, its
checkpoints, the per-step diagnostics and the bounded metric history."""
