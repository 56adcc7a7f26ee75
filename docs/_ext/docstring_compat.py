"""Read two non-standard section headers of evalkit docstrings as numpydoc's ``Attributes``.

numpydoc knows a fixed set of section names and drops any other section with a warning. A few
result classes head their extra fields "Extra Attributes" or "Attributes (beyond :class:`...`)";
this handler renames those headers before numpydoc parses the docstring, so the fields are
rendered instead of lost. (The lasting fix is to write ``Attributes`` in those docstrings.)
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^(\s*)(Extra Attributes|Attributes \(beyond .*\))\s*$")


def rename_sections(app, what, name, obj, options, lines) -> None:
    for i, line in enumerate(lines[:-1]):
        match = _HEADER.match(line)
        if match and set(lines[i + 1].strip()) == {"-"}:
            lines[i] = f"{match.group(1)}Attributes"
            lines[i + 1] = f"{match.group(1)}{'-' * len('Attributes')}"


def setup(app):
    # numpydoc parses in its own autodoc-process-docstring handler (priority 500): run before it.
    app.connect("autodoc-process-docstring", rename_sections, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
