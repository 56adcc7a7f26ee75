"""YAML reading that remembers the line of every field.

A finance officer edits the spec by hand, so an error must point at the line. PyYAML's composer
keeps a start mark on every node; :func:`load_with_lines` walks the node tree, builds the plain
Python value and a map from the field path (a tuple of keys and list indices) to its 1-based line.

Mapping keys that YAML would read as a number (``370772:`` or ``0370:``) are kept as the text the
user typed and reported in ``notes``: unit codes are strings, and ``0370`` would otherwise become
the octal number 248.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from .._shared.exceptions import SpecError

_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"


@dataclass
class LinedDocument:
    """A parsed YAML document with the line of every field.

    Attributes
    ----------
    data : object
        The plain Python value (dicts, lists, scalars).
    lines : dict
        ``{path: line}`` with ``path`` a tuple of keys / indices and ``line`` 1-based.
    notes : list of str
        Things the reader changed on the way (numeric keys kept as text), bilingual.
    source : str
        The file name used in messages.
    raw : dict
        ``{path: text}`` of every scalar YAML read as a number, as typed (to recover codes).
    """

    data: Any
    lines: dict[tuple, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    source: str = "<spec>"
    raw: dict[tuple, str] = field(default_factory=dict)

    def line(self, *path: Any) -> int | None:
        """Return the line of ``path`` or of its nearest recorded parent."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), None)

    def where(self, *path: Any) -> str:
        """Return ``"file:line field a.b[0].c"`` for messages."""
        name = path_text(path)
        ln = self.line(*path)
        loc = f"{self.source}:{ln}" if ln is not None else self.source
        return f"{loc} 字段/field `{name}`"


def path_text(path: tuple) -> str:
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out or "<root>"


def load_with_lines(text: str, source: str = "<spec>") -> LinedDocument:
    """Parse one YAML document and record the line of every node.

    Parameters
    ----------
    text : str
        YAML text.
    source : str
        File name for messages.

    Returns
    -------
    LinedDocument

    Raises
    ------
    SpecError
        If the text is not valid YAML (the message gives the line and column).
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
        ctx = getattr(exc, "context_mark", None)
        if ctx is not None and (mark is None or ctx.line != mark.line):
            where += f"（结构始于第 {ctx.line + 1} 行 / the construct started at line {ctx.line + 1}）"
        raise SpecError(
            [
                f"{where}: YAML 语法错误，请检查缩进、冒号和引号 / YAML syntax error, check "
                f"indentation, colons and quotes: {getattr(exc, 'problem', exc)}"
            ],
            header="规则文件无法读取 / The spec file cannot be parsed",
        ) from None
    finally:
        loader.dispose()
    doc = LinedDocument(data=None, source=source)
    if node is None:
        doc.data = {}
        return doc
    doc.data = _walk(loader, node, (), doc)
    return doc


def _walk(loader: yaml.SafeLoader, node: yaml.Node, path: tuple, doc: LinedDocument) -> Any:
    doc.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for knode, vnode in node.value:
            if isinstance(knode, yaml.ScalarNode) and knode.tag in (_INT_TAG, _FLOAT_TAG):
                key: Any = knode.value
                doc.notes.append(
                    f"{source_line(doc, knode)} 键 `{knode.value}` 被 YAML 读作数字，已按文本 "
                    f"\"{knode.value}\" 处理（建议加引号）/ key `{knode.value}` was read by YAML as "
                    f"a number; it is kept as the text \"{knode.value}\" (quote it to be explicit)"
                )
            elif isinstance(knode, yaml.ScalarNode):
                key = loader.construct_object(knode, deep=True)
            else:
                raise SpecError(
                    [f"{source_line(doc, knode)}: 不支持复合键 / complex mapping keys are not allowed"]
                )
            if key in out:
                raise SpecError(
                    [
                        f"{source_line(doc, knode)} 字段/field `{path_text(path + (key,))}`: "
                        f"键重复 / duplicate key `{key}`; 每个键只能出现一次 / keep one entry"
                    ],
                    header="规则文件有问题 / The spec has problems",
                )
            out[key] = _walk(loader, vnode, path + (key,), doc)
            doc.lines[path + (key,)] = knode.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(loader, v, path + (i,), doc) for i, v in enumerate(node.value)]
    if node.tag in (_INT_TAG, _FLOAT_TAG):
        doc.raw[path] = node.value
    return loader.construct_object(node, deep=True)


def source_line(doc: LinedDocument, node: yaml.Node) -> str:
    """Return ``"file:line"`` for a node."""
    return f"{doc.source}:{node.start_mark.line + 1}"
