#!/usr/bin/env python3
"""Check a Prometheus text exposition (format 0.0.4) strictly.

Usage: promcheck.py [FILE...]  (standard input without FILE or with "-")
       promcheck.py --self-test (prove it catches a list of defects)

Prints one line per problem, "FILE:LINE: problem", then a summary line
per file, and exits 0 when no file has a problem, 1 otherwise.

Checked, beyond what a lenient parser accepts:
  - the whole text is UTF-8 and ends with a newline; no CR;
  - every sample line is `name{label="value",...} value [timestamp]`
    with a valid metric name, valid and distinct label names, label
    values that use only the escapes \\\\ \\" and \\n, and a float value;
  - every family has exactly one HELP and one TYPE line, both before its
    first sample, and its samples are contiguous (no interleaving);
  - TYPE is one of counter, gauge, histogram, summary, untyped;
  - counter names end in _total and their values are >= 0;
  - no series (name plus label set) appears twice;
  - histograms: per label set, le values strictly increasing, the last
    bucket is le="+Inf", counts are cumulative (never decreasing), the
    +Inf bucket equals _count, and _sum and _count are present.
Standard library only.
"""

import math
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LNAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
NAME_RE = re.compile(NAME + r"\Z")
LNAME_RE = re.compile(LNAME + r"\Z")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
FLOAT_RE = re.compile(
    r"[+-]?(?:Inf|NaN|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\Z")
TS_RE = re.compile(r"-?\d+\Z")


class Problems:
    def __init__(self):
        self.items = []

    def add(self, line, msg):
        self.items.append((line, msg))


def parse_float(s):
    if not FLOAT_RE.match(s):
        return None
    if s.lstrip("+-") == "Inf":
        return -math.inf if s.startswith("-") else math.inf
    if s.lstrip("+-") == "NaN":
        return math.nan
    return float(s)


def parse_labels(s, i, lineno, probs):
    """Parse `{...}` starting at s[i] == '{'. Returns (labels, next index)
    or (None, -1) after recording a problem."""
    labels = []
    i += 1
    n = len(s)
    while True:
        if i < n and s[i] == "}":
            return labels, i + 1
        m = re.compile(LNAME).match(s, i)
        if not m:
            probs.add(lineno, "bad label name at column %d" % (i + 1))
            return None, -1
        lname = m.group(0)
        i = m.end()
        if s[i:i + 2] != '="':
            probs.add(lineno, "label %s: expected =\"" % lname)
            return None, -1
        i += 2
        val = []
        while True:
            if i >= n:
                probs.add(lineno, "label %s: unterminated value" % lname)
                return None, -1
            c = s[i]
            if c == '"':
                i += 1
                break
            if c == "\\":
                nxt = s[i + 1:i + 2]
                if nxt == "\\":
                    val.append("\\")
                elif nxt == '"':
                    val.append('"')
                elif nxt == "n":
                    val.append("\n")
                else:
                    probs.add(lineno, "label %s: invalid escape \\%s"
                              % (lname, nxt))
                    return None, -1
                i += 2
                continue
            if c == "\n":
                probs.add(lineno, "label %s: raw newline" % lname)
                return None, -1
            val.append(c)
            i += 1
        labels.append((lname, "".join(val)))
        if i < n and s[i] == ",":
            i += 1
            continue
        if i < n and s[i] == "}":
            return labels, i + 1
        probs.add(lineno, "label list: expected , or } at column %d"
                  % (i + 1))
        return None, -1


def family_of(name, types):
    """The family a sample name belongs to, given the TYPEs seen."""
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix):
            base = name[: -len(suffix)]
            t = types.get(base)
            if t == "histogram" or (t == "summary" and suffix != "_bucket"):
                return base
    return name


