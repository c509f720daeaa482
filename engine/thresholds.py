"""Every number the judges, the advisor and the depth profiles decide by, each stated once
with its reason.

DESIGN.md's "Diagnostics, with the thresholds the field uses" gives the field's figures
(CS231n's 40% dead, update/weight ~1e-3, |tanh| > 0.99); the others are set here so that
each scenario shows on its preset and does not on its counter-example (the tests check both).
"""

from __future__ import annotations

WINDOW = 20  # steps a "recent" reading averages, so that one noisy batch does not decide

# ----------------------------------------------------------------------------- units

# A layer is "dying" from this dead-unit share on (a dead unit is zero for every sample of
# the training set). CS231n's figure: up to 40% of a network can die at a high rate.
DEAD = 0.4
MOST = 0.5  # "most units saturated": over half a layer's units, each for most samples
UNSATURATED = 0.1  # a healthy signal has at most this share of saturated units
# A saturated unit: its output this close to the activation's bounds (|tanh| > 0.99, a
# sigmoid under 0.01 or over 0.99) for over MOST_SAMPLES of the samples.
SATURATION = 0.99
MOST_SAMPLES = 0.5
NEAR_ZERO = 0.1  # the local gradient da/dz of a unit that passes "almost no gradient"
IDENTICAL = 1e-4  # largest distance between two units, relative to their size: the same unit
# Machine epsilons of the dtype under which that distance is rounding (BLAS kernels may
# round two equal units' sums apart: 1.3e-7 in float32 after zero init on SkylakeX, 0 on Zen 5).
ROUNDING = 100

# ----------------------------------------------------------------------------- depth

COLLAPSES = 0.5  # activation std shrinks by more than half a layer: the signal collapses
COLLAPSED = 1e-3  # the last hidden layer's std below this has collapsed "toward 0"
HOLDS = (0.85, 1 / 0.85)  # std factor per layer that counts as "roughly constant"
VANISHES = 1e-2  # the first layer's gradient norm under 1% of the last layer's
OFF_CENTRE = 0.25  # a mean activation this far from 0 is "far from zero-centred"

# ----------------------------------------------------------------------------- learning

SLOW = 0.1  # the loss came down by less than 10% of the first loss: slow, or stuck
HEALTHY_UPDATE = (1e-4, 1e-2)  # update/weight ratio a decade either side of 1e-3
UPDATE_LOW = HEALTHY_UPDATE[0]  # below the healthy band: the weights barely move
# Adam takes lr-sized steps for its first ~100 steps (about 1.5e-2 on the default run), so
# the advisor's "far above" starts at 3e-2, above the healthy band.
UPDATE_HIGH = 3e-2
CHANCE_HIGH = 2.0  # first loss over twice ln C: the net starts out overconfident
CHANCE_LOW = 0.5  # first loss under half of ln C: not a fresh net, or the labels leak

# ----------------------------------------------------------------------------- claims

SEPARATES = 0.95  # one neuron on a linearly separable set: training accuracy at least this
NEAR_CHANCE = 0.75  # XOR: a line gets at most about 2/3 right; chance is 1/2
DOUBLES = 2.0  # maxout at k = 2 holds at least twice a dense layer's parameters

# ----------------------------------------------------------------------------- timeline
# engine.train.events marks these as they happen (DEAD, MOST and HEALTHY_UPDATE above too).

DYING = 0.1  # a dead-unit share from which a layer is marked as starting to die
LOSS_WINDOW = 20  # steps the running mean of the batch loss spans (its EMA's span)
LOSS_SPIKE = 3.0  # a batch loss this many times the running mean is a spike ...
SPIKE_FLOOR = 0.1  # ... and at least this share of the first loss above it (tiny losses jitter)
OVERFIT = 0.1  # validation loss this share above its lowest, with the training loss lower
# A ratio that left the healthy band is back only this factor inside it: a ratio hovering
# at an edge (Adam's first steps sit near 1e-2) is one event, not one every sample.
BAND_MARGIN = 2.0
