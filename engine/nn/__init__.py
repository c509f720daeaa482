"""The network itself, CS231n-style: activations, initializers, layer kernels, losses,
optimizers, the MLP and the gradient check. NumPy only: no config, no files."""
