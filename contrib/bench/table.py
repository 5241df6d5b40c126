#!/usr/bin/env python3
"""Parse wrk output into TSV rows, and turn the rows into the benchmark
report (Markdown): medians, each row's ratio to the same web server
serving directly and sherve's to the FastCGI floor in the same setup,
system calls per request, the hot-path measurements and the targets of
issues 6 and 14.

  table.py parse NAME LOAD < wrk-output   >> results.tsv
  table.py report results.tsv DURATION REPEAT
  table.py check results.tsv     exit 1, naming them, if any status check
                                 was wrong or any row had an error

Setup names follow servers.sh: SERVER-direct, sherve-SERVER[-VARIANT],
floor-SERVER[-VARIANT].
"""
import math
import os
import platform
import re
import statistics
import subprocess
import sys

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}
SIZES = {"B": 1 / 2**20, "KB": 1 / 2**10, "MB": 1.0, "GB": 2**10}
NAN = float("nan")
LOADS = {"mixed": "Mixed workload (every asset and alias)",
         "redirects": "Redirects only",
         "small": "Small files only (<= 16 KB)"}
SENDFILE = ("sherve-nginx-xaccel", "sherve-lighttpd-xsendfile",
            "sherve-apache-xsendfile")
BIG = 100000


def ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * UNITS[m.group(2)] if m else NAN


def parse(name, load):
    """One row: name load ok req/s MB/s p50 p99 errors max (ms) non-2xx/3xx
    socket-errors; errors is the sum of the last two."""
    out = sys.stdin.read()
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    tps = re.search(r"Transfer/sec:\s+([\d.]+)(B|KB|MB|GB)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    lat = re.search(r"^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)", out, re.M)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                     r"timeout (\d+)", out)
    if not rps:
        print("%s\t%s\tfailed\t0\t0\t0\t0\t0\t0" % (name, load))
        return
    mbps = float(tps.group(1)) * SIZES[tps.group(2)] if tps else 0.0
    non2xx = int(bad.group(1)) if bad else 0
    sock = sum(int(x) for x in errs.groups()) if errs else 0
    print("%s\t%s\tok\t%s\t%.2f\t%.3f\t%.3f\t%d\t%.3f\t%d\t%d" % (
        name, load, rps.group(1), mbps,
        ms(p50.group(1)) if p50 else NAN,
        ms(p99.group(1)) if p99 else NAN, non2xx + sock,
        ms(lat.group(3)) if lat else NAN, non2xx, sock))


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass

    def ver(cmd):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"
    return [
        "%d cores (%s), %s %s" % (os.cpu_count(), cpu, platform.system(),
                                  platform.release()),
        ver(["nginx", "-v"]), ver(["lighttpd", "-v"]),
        ver(["apache2", "-v"]), ver(["wrk", "--version"]),
    ]


def ratio(a, b):
    if a is None or b is None or not b or math.isnan(a) or math.isnan(b):
        return None
    return a / b


def fmt(x, spec="%.2f"):
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) \
        else spec % x


def floats(xs):
    out = []
    for x in xs:
        try:
            out.append(float(x))
        except ValueError:
            pass
    return out


def server_of(name):
    """lighttpd, nginx or apache, from a setup name (see servers.sh)."""
    if name.endswith("-direct"):
        return name[:-len("-direct")]
    parts = name.split("-")
    return parts[1] if len(parts) > 1 and parts[0] in ("sherve", "floor") \
        else None


