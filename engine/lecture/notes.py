"""Short notes cards for every activation and initializer the lab offers, in our own words
from the lecture. Plain text, no markup: intervals like [0, inf) are meant literally, so
a UI should show the lines as plain text.

    from engine.lecture.notes import activation_card, init_card, all_cards
    card = activation_card("relu")
    card.title, card.lines, card.text()
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.nn.activations import ACTIVATIONS, facts
from engine.nn.initializers import INITIALIZERS, expected_std

EXAMPLE_FAN = 64  # the fan the std examples use: a typical hidden width here


@dataclass(frozen=True)
class Card:
    title: str
    lines: tuple[str, ...]

    def text(self) -> str:
        return "\n".join((self.title, *self.lines))


@dataclass(frozen=True)
class ActivationNote:
    """What the Facts in activations.py do not say, per activation."""

    title: str
    computes: str
    saturation: str
    dies: str
    rule: str
    parameters: str = "a dense layer's (fan_in + 1) x units; the activation adds none"


# The rule of thumb is the lecture's: use ReLU and mind the learning rate; try leaky ReLU
# or maxout; try tanh but expect little; sigmoid only where its output range is needed.
ACTIVATION_NOTES: dict[str, ActivationNote] = {
    "sigmoid": ActivationNote(
        "Sigmoid",
        "1 / (1 + e^-z)",
        "yes, at both ends: past |z| ~ 5 the slope is ~0 and the gradient dies",
        "no, but a saturated unit learns about as little as a dead one",
        "only where a (0, 1) output is the point, such as a probability; not in hidden layers",
    ),
    "tanh": ActivationNote(
        "tanh",
        "(e^z - e^-z) / (e^z + e^-z), a sigmoid stretched to (-1, 1)",
        "yes, at both ends: past |z| ~ 2.6 it is within 0.01 of +-1 and passes almost no gradient",
        "no, but a saturated unit learns about as little as a dead one",
        "try it, but do not expect much over ReLU",
    ),
    "relu": ActivationNote(
        "ReLU",
        "max(0, z)",
        "no for positive input (slope 1); for negative input the slope is 0",
        "yes: a unit pushed below 0 for every input gets no gradient again; a high "
        "learning rate does this to many units at once",
        "the first choice: use ReLU, and be careful with the learning rate",
    ),
    "leaky_relu": ActivationNote(
        "Leaky ReLU",
        "z for z > 0, else slope * z (slope 0.01 by default)",
        "no: the slope is 1 or the small leaky slope, never 0",
        "no: even a unit that is negative for every input still gets slope x gradient",
        "the next thing to try, when ReLU units die",
    ),
    "elu": ActivationNote(
        "ELU",
        "z for z > 0, else alpha * (e^z - 1)",
        "only on the negative side, smoothly, toward -alpha",
        "no: on the negative side the slope shrinks toward 0 but never reaches it",
        "not in the lecture; a smooth ReLU, worth a try like leaky ReLU",
    ),
    "linear": ActivationNote(
        "Linear (no activation)",
        "z",
        "no",
        "no",
        "only as a baseline: next to any nonlinearity on spiral or XOR, it shows what "
        "the nonlinearity buys",
    ),
    "gelu": ActivationNote(
        "GELU",
        "z * Phi(z), in the tanh approximation",
        "no for positive input; tends to 0 for large negative input",
        "hardly: the slope is 0 only far on the negative side",
        "not in the lecture; the transformers' default, dearer than ReLU",
    ),
    "silu": ActivationNote(
        "SiLU (swish)",
        "z * sigmoid(z)",
        "no for positive input; tends to 0 for large negative input",
        "hardly: the slope is 0 only far on the negative side",
        "not in the lecture; a smooth ReLU, dearer to compute",
    ),
    "maxout": ActivationNote(
        "Maxout",
        "max(w1.x + b1, w2.x + b2) over k affine pieces (k = 2 by default)",
        "no: the winning piece is linear",
        "no: the winning piece always passes the gradient",
        "the next thing to try, like leaky ReLU, if the parameters are affordable",
        "k pieces: k x a dense layer's (fan_in + 1) x units; twice at k = 2",
    ),
}


@dataclass(frozen=True)
class InitNote:
    title: str
    draws: str
    keeps: str  # when it keeps the signal through depth
    wrong: str  # what goes wrong, and where
    use_with: str


INIT_NOTES: dict[str, InitNote] = {
    "zeros": InitNote(
        "Zeros",
        "nothing: every weight is 0",
        "never: every unit of a layer computes the same thing",
        "symmetry: all units get the same update and stay identical; with ReLU or tanh "
        "nothing but the output bias ever moves",
        "nothing but biases",
    ),
    "constant": InitNote(
        "Constant",
        "every weight equal to init_scale",
        "never: every unit of a layer computes the same thing",
        "symmetry, as with zeros: the units follow the same direction and stay identical",
        "nothing but biases",
    ),
    "normal": InitNote(
        "Normal",
        "N(0, scale^2), scale = init_scale",
        "when scale is near 1/sqrt(fan_in) (0.125 at fan_in 64)",
        "too small: activations and gradients vanish with depth; too large: tanh and "
        "sigmoid saturate, ReLU activations explode",
        "experiments with the scale",
    ),
    "small_normal": InitNote(
        "Small normal",
        "N(0, 0.01^2)",
        "only in shallow nets: each layer multiplies the std by about 0.01 x sqrt(fan_in) "
        "(0.08 at fan_in 64)",
        "vanishing: activations collapse toward 0 layer by layer, gradients too, and the "
        "network changes slowly",
        "shallow nets, or to watch the signal vanish",
    ),
    "large_normal": InitNote(
        "Large normal",
        "N(0, 1)",
        "never in a wide net: each layer multiplies the std by about sqrt(fan_in) (8 at fan_in 64)",
        "saturation: tanh and sigmoid units stick at their ends and kill the gradients; "
        "ReLU activations and gradients explode",
        "nothing, except to watch saturation",
    ),
    "uniform": InitNote(
        "Uniform",
        "U(-scale, scale), scale = init_scale: std scale / sqrt(3)",
        "when the std is near 1/sqrt(fan_in)",
        "as with normal: too small vanishes, too large saturates or explodes",
        "experiments with the scale",
    ),
    "xavier_normal": InitNote(
        "Xavier (Glorot) normal",
        "N(0, 2 / (fan_in + fan_out))",
        "with tanh (and sigmoid, linear): a layer's output variance matches its input's",
        "with ReLU it is half too small: the std shrinks about x0.7 a layer",
        "tanh",
    ),
    "xavier_uniform": InitNote(
        "Xavier (Glorot) uniform",
        "U(-a, a), a = sqrt(6 / (fan_in + fan_out)): the same std as Xavier normal",
        "with tanh (and sigmoid, linear)",
        "with ReLU the std shrinks about x0.7 a layer",
        "tanh",
    ),
    "he_normal": InitNote(
        "He (Kaiming) normal",
        "N(0, 2 / fan_in)",
        "with ReLU: ReLU zeroes half its inputs, the factor 2 makes up for it",
        "with tanh or sigmoid it is about twice Xavier's variance: more saturation",
        "ReLU, leaky ReLU, maxout",
    ),
    "he_uniform": InitNote(
        "He (Kaiming) uniform",
        "U(-a, a), a = sqrt(6 / fan_in): the same std as He normal",
        "with ReLU",
        "with tanh or sigmoid: more saturation than Xavier",
        "ReLU, leaky ReLU, maxout",
    ),
    "lecun_normal": InitNote(
        "LeCun normal",
        "N(0, 1 / fan_in)",
        "with linear units, and with tanh when layers are about as wide as their input",
        "with ReLU it shrinks the std like Xavier does",
        "linear and SELU-like units",
    ),
    "orthogonal": InitNote(
        "Orthogonal",
        "a random orthogonal matrix: every singular value is 1",
        "exactly through linear layers (norms are preserved), well through tanh",
        "with ReLU the std still shrinks (scale it by sqrt(2) for ReLU)",
        "deep linear or tanh nets",
    ),
}


def _names(kind: str, registry: Iterable[str]) -> str:
    return f"unknown {kind}; valid: {', '.join(registry)}"


def activation_card(name: str) -> Card:
    if name not in ACTIVATIONS or name not in ACTIVATION_NOTES:
        raise KeyError(f"{name!r}: {_names('activation', ACTIVATIONS)}")
    f, note = facts(name), ACTIVATION_NOTES[name]
    centred = "yes" if f.zero_centred else "no (outputs lean positive, so the next layer's"
    if not f.zero_centred:
        centred += " weight updates tend to share one sign and zig-zag)"
    return Card(
        note.title,
        (
            f"Computes: {note.computes}",
            f"Output range: {f.output_range}",
            f"Saturates: {note.saturation}",
            f"Zero-centred: {centred}",
            f"Can die: {note.dies}",
            f"Cost: {f.cost}",
            f"Parameters: {note.parameters}",
            f.note,
            f"Rule of thumb: {note.rule}",
        ),
    )


def init_card(name: str) -> Card:
    if name not in INITIALIZERS or name not in INIT_NOTES:
        raise KeyError(f"{name!r}: {_names('initializer', INITIALIZERS)}")
    note = INIT_NOTES[name]
    lines = [f"Draws: {note.draws}"]
    std = expected_std(name, EXAMPLE_FAN, EXAMPLE_FAN)
    # A std that follows init_scale (normal, uniform) has no example at a fan to give.
    scaled = std != expected_std(name, EXAMPLE_FAN, EXAMPLE_FAN, scale=1.0)
    if std > 0 and not scaled:
        lines.append(f"Std: {std:.3g} at fan_in = fan_out = {EXAMPLE_FAN}")
    lines += [
        f"Keeps the signal: {note.keeps}",
        f"Goes wrong: {note.wrong}",
        f"Use with: {note.use_with}",
    ]
    return Card(note.title, tuple(lines))


def all_cards() -> dict[str, Card]:
    """Every card, keyed "activation:<name>" and "init:<name>", in registry order."""
    cards = {f"activation:{name}": activation_card(name) for name in ACTIVATIONS}
    cards |= {f"init:{name}": init_card(name) for name in INITIALIZERS}
    return cards
