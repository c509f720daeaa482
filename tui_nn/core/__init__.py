"""The lab's core without a UI: the runner and its snapshots, the config fields as the
lab edits them, and the files the lab opens. Nothing here imports textual."""
