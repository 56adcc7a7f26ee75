"""Compare the words a reader sees on every page of two evidence packs (refactoring guard).

Usage::

    python benchmarks/compare_page_text.py BEFORE_PACK AFTER_PACK

For each ``NN_name.html`` page in both packs (the code pages ``*.code.html`` are skipped), the
visible text of the page (script, style and embedded images left out, whitespace runs collapsed,
one line per block) is compared with the same page of AFTER_PACK; differences are printed as a
unified diff. Build times and the pack's checksum differ by design and are masked. Exit status 1
on any difference. Used when text moves between files (e.g. notebook strings into
``evalkit/report/texts/``) and the pages must not change.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

#: tags whose content is not read on the page
HIDDEN = {"script", "style", "head", "title"}
#: tags that start a new line of text
BLOCKS = {"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "br", "table", "ul", "ol",
          "blockquote", "pre", "section", "figcaption", "caption"}
#: volatile text: timestamps and checksums
MASKS = [(re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?(\.\d+)?([+-]\d{2}:?\d{2}|Z)?"), "<time>"),
         (re.compile(r"\b[0-9a-f]{64}\b"), "<sha256>"),
         (re.compile(r"\b\d+(\.\d+)? ?(s|秒)\b"), "<seconds>")]


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in HIDDEN:
            self.hidden += 1
        if tag in BLOCKS or tag in ("td", "th"):
            self.lines.append("" if tag in BLOCKS else self.lines.pop() + " | ")

    def handle_endtag(self, tag):
        if tag in HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        if tag in BLOCKS:
            self.lines.append("")

    def handle_data(self, data):
        if not self.hidden:
            self.lines[-1] += data


def page_lines(path: Path) -> list[str]:
    """The visible text of one HTML page, one block per line."""
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    out = []
    for line in parser.lines:
        text = " ".join(line.split())
        for pattern, mask in MASKS:
            text = pattern.sub(mask, text)
        if text:
            out.append(text)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    args = ap.parse_args(argv)
    def pages(pack):
        return {p.name for p in pack.glob("*.html") if not p.name.endswith(".code.html")}

    before, after = pages(args.before), pages(args.after)
    for name in sorted(before ^ after):  # e.g. a pack built with --notebooks
        print(f"{name}: only in {args.before if name in before else args.after} (not compared)")
    both = sorted(before & after)
    differing = 0
    for name in both:
        a, b = page_lines(args.before / name), page_lines(args.after / name)
        if a != b:
            differing += 1
            sys.stdout.writelines(line + "\n" for line in difflib.unified_diff(
                a, b, f"before/{name}", f"after/{name}", lineterm="", n=1))
    print(f"{len(both)} pages compared, {differing} differ")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