def check(text):
    probs = Problems()
    if text == "":
        probs.add(0, "empty exposition")
        return probs, 0, 0
    if not text.endswith("\n"):
        probs.add(text.count("\n") + 1, "no newline at the end")
    helps, types = {}, {}
    seen_samples = {}   # family -> first sample line
    closed = set()      # families whose block has ended
    current = None
    series = {}
    hist = {}           # (family, labels without le) -> data
    nsamples = 0
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for lineno, line in enumerate(lines, 1):
        if "\r" in line:
            probs.add(lineno, "carriage return")
        if line.strip() == "":
            continue  # the format ignores empty lines
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 2 and parts[1] in ("HELP", "TYPE"):
                if len(parts) < 3 or not NAME_RE.match(parts[2]):
                    probs.add(lineno, "%s without a valid metric name"
                              % parts[1])
                    continue
                fam = parts[2]
                if fam in seen_samples:
                    probs.add(lineno, "%s %s after its samples"
                              % (parts[1], fam))
                if parts[1] == "HELP":
                    if fam in helps:
                        probs.add(lineno, "second HELP for %s" % fam)
                    helps[fam] = lineno
                    help_text = parts[3] if len(parts) > 3 else ""
                    if re.search(r"\\[^\\n]", help_text.replace("\\\\", "")):
                        probs.add(lineno, "HELP %s: invalid escape" % fam)
                else:
                    if fam in types:
                        probs.add(lineno, "second TYPE for %s" % fam)
                    t = parts[3].strip() if len(parts) > 3 else ""
                    if t not in TYPES:
                        probs.add(lineno, "TYPE %s: unknown type '%s'"
                                  % (fam, t))
                    types[fam] = t
                    if t == "counter" and not fam.endswith("_total"):
                        probs.add(lineno, "counter %s does not end in _total"
                                  % fam)
                if current is not None and current != fam:
                    closed.add(current)
                current = fam
            continue
        # A sample.
        m = re.compile(NAME).match(line)
        if not m:
            probs.add(lineno, "sample without a valid metric name")
            continue
        name = m.group(0)
        i = m.end()
        labels = []
        if i < len(line) and line[i] == "{":
            labels, i = parse_labels(line, i, lineno, probs)
            if labels is None:
                continue
        rest = line[i:]
        if not rest.startswith(" "):
            probs.add(lineno, "%s: expected a space before the value" % name)
            continue
        fields = rest.split(" ")[1:]
        if len(fields) not in (1, 2) or fields[0] == "":
            probs.add(lineno, "%s: expected 'value [timestamp]'" % name)
            continue
        value = parse_float(fields[0])
        if value is None:
            probs.add(lineno, "%s: bad value '%s'" % (name, fields[0]))
            continue
        if len(fields) == 2 and not TS_RE.match(fields[1]):
            probs.add(lineno, "%s: bad timestamp '%s'" % (name, fields[1]))
        lnames = [k for k, _ in labels]
        if len(set(lnames)) != len(lnames):
            probs.add(lineno, "%s: repeated label name" % name)
        nsamples += 1
        fam = family_of(name, types)
        if fam not in helps:
            probs.add(lineno, "%s: no HELP before the first sample" % fam)
            helps[fam] = 0
        if fam not in types:
            probs.add(lineno, "%s: no TYPE before the first sample" % fam)
            types[fam] = "untyped"
        if fam in closed:
            probs.add(lineno, "%s: samples not contiguous" % fam)
        if current is not None and current != fam:
            closed.add(current)
        current = fam
        seen_samples.setdefault(fam, lineno)
        key = (name, tuple(sorted(labels)))
        if key in series:
            probs.add(lineno, "duplicate series %s (first on line %d)"
                      % (line.rsplit(" ", len(fields))[0], series[key]))
        else:
            series[key] = lineno
        t = types.get(fam)
        if t == "counter" and not (value >= 0):
            probs.add(lineno, "counter %s is negative or NaN" % name)
        if t == "histogram":
            others = tuple(sorted((k, v) for k, v in labels if k != "le"))
            h = hist.setdefault((fam, others), {
                "buckets": [], "sum": None, "count": None, "line": lineno})
            if name == fam + "_bucket":
                le = dict(labels).get("le")
                lev = parse_float(le) if le is not None else None
                if lev is None:
                    probs.add(lineno, "%s: bucket without a valid le" % name)
                else:
                    h["buckets"].append((lev, value, lineno, le))
            elif name == fam + "_sum":
                h["sum"] = value
            elif name == fam + "_count":
                h["count"] = value
            else:
                probs.add(lineno, "%s: not a histogram sample name" % name)
    for (fam, others), h in sorted(hist.items(), key=lambda kv: kv[1]["line"]):
        where = h["line"]
        b = h["buckets"]
        if not b:
            probs.add(where, "histogram %s%s: no buckets" % (fam, dict(others)))
            continue
        for (le1, c1, _, _), (le2, c2, ln, _) in zip(b, b[1:]):
            if not le2 > le1:
                probs.add(ln, "histogram %s: le not increasing" % fam)
            if c2 < c1:
                probs.add(ln, "histogram %s: bucket counts not cumulative "
                          "(%g < %g)" % (fam, c2, c1))
        if b[-1][0] != math.inf:
            probs.add(b[-1][2], "histogram %s: last bucket is le=\"%s\", "
                      "not +Inf" % (fam, b[-1][3]))
        if h["count"] is None:
            probs.add(where, "histogram %s: no _count" % fam)
        elif b[-1][0] == math.inf and b[-1][1] != h["count"]:
            probs.add(b[-1][2], "histogram %s: +Inf bucket %g != _count %g"
                      % (fam, b[-1][1], h["count"]))
        if h["sum"] is None:
            probs.add(where, "histogram %s: no _sum" % fam)
    for fam in sorted(set(helps) | set(types)):
        if fam not in types:
            probs.add(helps[fam], "%s: HELP without TYPE" % fam)
        if fam not in helps:
            probs.add(0, "%s: TYPE without HELP" % fam)
    return probs, len(set(helps) | set(types)), nsamples


