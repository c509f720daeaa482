"""docs/config-reference.md, rendered from the schema. Regenerate it with

python -m engine.config.reference > docs/config-reference.md
"""

from __future__ import annotations

from engine.config.schema import Setting, literal
from engine.config.sections import FIELDS, SECTIONS

COMMAND = "python -m engine.config.reference > docs/config-reference.md"

INTRO = f"""\
# Config reference

<!-- Generated from engine/config/sections.py by `{COMMAND}`: do not edit by hand. -->

An experiment has four tables: {", ".join(f"`[{s}]`" for s in SECTIONS)}. In a TOML
experiment file every key is optional and a missing key takes its default. The command line
starts from the defaults, then a `--config FILE`, then the options given; the lab edits the
fields that have a label in its panels. "Used when" says where a field has an effect (the lab
hides it elsewhere). A change to a *live* field applies to the running run in the lab; a
change to any other field starts a new run.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _option(s: Setting) -> str:
    if not s.flag:
        return ""
    if s.kind == "bool":  # a pair of flags on the command line
        return f"`{s.flag}`, `--no-{s.flag[2:]}`"
    return f"`{s.flag}`"


def _row(s: Setting) -> str:
    what = s.help
    if s.when.clauses:
        what += f"; used when {s.when.text()}"
    if s.live:
        what += "; **live**"
    cells = [
        f"`{s.name}`",
        f"`{literal(s.default)}`",
        s.allowed(),
        _option(s),
        f"{s.label} ({s.panel})" if s.label else "",
        what,
    ]
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def render() -> str:
    """The reference as Markdown: one table a section, one row a field."""
    lines = [INTRO]
    for section in SECTIONS:
        lines += [
            f"## [{section}]",
            "",
            "| field | default | allowed | option | lab (panel) | what it is |",
            "|---|---|---|---|---|---|",
            *(_row(s) for s in FIELDS.values() if s.section == section),
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")
