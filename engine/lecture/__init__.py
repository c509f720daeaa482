"""The lecture on top of a run: scenarios and their judges, depth profiles, the advisor
and the notes cards."""
