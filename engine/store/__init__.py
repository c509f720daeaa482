"""What goes to disk: experiment files as TOML, run directories, atomic writes."""