GOOD = """# HELP a_total A counter.
# TYPE a_total counter
a_total{l="x\\"y\\\\z\\n"} 3
# HELP h A histogram.
# TYPE h histogram
h_bucket{le="0.1"} 1
h_bucket{le="1"} 2
h_bucket{le="+Inf"} 3
h_sum 1.5
h_count 3
# HELP g A gauge.
# TYPE g gauge
g -1.5e3
"""

# (what must be found, text): each text is GOOD with one defect.
BAD = [
    ("no newline at the end", GOOD[:-1]),
    ("invalid escape", GOOD.replace('x\\"y', 'x\\qy')),
    ("unterminated value", GOOD.replace('z\\n"} 3', 'z\\n} 3')),
    ("no HELP", GOOD.replace("# HELP g A gauge.\n", "")),
    ("no TYPE", GOOD.replace("# TYPE g gauge\n", "")),
    ("after its samples", GOOD + "# HELP a_total again\n"),
    ("does not end in _total",
     GOOD.replace("a_total", "a_count_of").replace("l=", "l=")),
    ("not cumulative", GOOD.replace('h_bucket{le="1"} 2',
                                    'h_bucket{le="1"} 0')),
    ("not +Inf", GOOD.replace('h_bucket{le="+Inf"} 3\n', "")),
    ("!= _count", GOOD.replace("h_count 3", "h_count 4")),
    ("le not increasing", GOOD.replace('le="1"', 'le="0.05"')),
    ("duplicate series", GOOD.replace("g -1.5e3\n", "g -1.5e3\ng 2\n")),
    ("not contiguous", GOOD + 'a_total{l="other"} 1\n'),
    ("bad value", GOOD.replace("g -1.5e3", "g 12abc")),
    ("negative", GOOD.replace('"} 3', '"} -3')),
    ("repeated label name", GOOD.replace('a_total{l=', 'a_total{m="1",m=')),
    ("unknown type", GOOD.replace("TYPE g gauge", "TYPE g meter")),
]


def self_test():
    """Prove the checker catches each defect and passes the clean text."""
    failed = 0
    probs, _, _ = check(GOOD)
    if probs.items:
        print("not ok - clean text: %s" % probs.items)
        failed += 1
    else:
        print("ok - clean text passes")
    for want, text in BAD:
        probs, _, _ = check(text)
        msgs = "; ".join(m for _, m in probs.items)
        if want in msgs:
            print("ok - finds: %s" % want)
        else:
            print("not ok - finds: %s (got: %s)" % (want, msgs or "nothing"))
            failed += 1
    print("promcheck self-test: %d cases, %d failed" % (len(BAD) + 1, failed))
    return 1 if failed else 0


def check_file(path):
    """Check one file (or "-"); print its problems; return their count."""
    data = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        lineno = data[: e.start].count(b"\n") + 1
        text = data.decode("utf-8", "replace")
        probs, nfam, nsamp = check(text)
        probs.items.insert(0, (lineno, "not UTF-8 (byte offset %d)"
                               % e.start))
    else:
        probs, nfam, nsamp = check(text)
    name = "stdin" if path == "-" else path
    for line, msg in probs.items:
        print("%s:%d: %s" % (name, line, msg))
    print("promcheck: %s: %d families, %d samples, %d problems"
          % (name, nfam, nsamp, len(probs.items)))
    return len(probs.items)


def main(argv):
    if len(argv) == 2 and argv[1] == "--self-test":
        return self_test()
    paths = argv[1:] or ["-"]
    bad = 0
    for path in paths:
        try:
            bad += 1 if check_file(path) else 0
        except OSError as e:
            print("promcheck: %s: %s" % (path, e))
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
