"""Training: a network built from a config (build), the Trainer (trainer) and what it
reports (records), its checkpoint format (checkpoint), the memory guard (memory), the
per-step diagnostics (diagnostics) and the bounded metric history (history)."""