class Results:
    def __init__(self, path):
        # rows[(name, load)] = [[req/s, MB/s, p50, p99, errors, max,
        #                        non-2xx/3xx, socket errors], ...]
        self.rows, self.status, self.rss = {}, {}, {}
        self.hot = {}  # kind -> list of the remaining fields
        self.failed = []
        # sys[(load, side)][name][syscall] = (calls, errors)
        self.sys, self.sysrun, self.sysfail = {}, {}, []
        with open(path) as f:
            for line in f:
                p = line.rstrip("\n").split("\t")
                if len(p) < 3:
                    continue
                if p[0] == "hotpath":
                    self.hot.setdefault(p[1], []).append(p[2:])
                elif p[1] == "status":
                    self.status[p[0]] = max(int(p[2]),
                                            self.status.get(p[0], 0))
                elif p[1] == "rss":
                    self.rss[p[0]] = p[2:]
                elif p[1] == "sys" and len(p) >= 7:
                    self.sys.setdefault((p[2], p[3]), {}).setdefault(
                        p[0], {})[p[4]] = (int(p[5]), int(p[6]))
                elif p[1] == "sysrun" and len(p) >= 8:
                    self.sysrun[(p[0], p[2], p[3])] = [int(x)
                                                       for x in p[4:8]]
                elif p[1] == "sysfail":
                    self.sysfail.append("/".join(p[0:1] + p[2:4]))
                elif p[2] == "ok":
                    v = [float(x) for x in p[3:11]]
                    v += [0.0] * (8 - len(v))
                    self.rows.setdefault((p[0], p[1]), []).append(v)
                else:
                    self.failed.append("%s/%s" % (p[0], p[1]))

    def med(self, name, load):
        runs = self.rows.get((name, load))
        return [statistics.median(c) for c in zip(*runs)] if runs else None

    def summed(self, name, load, col):
        """A column summed over the runs: errors must not hide in a
        median."""
        return int(sum(r[col] for r in self.rows.get((name, load), [])))

    def names(self, load):
        return [n for (n, l) in self.rows if l == load]

    def floor_of(self, name, load):
        """The floor row sherve's row is measured against: the same setup
        with the floor, else the plain setup of the same server (marked
        by the second value)."""
        if not name.startswith("sherve-"):
            return None, False
        same = "floor-" + name[len("sherve-"):]
        if (same, load) in self.rows:
            return same, False
        base = "floor-%s" % server_of(name)
        return (base, True) if (base, load) in self.rows else (None, False)


def tables(res):
    print("Each row is compared with the same web server serving the files "
          "itself (`lighttpd-direct`, `nginx-direct`, `apache-direct`): "
          "\"÷ direct\". \"÷ floor\" is sherve's req/s over the FastCGI "
          "floor's in the same setup (`floor-SETUP`: a zero-work responder "
          "in sherve's place, see contrib/bench/README.md); marked * when "
          "it is the floor of the plain setup of that server. The floor "
          "answers files 404 by design, so it is loaded with redirects "
          "only; its own \"÷ direct\" is the floor over the server alone. "
          "Errors are summed over the runs.\n")
    for load, title in LOADS.items():
        base = res.med("nginx-direct", load)
        print("## %s\n" % title)
        print("| setup | req/s | MB/s | p50 ms | p99 ms | non-2xx/3xx | "
              "socket errors | req/s ÷ direct | MB/s ÷ direct | "
              "p99 ÷ direct | req/s ÷ floor | req/s ÷ nginx-direct |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
              "---:|")
        for name in res.names(load):
            m = res.med(name, load)
            d = res.med("%s-direct" % server_of(name), load) or [None] * 8
            fl, other = res.floor_of(name, load)
            f = res.med(fl, load) if fl else None
            print("| %s | %.0f | %.1f | %.3f | %.3f | %d | %d | %s | %s | "
                  "%s | %s | %s |" % (
                      name, m[0], m[1], m[2], m[3],
                      res.summed(name, load, 6), res.summed(name, load, 7),
                      fmt(ratio(m[0], d[0])), fmt(ratio(m[1], d[1])),
                      fmt(ratio(m[3], d[3])),
                      fmt(ratio(m[0], f[0]) if f else None) +
                      ("*" if f and other else ""),
                      fmt(ratio(m[0], base[0]) if base else None)))
        print()


def syscalls(res):
    """System calls per request, one table per load and side."""
    if not res.sys and not res.sysfail:
        return
    print("## System calls per request\n")
    counts = sorted({v[0] for v in res.sysrun.values()})
    print("`contrib/bench/run --syscalls`: `strace -c -f` attached to the "
          "FastCGI responder's processes (sherve or the floor), then in a "
          "second run to the web server's, while curl makes %s requests, "
          "10 at a time on kept connections; calls divided by requests. "
          "Errors (calls that failed, e.g. an `openat` that finds no file) "
          "are in parentheses. strace slows what it traces: counts, not "
          "times. The floor answers files 404.\n"
          % "/".join(str(x) for x in counts))
    for load in ("redirects", "small"):
        for side, what in (("responder", "the FastCGI responder"),
                           ("server", "the web server")):
            calls = res.sys.get((load, side))
            if not calls:
                continue
            # In the order the setups ran.
            names = [k[0] for k in res.sysrun
                     if k[1:] == (load, side) and k[0] in calls]
            per = {}
            for name in names:
                req = res.sysrun[(name, load, side)][0]
                per[name] = {k: (c / req, e / req)
                             for k, (c, e) in calls[name].items()}
            order = sorted({k for v in per.values() for k in v},
                           key=lambda k: -max(v.get(k, (0, 0))[0]
                                              for v in per.values()))
            print("### %s: %s\n" % (LOADS[load], what))
            print("| syscall | " + " | ".join(names) + " |")
            print("|---|" + "---:|" * len(names))
            for k in order:
                cells = []
                for name in names:
                    c, e = per[name].get(k, (0.0, 0.0))
                    cells.append("-" if c == 0 else "%.2f" % c +
                                 (" (%.2f)" % e if e else ""))
                print("| %s | %s |" % (k, " | ".join(cells)))
            print("| **total** | %s |\n" % " | ".join(
                "**%.2f**" % sum(c for c, _ in per[n].values())
                for n in names))
            notes = ["%s: %d processes traced, %d started during the "
                     "requests (not traced)" % (name, r[2], r[3])
                     for name in names
                     for r in [res.sysrun[(name, load, side)]] if r[3]]
            if notes:
                print("Not complete: " + "; ".join(notes) + ".\n")
    if res.sysfail:
        print("strace could not attach: %s.\n" % ", ".join(res.sysfail))


