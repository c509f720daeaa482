"""PyTorch parity in float64: same weights and batch give the same loss, gradients and
training trajectory. torch is a test-only dependency (CI installs it)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from engine import ExperimentConfig, Trainer
from engine.config import ModelConfig
from engine.nn.activations import ACTIVATIONS
from engine.nn.losses import LOSSES
from engine.nn.network import MLP
from engine.train.build import build_network

torch = pytest.importorskip("torch", reason="PyTorch parity needs torch (pip install .[parity])")
F = torch.nn.functional

RTOL = 1e-6
ATOL = 1e-12
LEAKY_SLOPE = 0.07  # not the default, so a dropped parameter shows
ELU_ALPHA = 1.3


def torch_activation(name: str) -> Callable:
    table = {
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": F.relu,
        "leaky_relu": lambda z: F.leaky_relu(z, negative_slope=LEAKY_SLOPE),
        "elu": lambda z: F.elu(z, alpha=ELU_ALPHA),
        "linear": lambda z: z,
        "gelu": lambda z: F.gelu(z, approximate="tanh"),
        "silu": F.silu,
        "maxout": lambda z: z,  # the max happens in the layer, see torch_forward
    }
    return table[name]


def test_every_activation_has_a_torch_twin() -> None:
    for name in ACTIVATIONS:
        torch_activation(name)  # KeyError names an activation this module does not cover


def torch_loss(name: str, logits, y: np.ndarray):
    if name == "softmax_cross_entropy":
        return F.cross_entropy(logits, torch.from_numpy(y))
    if name == "sigmoid_cross_entropy":
        return F.binary_cross_entropy_with_logits(logits[:, 0], torch.from_numpy(y).double())
    if name == "mse":
        return F.mse_loss(logits, torch.from_numpy(y))
    raise KeyError(name)


def torch_forward(net: MLP, params: dict, X: np.ndarray, activation: str):
    """The same MLP in torch, reading weights from `params` (name -> leaf tensor)."""
    act = torch_activation(activation)
    h = torch.from_numpy(X)
    last = len(net.layers) - 1
    for i, layer in enumerate(net.layers):
        W, b = params[f"layers.{i}.W"], params[f"layers.{i}.b"]
        if layer.pieces > 1:  # maxout: W is (fan_in, units, k)
            fan_in, units, k = W.shape
            z = h @ W.reshape(fan_in, units * k) + b.reshape(-1)
            h = z.view(-1, units, k).max(-1).values
        else:
            z = h @ W + b
            h = z if i == last else act(z)
    return h


def to_torch(params: dict[str, np.ndarray]) -> dict:
    return {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}


def make_batch(loss_name: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X = rng.standard_normal((n, 3))
    if loss_name == "softmax_cross_entropy":
        return X, rng.integers(0, 3, n)
    if loss_name == "sigmoid_cross_entropy":
        return X, rng.integers(0, 2, n)
    return X, rng.standard_normal((n, 2))


LOSS_OUTPUTS = {"softmax_cross_entropy": 3, "sigmoid_cross_entropy": 1, "mse": 2}


@pytest.mark.parametrize("loss_name", sorted(LOSSES))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_loss_and_gradients_match_torch(activation: str, loss_name: str) -> None:
    rng = np.random.default_rng(7)
    model = ModelConfig(
        hidden=[6, 5],
        activation=activation,
        init="normal",
        init_scale=0.8,
        bias_init="constant",
        bias_value=0.05,
        leaky_slope=LEAKY_SLOPE,
        elu_alpha=ELU_ALPHA,
        maxout_k=3,
    )
    net = build_network(model, 3, LOSS_OUTPUTS[loss_name], rng, np.float64)
    X, y = make_batch(loss_name, 16, rng)
    loss = LOSSES[loss_name]

    logits = net.forward(X)
    value, dlogits = loss.compute(logits, y)
    grads = net.backward(dlogits)

    params = to_torch(net.parameters())
    t_logits = torch_forward(net, params, X, activation)
    t_loss = torch_loss(loss_name, t_logits, y)
    t_loss.backward()

    np.testing.assert_allclose(logits, t_logits.detach().numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(value, t_loss.item(), rtol=RTOL, atol=ATOL)
    assert set(grads) == set(params)
    for name, g in grads.items():
        assert g.dtype == np.float64
        np.testing.assert_allclose(
            g, params[name].grad.numpy(), rtol=RTOL, atol=ATOL, err_msg=f"{activation} {name}"
        )


# ----------------------------------------------------------------------------- trajectories

STEPS = 50

OPTIMIZER_CASES: dict[str, dict] = {
    "sgd": {"name": "sgd", "lr": 0.1},
    "momentum": {"name": "momentum", "lr": 0.05, "momentum": 0.9},
    "nesterov": {"name": "nesterov", "lr": 0.05, "momentum": 0.8},
    "rmsprop": {"name": "rmsprop", "lr": 0.01, "rho": 0.95, "eps": 1e-6},
    "adam": {"name": "adam", "lr": 0.01, "beta1": 0.85, "beta2": 0.99, "eps": 1e-7},
    "sgd+clip": {"name": "sgd", "lr": 0.2, "clip_norm": 0.05},
    "adam+clip": {"name": "adam", "lr": 0.01, "clip_norm": 0.05},
    "momentum+step": {
        "name": "momentum",
        "lr": 0.1,
        "schedule": "step",
        "step_size": 7,
        "gamma": 0.6,
    },
    # The horizon is decay_steps, not the step budget: 30 of 50 steps decay, 20 stay at 0.
    "adam+cosine": {"name": "adam", "lr": 0.02, "schedule": "cosine", "decay_steps": 30},
    "sgd+cosine": {"name": "sgd", "lr": 0.3, "schedule": "cosine", "decay_steps": STEPS},
}


def torch_optimizer(opt: dict, weights: list, biases: list, decay: float):
    groups = [{"params": weights, "weight_decay": decay}, {"params": biases, "weight_decay": 0.0}]
    name, lr = opt["name"], opt["lr"]
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr)
    if name in ("momentum", "nesterov"):
        return torch.optim.SGD(groups, lr=lr, momentum=opt["momentum"], nesterov=name == "nesterov")
    if name == "rmsprop":
        return torch.optim.RMSprop(groups, lr=lr, alpha=opt["rho"], eps=opt["eps"])
    if name == "adam":
        return torch.optim.Adam(groups, lr=lr, betas=(opt["beta1"], opt["beta2"]), eps=opt["eps"])
    raise KeyError(name)


def torch_scheduler(opt: dict, optimizer):
    schedule = opt.get("schedule", "constant")
    if schedule == "step":
        return torch.optim.lr_scheduler.StepLR(
            optimizer, step_size=opt["step_size"], gamma=opt["gamma"]
        )
    if schedule == "cosine":
        # Ours stays at 0 after decay_steps; torch's cosine would rise again: hold it there.
        cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=opt["decay_steps"])
        zero = torch.optim.lr_scheduler.ConstantLR(optimizer, factor=0.0, total_iters=STEPS)
        return torch.optim.lr_scheduler.SequentialLR(
            optimizer, [cosine, zero], milestones=[opt["decay_steps"]]
        )
    return None


def recording_trainer(
    config: ExperimentConfig, monkeypatch: pytest.MonkeyPatch
) -> tuple[Trainer, list]:
    """A Trainer whose minibatches are copied as it draws them, to feed torch the same."""
    trainer = Trainer(config)
    seen: list[tuple[np.ndarray, np.ndarray]] = []
    draw = trainer.batches.next

    def next_batch() -> tuple[np.ndarray, np.ndarray]:
        X, y = draw()
        seen.append((X.copy(), y.copy()))
        return X, y

    monkeypatch.setattr(trainer.batches, "next", next_batch)
    return trainer, seen


@pytest.mark.parametrize("case", list(OPTIMIZER_CASES))
def test_trajectory_matches_torch(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    opt = {**OPTIMIZER_CASES[case]}
    defaults = ExperimentConfig().optimizer
    for key in ("momentum", "rho", "eps", "beta1", "beta2"):
        opt.setdefault(key, getattr(defaults, key))
    decay = 1e-3
    config = ExperimentConfig.from_dict(
        {
            "data": {"name": "spiral", "n_samples": 150, "n_classes": 3},
            "model": {"hidden": [8, 6], "activation": "tanh", "init": "xavier_normal"},
            "optimizer": {**opt, "weight_decay": decay},
            "training": {"batch_size": 16, "steps": STEPS, "eval_every": 0, "dtype": "float64"},
        }
    )
    trainer, seen = recording_trainer(config, monkeypatch)
    net = trainer.network
    params = to_torch(net.parameters())  # the initial weights, before any step
    weights = [p for k, p in params.items() if k.endswith(".W")]
    biases = [p for k, p in params.items() if k.endswith(".b")]
    t_opt = torch_optimizer(opt, weights, biases, decay)
    t_sched = torch_scheduler(opt, t_opt)
    clip = opt.get("clip_norm", 0.0)
    clipped = 0

    for step in range(STEPS):
        record = trainer.step()
        X, y = seen[step]
        t_opt.zero_grad()
        t_loss = torch_loss("softmax_cross_entropy", torch_forward(net, params, X, "tanh"), y)
        t_loss.backward()
        assert record.lr == pytest.approx(t_opt.param_groups[0]["lr"], rel=1e-12, abs=1e-15)
        if clip:
            norm = torch.nn.utils.clip_grad_norm_(list(params.values()), clip)
            clipped += bool(norm > clip)
        t_opt.step()
        if t_sched is not None:
            t_sched.step()
        np.testing.assert_allclose(record.loss, t_loss.item(), rtol=RTOL, atol=ATOL)
        for name, p in net.parameters().items():
            np.testing.assert_allclose(
                p, params[name].detach().numpy(), rtol=RTOL, atol=ATOL, err_msg=f"{name} @{step}"
            )
    assert len(seen) == STEPS
    if clip:
        assert clipped > STEPS // 2, "the clip case must actually clip"
