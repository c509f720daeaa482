"""A plot as a widget: the strips charts.render_strips draws, shown as they are (no Text
to turn into strips again at every frame). The lab's plots and the compare view's use it."""

from __future__ import annotations

from typing import Any

from textual.strip import Strip
from textual.widget import Widget

from tui_nn.charts import Figure, render_strips


class Chart(Widget):
    DEFAULT_CSS = """
    Chart {
        height: 1fr;
        width: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._strips: list[Strip] = []

    def draw(self, plt: Any, figure: Figure, width: int) -> None:
        """Show plotext's `plt` drawn as `figure` `width` cells wide, in this widget's
        colours (the width is the caller's: a chart just switched into view has none yet)."""
        self._strips = render_strips(plt, figure, width, self.app.console, self.rich_style)
        self.refresh()

    @property
    def text(self) -> str:
        """What the chart shows, as plain text without the rows' padding (tests)."""
        return "\n".join(strip.text.rstrip() for strip in self._strips)

    def render_line(self, y: int) -> Strip:
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width, self.rich_style)