def problems(res):
    """What makes a run fail: wrong answers and errors, one line each."""
    out = ["%s: status check: %d paths answered wrong (not loaded)"
           % (n, b) for n, b in res.status.items() if b]
    for (name, load) in res.rows:
        non2xx, sock = res.summed(name, load, 6), res.summed(name, load, 7)
        if non2xx or sock:
            out.append("%s/%s: %d non-2xx/3xx, %d socket errors"
                       % (name, load, non2xx, sock))
    out += ["%s: wrk gave no result" % f for f in res.failed]
    out += ["hotpath: status check: %s of 50 aliases answered wrong" % r[0]
            for r in res.hot.get("status", []) if r[0] != "0"]
    out += ["%s/%s/%s: %d wrong answers while traced" % (k + (r[1],))
            for k, r in res.sysrun.items() if r[1]]
    out += ["%s: strace could not attach" % f for f in res.sysfail]
    return out


def hotpath(res):
    """Print the Hot path section; return its measured values."""
    hot = res.hot
    v = {}
    print("## Hot path (%d-alias map)\n" % BIG)
    if not hot:
        print("Not run (`hotpath` was not in SETUPS).\n")
        return v
    fresh = [r[0] for r in hot.get("refresh", [])]
    secs = floats(fresh)
    if secs and len(secs) == len(fresh):
        v["refresh"] = statistics.median(secs)
    print("- Refresh of the %d-alias file into a fresh state dir "
          "(`sherve refresh --force`, file:// URL): median %s s of %d "
          "(min %s, max %s); %d failed. Target: <= 2 s."
          % (BIG, fmt(v.get("refresh"), "%.3f"), len(fresh),
             fmt(min(secs) if secs else None, "%.3f"),
             fmt(max(secs) if secs else None, "%.3f"),
             len(fresh) - len(secs)))
    under = [r[0] for r in hot.get("refresh-load", [])]
    usecs = floats(under)
    v["refresh_failed"] = len(under) - len(usecs)
    v["refreshes"] = len(under)
    print("- Refreshes during the loaded runs (rewriting the live store, "
          "alternating two %d-alias maps): %d, median %s s, max %s s; "
          "%d failed." % (BIG, len(under),
                          fmt(statistics.median(usecs) if usecs else None,
                              "%.3f"),
                          fmt(max(usecs) if usecs else None, "%.3f"),
                          v["refresh_failed"]))
    vrows = [r[0] for r in hot.get("versions-refresh", [])]
    vsecs = floats(vrows)
    if vrows:
        store = hot.get("versions-store", [["?", "?"]])[0]
        print("- With keep-versions 10 (each refresh keeps its file and "
              "drops the oldest version in its transaction): %d refreshes "
              "of distinct %d-alias files, median %s s, max %s s; %d "
              "failed. Target: <= 2 s. Store file with %s versions kept: "
              "%s bytes." % (len(vrows), BIG,
                             fmt(statistics.median(vsecs) if vsecs else None,
                                 "%.3f"),
                             fmt(max(vsecs) if vsecs else None, "%.3f"),
                             len(vrows) - len(vsecs), store[1], store[0]))
    if "status" in hot:
        print("- Status check before the loads (50 aliases answering other "
              "than 301): %s." % hot["status"][0][0])
    print()
    print("Redirect-only load over all %d aliases against sherve behind "
          "nginx (`sherve serve`, 2 workers), median of the runs; errors "
          "are summed and max is the largest over the runs:\n" % BIG)
    print("| load | runs | req/s | p50 ms | p99 ms | max ms | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, label in (("hotpath-quiet", "without refreshes"),
                        ("hotpath-refreshing", "with refreshes")):
        runs = res.rows.get((name, "big"))
        if not runs:
            print("| %s | 0 | - | - | - | - | - |" % label)
            continue
        m = res.med(name, "big")
        worst = max(r[5] for r in runs)
        errs = sum(int(r[4]) for r in runs)
        v[name] = (m[3], errs, len(runs))
        v[name + "-max"] = worst
        print("| %s | %d | %.0f | %.3f | %.3f | %.3f | %d |" % (
            label, len(runs), m[0], m[2], m[3], worst, errs))
    print()
    if usecs and "hotpath-refreshing-max" in v:
        print("Longest refresh during a load: %.0f ms; longest request "
              "with refreshes: %.0f ms. A reader blocked for a refresh would "
              "wait about as long as the refresh; a slower p99 with a much "
              "shorter max is the refresh competing for the CPUs.\n"
              % (max(usecs) * 1000, v["hotpath-refreshing-max"]))
    workers = hot.get("worker", [])
    if workers:
        privs = [(int(w[1]), w[0], w[2]) for w in workers]
        v["private"] = max(privs)[0]
        mst = hot.get("master", [["?", "?", "?"]])[0] + ["?", "?"]
        print("Pool workers after the loads (children of the `sherve serve` "
              "master, PID %s, itself %s KiB private, RSS %s KiB), "
              "Private_Clean + Private_Dirty of /proc/PID/smaps_rollup "
              "(pages shared with the master since the fork, and the LMDB "
              "pages both workers map, are not private): %s. Largest: %d KiB "
              "(%.2f MiB); target <= 8 MiB.\n" % (
                  mst[0], mst[1], mst[2],
                  ", ".join("PID %s %d KiB private (RSS %s KiB)" % (p, k, r)
                            for k, p, r in privs),
                  v["private"], v["private"] / 1024))
    else:
        print("Pool workers: not measured.\n")
    return v


