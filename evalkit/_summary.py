"""The object ``summary()`` returns: today's text, shown as text in notebooks.

``summary()`` used to return a plain string, so ``r.summary()`` as the last line of a notebook
cell showed an escaped repr (``'Two-way ...\\n====...'``). :class:`Summary` is a ``str`` (so
``print(r.summary())``, ``in`` and concatenation keep working) that displays itself as the
formatted text in IPython/Jupyter (``_repr_pretty_``, ``_repr_html_``) and at the plain REPL.
"""

from __future__ import annotations

import html


class Summary(str):
    """Readable summary text of a result.

    Examples
    --------
    >>> s = Summary("ATT: 1.2\\nNote: synthetic data")
    >>> print(s)
    ATT: 1.2
    Note: synthetic data
    >>> s
    ATT: 1.2
    Note: synthetic data
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        return f"<pre style=\"white-space: pre; font-family: monospace\">{html.escape(str(self))}</pre>"
