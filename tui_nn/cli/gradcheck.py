"""`tui-nn gradcheck`: backprop against numeric gradients, one row a parameter."""

from __future__ import annotations

import argparse

from engine import ExperimentConfig, Trainer


def run_gradcheck(args: argparse.Namespace, config: ExperimentConfig) -> int:
    from engine.nn.gradcheck import gradcheck

    trainer = Trainer(config)
    n = max(1, min(args.samples_checked, len(trainer.X_train)))
    rows = gradcheck(
        trainer.network, trainer.X_train[:n], trainer.y_train[:n], trainer.loss, max_per_param=200
    )
    print(f"{'parameter':<14} {'shape':<14} {'checked':>7} {'max rel err':>12}  verdict")
    for row in rows:
        shape = "x".join(map(str, row.shape))
        print(f"{row.name:<14} {shape:<14} {row.checked:>7} {row.max_error:>12.2e}  {row.verdict}")
    return 1 if any(row.verdict in ("wrong", "suspect") for row in rows) else 0
