"""Training: a network built from a config (build), the Trainer (trainer) and what it
reports (records), its checkpoint format (checkpoint), the memory guard (memory), the
per-step diagnostics (diagnostics), the bounded metric history (history), members trained
together as one stacked network (stacked), the bounded distributions over time
(distributions), the timeline of events (events), and the retraining check (verify)."""
