#!/usr/bin/env python3
"""genmap.py FORMAT BYTES OUT: write a deterministic redirects file of
about BYTES bytes to OUT and print its number of rules.

FORMAT "gosherve": "alias https://example.org/path" lines, short-link
aliases of 5 to 12 characters; "redirects": a Netlify _redirects file of
"/alias /path-or-URL [status]" lines. Lines average about 55 bytes, about
the shortest a real map has: the per-rule costs of a refresh weigh most.
"""
import sys

WORDS = ("docs blog post archive news page item guide media 2024 2025 "
         "a b talks").split()


def line(fmt, i):
    h = (i * 2654435761) & 0xFFFFFFFF
    alias = "%x%s" % (i, "abcdefg"[: h % 8])
    path = "/".join(WORDS[(h >> s) % len(WORDS)] for s in range(0, 8 * (1 + h % 4), 8))
    if fmt == "gosherve":
        return "%s https://example.org/%s/%d\n" % (alias, path, i)
    target = "/%s/%d" % (path, i) if i % 2 else \
        "https://example.org/%s/%d" % (path, i)
    return "/%s %s%s\n" % (alias, target, ("", " 301", " 302", " 308")[h % 4])


def main():
    fmt, size, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if fmt not in ("gosherve", "redirects"):
        sys.exit("genmap.py: FORMAT is gosherve or redirects")
    total = n = 0
    with open(out, "w") as f:
        while total < size:
            chunk = [line(fmt, i) for i in range(n, n + 10000)]
            n += len(chunk)
            s = "".join(chunk)
            f.write(s)
            total += len(s)
    print(n)


if __name__ == "__main__":
    main()
