"""The guided tour: the lecture (DLSG week 3, "Neural Network") in its order, a stop a
topic, each shown by a comparison run side by side (engine.lecture.scenarios.COMPARISONS,
or a scenario beside its counter-example) with its verdicts.

    from engine.lecture.tour import TOUR
    for stop in TOUR: stop.title, stop.text, stop.comparison().runs
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.lecture.scenarios import Comparison, comparison_of


@dataclass(frozen=True)
class Stop:
    title: str
    text: str  # the idea, in our own words
    name: str  # the comparison that shows it (a COMPARISONS or SCENARIOS name)
    look_at: str = ""  # what to look at; "" says the comparison's own

    def comparison(self) -> Comparison:
        return comparison_of(self.name)

    @property
    def what_to_look_at(self) -> str:
        return self.look_at or self.comparison().look_at


TOUR: tuple[Stop, ...] = (
    Stop(
        "One neuron is a line",
        "A neuron weighs its inputs, adds a bias and squashes the sum: z = w.x + b, a = "
        "f(z). Whatever f is, the neuron says one class on one side of the line w.x + b = 0 "
        "and the other class on the other side, so one neuron is a linear classifier. On "
        "data a line can split it is right almost everywhere; on XOR, where opposite "
        "corners share a class, no line works.",
        "single_neuron",
        "Plot 2: the linear set climbs past 95%, XOR stays near 50%. Each boundary is one "
        "straight line.",
    ),
    Stop(
        "Many neurons bend the boundary",
        "Put neurons side by side and feed their outputs to one more. Each hidden unit "
        "draws a line of its own and the output combines them, so the boundary can bend. "
        "In matrix form the hidden layer is z = W x + b, one row of W a unit (m shows "
        "it). Sixteen tanh units solve the XOR that one neuron cannot.",
        "single_neuron_xor",
        "Plot 2: the hidden layer reaches about 100% while the lone neuron stays near "
        "chance; its boundary bends around the corners.",
    ),
    Stop(
        "Sigmoid and tanh saturate",
        "Sigmoid squashes into [0, 1] and tanh into [-1, 1]. Both go flat for large inputs, "
        "and there the slope that backprop multiplies by is near zero: saturation kills "
        "the gradient. Sigmoid's slope is at most 1/4 and its outputs are all positive "
        "(not zero-centred), so on a deep net its gradient fades on the way back. Tanh is "
        "centred on zero and keeps much more of it.",
        "saturation",
    ),
    Stop(
        "ReLU dies; leaky ReLU and maxout do not",
        "ReLU is max(0, z): it does not saturate for positive input, costs almost nothing "
        "and learns fast. But a unit whose input is negative for every sample puts out zero "
        "and gets no gradient: it is dead for good, and a large learning rate kills many. "
        "Leaky ReLU keeps a small slope below zero, maxout takes the larger of two linear "
        "pieces (max(w1.x + b1, w2.x + b2)); neither dies, and maxout pays with twice "
        "the parameters.",
        "dying",
    ),
    Stop(
        "The rule of thumb",
        "Which activation, then? Start with ReLU and be careful with the learning rate. "
        "Leaky ReLU or maxout are worth a try. Try tanh, but do not expect much from it. "
        "Never use sigmoid, except where an output must lie in [0, 1] (a probability). "
        "Here the five train the same net from the same weights and batches.",
        "rule_of_thumb",
        "Plot 2: the ReLU family and tanh pass 95% within the first 50 steps; sigmoid lags "
        "behind for the first 200 steps or so. On this small net tanh keeps up.",
    ),
    Stop(
        "Random initialization",
        "The weights must start different: with zeros every unit of a layer computes and "
        "learns the same thing, for ever. Start too small, N(0, 0.01^2), and the signal "
        "shrinks layer by layer until the gradient vanishes and the net barely changes. "
        "Start too large, N(0, 1), and tanh units saturate. A scale set by the layer's "
        "size keeps the signal alive through depth: Xavier for tanh, He for ReLU (:compare "
        "he_relu shows He beside Xavier on a ReLU net).",
        "init",
    ),
)