def targets(res, hot):
    def row(what, val, goal, ok, light="-"):
        print("| %s | %s | %s | %s | %s |" % (
            what, val, goal,
            "not measured" if ok is None else ("met" if ok else "not met"),
            light))

    def rat(name, load, col):
        m, b = res.med(name, load), res.med("nginx-direct", load)
        li = res.med("lighttpd-direct", load)
        return (ratio(m[col], b[col]) if m and b else None,
                ratio(m[col], li[col]) if m and li else None)

    def cmp(x, goal, ge=True):
        return None if x is None else (x >= goal if ge else x <= goal)

    print("## Targets\n")
    print("### Issue 6\n")
    print("Ratios are to nginx-direct on this run; the last "
          "column is the same ratio to lighttpd-direct.\n")
    print("| target | measured | goal | result | vs lighttpd-direct |")
    print("|---|---:|---:|---|---:|")
    for what, load, col, goal, ge in (
            ("mixed, sherve-nginx req/s", "mixed", 0, 0.7, True),
            ("mixed, sherve-nginx MB/s", "mixed", 1, 0.8, True),
            ("redirect-only, sherve-nginx req/s", "redirects", 0, 0.8, True),
            ("mixed, sherve-nginx p99 latency", "mixed", 3, 2.0, False)):
        r, li = rat("sherve-nginx", load, col)
        row(what, fmt(r, "%.2f" if ge else "%.2fx"),
            (">= %.1f" if ge else "<= %.0fx") % goal,
            cmp(r, goal, ge), fmt(li))
    for name in SENDFILE:
        r, li = rat(name, "mixed", 1)
        row("sendfile mode, mixed MB/s, %s" % name, fmt(r), ">= 0.9",
            cmp(r, 0.9), fmt(li))
    r = hot.get("refresh")
    row("refresh of a %d-alias file (median s)" % BIG, fmt(r, "%.3f s"),
        "<= 2 s", cmp(r, 2.0, False))
    q, w = hot.get("hotpath-quiet"), hot.get("hotpath-refreshing")
    if q and w and hot.get("refreshes"):
        pr = ratio(w[0], q[0])
        ok = (w[1] == 0 and hot.get("refresh_failed") == 0 and
              pr is not None and pr <= 2.0)
        row("readers not blocked during refreshes (redirect p99 with / "
            "without)", "%s (%.3f / %.3f ms), %d errors" % (
                fmt(pr, "%.2fx"), w[0], q[0], w[1]),
            "<= 2x, 0 errors", ok)
    else:
        row("readers not blocked during refreshes", "-", "<= 2x, 0 errors",
            None)
    p = hot.get("private")
    row("worker private RSS, %d-alias map (largest)" % BIG,
        fmt(p / 1024 if p is not None else None, "%.2f MiB"), "<= 8 MiB",
        cmp(p, 8192, False))
    print()
    targets14(res)


