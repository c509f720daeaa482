"""The lab's widgets: config panels, status line, plots and the decision boundary."""
