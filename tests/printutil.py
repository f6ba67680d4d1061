"""Just enough PDF reading for print tests: the pages of a PDF Chromium wrote, and whether
each one draws anything. No PDF library is installed; Chromium (Skia) writes plain objects
(no object streams) and Flate-compressed content streams, which the standard library reads."""

from __future__ import annotations

import re
import zlib

_OBJECT = re.compile(rb"(?s)(\d+) 0 obj\s*(.*?)\s*endobj")
# Text shown (Tj, TJ), a filled or stroked path (f, f*, B, S) or an image/form drawn (Do).
_DRAWS = re.compile(rb"(?:\bTJ|\bTj|\bDo|\bf\*?|\bB\*?|\bS)\s")


def _objects(pdf: bytes) -> dict[int, bytes]:
    return {int(number): body for number, body in _OBJECT.findall(pdf)}


def _stream(body: bytes) -> bytes:
    """A stream object's data, cut at its /Length (binary data may contain "endstream")."""
    head = re.match(rb"(?s)(<<.*?>>)\s*stream\r?\n", body)
    if not head:
        return b""
    length = int(re.search(rb"/Length\s+(\d+)", head.group(1)).group(1))
    data = body[head.end() : head.end() + length]
    return zlib.decompress(data) if b"/FlateDecode" in head.group(1) else data


def pages(pdf: bytes) -> list[bytes]:
    """The decompressed drawing instructions of each page, in page order."""
    objects = _objects(pdf)
    root = next(body for body in objects.values() if re.search(rb"/Type\s*/Pages\b", body))
    kids = [int(n) for n in re.findall(rb"(\d+) 0 R", re.search(rb"/Kids\s*\[(.*?)\]", root, re.S).group(1))]
    count = int(re.search(rb"/Count\s+(\d+)", root).group(1))
    assert len(kids) == count, "nested page trees are not expected from Chromium"
    out = []
    for kid in kids:
        page = objects[kid]
        assert re.search(rb"/Type\s*/Page\b", page)
        contents = re.search(rb"/Contents\s*(\[.*?\]|\d+ 0 R)", page, re.S)
        refs = [int(n) for n in re.findall(rb"(\d+) 0 R", contents.group(1))] if contents else []
        out.append(b"\n".join(_stream(objects[ref]) for ref in refs))
    return out


def page_count(pdf: bytes) -> int:
    return len(pages(pdf))


def blank_pages(pdf: bytes) -> list[int]:
    """Numbers (from 1) of the pages that draw nothing at all."""
    return [n for n, ops in enumerate(pages(pdf), 1) if not _DRAWS.search(ops + b"\n")]
