"""CRC-32 checksums of the vector files, recorded in SQLite when the bytes are written.

Why: a flipped byte in a code file does not make search fail, it makes it return the wrong
neighbours. Every vector file is therefore checksummed as it is written, and the checksum is
committed in the same SQLite transaction that makes the file (or the appended rows) live:

* an immutable file (a segment's ``.keys.npy``/``.codes``/``.ids``/``.exact``, a codec file,
  ``vocab_static.faiss``) has one row: offset 0, its whole size;
* a tail file grows chunk by chunk: one row per appended chunk (offset, bytes).

Segment runs also carry a CRC per block in their key table (see ``SortedRun``), so a search
verifies exactly the blocks it reads. ``senseindex check`` verifies everything.
CRC-32 (zlib) detects damage, not tampering: it runs at memory speed, which is what lets a
reader verify what it maps.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from pathlib import Path

READ = 1 << 22  # bytes per read when checksumming a file


@dataclass(frozen=True)
class Piece:
    """A checksummed byte range of one file."""

    offset: int
    size: int
    crc: int


Sums = dict[str, list[Piece]]  # file name (in the index folder) -> pieces, by offset


def crc(data, value: int = 0) -> int:
    """CRC-32 of a bytes-like object (a contiguous numpy array too), continuing `value`."""
    return zlib.crc32(memoryview(data).cast("B") if not isinstance(data, bytes) else data, value) & 0xFFFFFFFF


def crc_file(path: Path, offset: int = 0, size: int | None = None) -> int:
    """CRC-32 of `size` bytes of a file from `offset` (to its end when None), read in pieces."""
    value = 0
    with open(path, "rb") as fh:
        fh.seek(offset)
        left = size if size is not None else os.fstat(fh.fileno()).st_size - offset
        while left > 0:
            buf = fh.read(min(READ, left))
            if not buf:
                break
            value = zlib.crc32(buf, value)
            left -= len(buf)
    return value & 0xFFFFFFFF


def whole(path: Path) -> Piece:
    """The one piece of an immutable file."""
    return Piece(0, path.stat().st_size, crc_file(path))


def has_table(db) -> bool:
    return bool(db.execute("select 1 from sqlite_master where type = 'table' and name = 'checksums'").fetchone())


def load(db) -> Sums:
    """Every recorded checksum (an index made before checksums existed has none)."""
    out: Sums = {}
    if not has_table(db):
        return out
    for name, offset, size, value in db.execute("select file, offset, bytes, crc32 from checksums order by file, offset"):
        out.setdefault(name, []).append(Piece(int(offset), int(size), int(value)))
    return out


def record(db, sums: Sums) -> None:
    """Store pieces (inside the caller's transaction)."""
    db.conn.executemany("insert or replace into checksums (file, offset, bytes, crc32) values (?, ?, ?, ?)",
                        [(name, p.offset, p.size, p.crc) for name, pieces in sums.items() for p in pieces])


def forget(db, keep: set[str], prefixes: tuple[str, ...] = ("tail-", "seg-", "codec-")) -> None:
    """Drop the checksums of vector files no longer live (inside the caller's transaction)."""
    names = [r[0] for r in db.execute("select distinct file from checksums")]
    gone = [(n,) for n in names if n.startswith(prefixes) and n not in keep]
    db.conn.executemany("delete from checksums where file = ?", gone)


def verify(path: Path, pieces: list[Piece], committed: int | None = None) -> str | None:
    """What is wrong with a file against its pieces (None: nothing). `committed` is the size the
    pieces must cover (a tail file may hold uncommitted bytes past it, which the next writer cuts)."""
    if not path.is_file():
        return "missing"
    size = path.stat().st_size
    end = committed if committed is not None else (pieces[-1].offset + pieces[-1].size if pieces else size)
    if size < end:
        return f"truncated: {size:,} bytes, {end:,} expected"
    if committed is None and size != end:
        return f"{size:,} bytes, {end:,} expected"
    at = 0
    for p in pieces:
        if p.offset + p.size > end:
            break
        if p.offset != at:
            return f"no checksum for bytes {at:,} to {p.offset:,}"
        if crc_file(path, p.offset, p.size) != p.crc:
            return f"checksum mismatch in bytes {p.offset:,} to {p.offset + p.size:,} (damaged)"
        at = p.offset + p.size
    if pieces and at != end:
        return f"no checksum for bytes {at:,} to {end:,}"
    return None


NEXT = ".next"  # suffix of the checksum of a file about to replace one of a fixed name


def replace_file(db, tmp: Path, dest: Path) -> None:
    """Swap a new version of a fixed-name file in, its checksum recorded on either side of the
    rename (a crash between leaves the file matching one of the two rows; see `verify_named`)."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    with db.conn:
        record(db, {dest.name + NEXT: [whole(tmp)]})
    tmp.replace(dest)
    with db.conn:
        db.conn.execute("delete from checksums where file = ?", [dest.name])
        db.conn.execute("update checksums set file = ? where file = ?", [dest.name, dest.name + NEXT])


def verify_named(path: Path, sums: Sums) -> str | None:
    """`verify` for a fixed-name file: it may match its checksum or the one of its replacement."""
    pieces, following = sums.get(path.name), sums.get(path.name + NEXT)
    if not pieces and not following:
        return None
    problems = [verify(path, p) for p in (pieces, following) if p]
    return None if None in problems else problems[0]