# Issue 14: (what, sherve row, the row it is measured against, load, goal).
TARGETS14 = (
    ("redirects, sherve ÷ floor behind lighttpd", "sherve-lighttpd",
     "floor-lighttpd", "redirects", 0.9),
    ("redirects, sherve ÷ floor behind nginx", "sherve-nginx",
     "floor-nginx", "redirects", 0.9),
    ("redirects, sherve ÷ floor behind Apache mod_fcgid", "sherve-apache",
     "floor-apache", "redirects", 0.9),
    ("redirects, sherve ÷ floor behind Apache mod_proxy_fcgi",
     "sherve-apache-proxy", "floor-apache-proxy", "redirects", 0.9),
    ("mixed through sherve, streaming, ÷ lighttpd-direct",
     "sherve-lighttpd", "lighttpd-direct", "mixed", 0.6),
    ("mixed through sherve, X-Sendfile, ÷ lighttpd-direct",
     "sherve-lighttpd-xsendfile", "lighttpd-direct", "mixed", 0.6),
) + tuple(
    ("%s, files first (%s), ÷ %s" % (load, recipe, direct), name, direct,
     load, goal)
    for name, recipe, direct, goal in (
        ("sherve-nginx-static", "nginx sherve-static.conf", "nginx-direct",
         0.9),
        ("sherve-apache-static", "Apache mod_fcgid sherve-static.conf",
         "apache-direct", 0.9),
        ("sherve-apache-proxy-static",
         "Apache sherve-proxy-fcgi-static.conf", "apache-direct", 0.9),
        # Each alias still costs lighttpd a new FastCGI connection:
        # about 0.88 is the arithmetic limit on the bench's corpus.
        ("sherve-lighttpd-static", "lighttpd sherve-static.conf",
         "lighttpd-direct", 0.85))
    for load in ("mixed", "small"))


def targets14(res):
    print("### Issue 14\n")
    print("Requests/s ratios between medians of this run.\n")
    print("| target | measured | goal | result |")
    print("|---|---:|---:|---|")
    for what, name, against, load, goal in TARGETS14:
        m, b = res.med(name, load), res.med(against, load)
        r = ratio(m[0], b[0]) if m and b else None
        print("| %s | %s | >= %.2g | %s |" % (
            what, fmt(r), goal,
            "not measured" if r is None else
            ("met" if r >= goal else "not met")))
    bad = problems(res)
    print("| zero errors in every row, every status checked before the "
          "load | %s | 0 | %s |\n" % (len(bad), "met" if not bad
                                       else "not met"))


def report(path, duration, repeat):
    res = Results(path)
    print("# Benchmarks\n")
    bad = problems(res)
    if bad:
        print("**This run failed its checks** (wrong answers or errors); "
              "its numbers are not to be quoted:\n")
        print("".join("- %s\n" % b for b in bad))
    if not res.rows:
        print("Machine: " + "; ".join(machine()) + "\n")
        syscalls(res)
        return
    print("Generated by `contrib/bench/run`: wrk, 2 threads, 10 connections, "
          "%s s per run, median of %s runs, all on loopback on one machine; "
          "absolute numbers vary with the machine.\n" % (duration, repeat))
    print("Machine: " + "; ".join(machine()) + "\n")
    tables(res)
    print("Status check before each load (paths answering other than "
          "expected, assets also by body length): " +
          ", ".join("%s %s" % kv for kv in res.status.items()) + "\n")
    print("Largest responder process (sherve or the floor) after the "
          "runs, RSS / private KiB: " +
          ", ".join("%s %s" % (n, " / ".join(v)) for n, v in res.rss.items()
                    if v and v[0] != "-") + "\n")
    if res.failed:
        print("wrk failed (no result): " + ", ".join(res.failed) + "\n")
    syscalls(res)
    hot = hotpath(res)
    targets(res, hot)


def check(path):
    bad = problems(Results(path))
    for b in bad:
        print("run: FAILED: %s" % b, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1] == "parse":
        parse(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "check":
        sys.exit(check(sys.argv[2]))
    else:
        report(sys.argv[2], sys.argv[3], sys.argv[4])
