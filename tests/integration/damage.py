#!/usr/bin/env python3
"""Damage an LMDB store file in place, as a disk, a copy or a stray write
would, for tests/integration/heal.sh.

Usage: damage.py FILE KIND [NEEDLE]

  truncate  cut the file to half its size (a full disk elsewhere, a
            copy cut short): pages past the end are gone
  zero      overwrite with zeros each page that holds NEEDLE (a byte
            string of the map, e.g. a target URL): what a bad disk
            block reads as
  scribble  overwrite the node area of those pages (past their header
            and pointers) with random bytes (seeded): they still look
            like leaves to LMDB, so only a checksum tells
  header    zero the first header page (page 0)
  empty     truncate the file to 0 bytes

Prints the page numbers it damaged (or the new size). The pages of LMDB
are the system page size (4096 here); a page starts with a 16-byte
header: page number (8 bytes), padding (2), flags (2), lower (2),
upper (2). Standard library only.
"""

import os
import random
import sys

PAGE = os.sysconf("SC_PAGE_SIZE")


def pages_of(data, needle):
    """Every page holding needle: an old copy of the map may linger in
    a freed page, and which copy is live only LMDB knows."""
    pages, at = [], data.find(needle)
    if at < 0:
        sys.exit("damage.py: %r not in the file" % needle)
    while at >= 0:
        if at // PAGE not in pages:
            pages.append(at // PAGE)
        at = data.find(needle, at + 1)
    return pages


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    path, kind = sys.argv[1], sys.argv[2]
    needle = sys.argv[3].encode() if len(sys.argv) > 3 else None
    with open(path, "r+b") as f:
        data = f.read()
        if kind == "truncate":
            n = len(data) // 2
            f.truncate(n)
            print(n)
        elif kind == "empty":
            f.truncate(0)
            print(0)
        elif kind == "header":
            f.seek(0)
            f.write(bytes(PAGE))
            print(0)
        elif kind in ("zero", "scribble"):
            if needle is None:
                sys.exit("damage.py: %s needs a NEEDLE" % kind)
            pages = pages_of(data, needle)
            for pg in pages:
                start = pg * PAGE
                if kind == "zero":
                    f.seek(start)
                    f.write(bytes(PAGE))
                    continue
                lower = int.from_bytes(data[start + 12:start + 14], "little")
                lower = max(16, min(lower, PAGE))
                f.seek(start + lower)
                f.write(random.Random(pg).randbytes(PAGE - lower))
            print(" ".join(str(p) for p in pages))
        else:
            sys.exit("damage.py: unknown kind %s" % kind)
        f.flush()
        os.fsync(f.fileno())


if __name__ == "__main__":
    main()
