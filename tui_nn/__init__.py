"""tui-nn: a keyboard-driven neural-network lab for the terminal."""

__version__ = "0.1.0"
