#!/usr/bin/env python3
"""Generate the deterministic benchmark site: ~150 files with a blog-like
size mix (mean near 240 KB), 50 aliases, and the path lists wrk cycles.

Usage: gen.py OUTDIR
Writes OUTDIR/www/..., OUTDIR/redirects.txt, OUTDIR/nginx-map.conf,
OUTDIR/paths-mixed.txt, paths-redirects.txt, paths-small.txt.

       gen.py big OUTDIR [N]
Writes the hot-path maps: OUTDIR/redirects-big-a.txt and redirects-big-b.txt
(the same N aliases, default 100000, with different targets, so replacing
one by the other rewrites every entry) and OUTDIR/paths-big.txt (every
alias as a request path, shuffled).
"""
import os
import random
import sys

SEED = 20261123
KB = 1024


def sizes(rng):
    """(kind, size) for every file; images scaled to a 240 KB overall mean."""
    out = [("svg", rng.randint(1 * KB, 8 * KB)) for _ in range(30)]
    out += [("html", rng.randint(10 * KB, 60 * KB)) for _ in range(40)]
    out += [("css" if i % 2 else "js", rng.randint(5 * KB, 50 * KB))
            for i in range(20)]
    imgs = [min(3072 * KB, max(20 * KB, int(rng.lognormvariate(11.9, 1.1))))
            for _ in range(60)]
    target = 240 * KB * (len(out) + len(imgs)) - sum(s for _, s in out)
    scale = target / sum(imgs)
    imgs = [min(3072 * KB, max(20 * KB, int(s * scale))) for s in imgs]
    out += [("jpg" if i % 3 else "png", s) for i, s in enumerate(imgs)]
    return out


def text(rng, n):
    words = ("sherve lighttpd nginx apache fastcgi redirect asset etag "
             "static blog post linux debian").split()
    buf = []
    total = 0
    while total < n:
        w = rng.choice(words)
        buf.append(w)
        total += len(w) + 1
    return (" ".join(buf))[:n].encode()


ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
# Top-level names of the site (gen.py OUTDIR): a big-map alias must not
# shadow or be shadowed by one of them.
SITE_NAMES = {"icons", "posts", "css", "js", "img", "index.html"}


def big(out, n):
    """N unique short-link aliases with realistic lengths and two target
    sets; deterministic."""
    rng = random.Random(SEED + n)
    seen = set(SITE_NAMES)
    aliases = []
    while len(aliases) < n:
        a = "".join(rng.choice(ALNUM) for _ in range(rng.randint(5, 10)))
        if a[0].isalpha() and a not in seen:
            seen.add(a)
            aliases.append(a)
    slugs = ("blog", "docs", "talks", "papers", "release-notes", "videos")
    os.makedirs(out, exist_ok=True)
    for variant, host in (("a", "example.com"), ("b", "example.org")):
        trng = random.Random("%d-%s" % (SEED, variant))
        with open(os.path.join(out, "redirects-big-%s.txt" % variant),
                  "w") as f:
            for i, a in enumerate(aliases):
                f.write("%s https://%s/%s/%d/%s\n" % (
                    a, host, trng.choice(slugs), 2000 + i % 27,
                    "".join(trng.choice(ALNUM)
                            for _ in range(trng.randint(6, 24)))))
    paths = ["/" + a for a in aliases]
    rng.shuffle(paths)
    with open(os.path.join(out, "paths-big.txt"), "w") as f:
        f.write("\n".join(paths) + "\n")
    print("big maps: %d aliases, %.1f MB each" % (
        n, os.path.getsize(os.path.join(out, "redirects-big-a.txt")) / 2**20))


def main():
    if sys.argv[1] == "big":
        big(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 100000)
        return
    out = sys.argv[1]
    rng = random.Random(SEED)
    www = os.path.join(out, "www")
    paths, small = [], []
    for i, (kind, size) in enumerate(sizes(rng)):
        sub = {"svg": "icons", "html": "posts", "css": "css", "js": "js",
               "jpg": "img", "png": "img"}[kind]
        name = "index.html" if i == 30 else "f%03d.%s" % (i, kind)
        rel = name if i == 30 else "%s/%s" % (sub, name)
        path = os.path.join(www, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        body = (rng.randbytes(size) if kind in ("jpg", "png")
                else text(rng, size))
        with open(path, "wb") as f:
            f.write(body)
        url = "/" if i == 30 else "/" + rel
        paths.append(url)
        if size <= 16 * KB:
            small.append(url)
    aliases = ["l%02d" % i for i in range(1, 51)]
    with open(os.path.join(out, "redirects.txt"), "w") as f:
        for a in aliases:
            f.write("%s https://example.com/target/%s\n" % (a, a))
    with open(os.path.join(out, "nginx-map.conf"), "w") as f:
        for a in aliases:
            f.write("/%s https://example.com/target/%s;\n" % (a, a))
    lists = {"mixed": paths + ["/" + a for a in aliases],
             "redirects": ["/" + a for a in aliases],
             "small": small}
    for name, items in lists.items():
        with open(os.path.join(out, "paths-%s.txt" % name), "w") as f:
            f.write("\n".join(items) + "\n")
    total = sum(os.path.getsize(os.path.join(d, n))
                for d, _, ns in os.walk(www) for n in ns)
    count = sum(len(ns) for _, _, ns in os.walk(www))
    print("site: %d files, %.0f KB mean, %d aliases, %d small files"
          % (count, total / count / KB, len(aliases), len(small)))


if __name__ == "__main__":
    main()
