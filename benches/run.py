#!/usr/bin/env python3
"""The comparison harness: crlbatch against its peers, in one run, on the
same generated files. Whole processes, wall time and peak RSS from
/usr/bin/time, median of several runs, warm page cache.

    python3 benches/run.py            # everything (about 20 minutes)
    python3 benches/run.py --quick    # 1M sizes only (under 5 minutes)

Inputs are generated with `crlbatch gen` into benches/cache/ (reused when
present). Results are printed and written to benches/RESULTS.md.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.path.join(HERE, "cache")
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/crlbatch/target"))
BIN = os.path.join(TARGET, "release", "crlbatch")
PEERS_TARGET = os.path.join(TARGET, "peers")
PEERS = os.path.join(PEERS_TARGET, "release", "crlbatch-peers")
AT = "2026-11-26T03:00:00Z"


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def ensure_tools():
    env = dict(os.environ, CARGO_TARGET_DIR=TARGET)
    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "crlbatch"], check=True, cwd=ROOT, env=env)
    # The Rust peers: their own workspace (benches/peers), their own target.
    subprocess.run(["cargo", "build", "--release", "--quiet", "--manifest-path", os.path.join(HERE, "peers", "Cargo.toml")],
                   check=True, cwd=ROOT, env=dict(os.environ, CARGO_TARGET_DIR=PEERS_TARGET))
    try:
        import cryptography  # noqa: F401
        import duckdb  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "cryptography", "duckdb", "pyarrow"], check=True)
    if not shutil.which("openssl"):
        sys.exit("openssl is required (apt-get install openssl)")
    if not os.path.exists("/usr/bin/time"):
        sys.exit("/usr/bin/time is required (apt-get install time)")


def measure(cmd, runs, warm=None, allow_fail=False):
    """Median wall seconds and median peak RSS (MB) of `cmd` over `runs` runs."""
    walls, rss = [], []
    for _ in range(runs):
        if warm:
            for f in warm:
                with open(f, "rb") as fh:
                    while fh.read(1 << 24):
                        pass
        r = subprocess.run(["/usr/bin/time", "-f", "%e %M"] + cmd, capture_output=True, text=True)
        if r.returncode not in (0,):
            if allow_fail:
                # A peer that cannot process the input: reported, not fatal.
                why = next((l for l in r.stderr.splitlines() if l and not l.startswith("Command exited")), "failed")
                return None, why.strip()
            raise SystemExit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-2000:]}")
        wall, kb = r.stderr.strip().splitlines()[-1].split()
        walls.append(float(wall))
        rss.append(int(kb) / 1024)
    return statistics.median(walls), statistics.median(rss)


def gen_crl(n):
    d = os.path.join(CACHE, f"crl-{n}")
    if not os.path.exists(os.path.join(d, "gen.json")):
        sh([BIN, "gen", "--out", d, "--entries", str(n), "--only", "sign-2023"])
    crl = os.path.join(d, "crl", "sign-2023.crl")
    ca = os.path.join(d, "ca", "sign-2023.der")
    pem = os.path.join(d, "ca", "sign-2023.pem")
    if not os.path.exists(pem):
        sh(["openssl", "x509", "-inform", "DER", "-in", ca, "-out", pem])
    return crl, ca, pem


def write_bench_job(d):
    """The job the check benchmarks run: both CAs, the records, out/."""
    with open(os.path.join(d, "job.toml"), "w") as f:
        f.write(
            'name = "bench"\n'
            '[[ca]]\ncert = "ca/sign-2023.der"\ncrl = ["crl/sign-2023.crl"]\n'
            '[[ca]]\ncert = "ca/auth-2023.der"\ncrl = ["crl/auth-2023.crl"]\n'
            '[input]\nrecords = "records"\n[output]\ndir = "out"\n'
        )


def gen_records(n):
    d = os.path.join(CACHE, f"check-{n}")
    if not os.path.exists(os.path.join(d, "gen.json")):
        sh([BIN, "gen", "--out", d, "--entries", str(n // 2), "--only", "sign-2023", "--only", "auth-2023",
            "--records", str(n), "--record-files", "8"])
    write_bench_job(d)
    return d


def human(n):
    return f"{n // 1_000_000}M" if n >= 1_000_000 else str(n)


def ingest_rows(n, runs, slow_runs):
    crl, ca, pem = gen_crl(n)
    size = os.path.getsize(crl)
    out = tempfile.mkdtemp(prefix="crlbatch-bench-")
    rows = []
    tools = [
        ("openssl dgst -sha256 (floor)", ["openssl", "dgst", "-sha256", crl], runs),
        ("crlbatch index (verify+parse+build+persist)",
         [BIN, "index", "--ca", ca, "--crl", crl, "--out", out, "--at", AT], runs),
        ("crlbatch index --file-digest sha256 (also hashes the whole file)",
         [BIN, "index", "--ca", ca, "--crl", crl, "--out", out, "--at", AT, "--file-digest", "sha256"], runs),
        ("openssl crl -noout (parse)", ["openssl", "crl", "-inform", "DER", "-in", crl, "-noout"], slow_runs),
        ("openssl crl -noout -CAfile (parse+verify)",
         ["openssl", "crl", "-inform", "DER", "-in", crl, "-noout", "-CAfile", pem], slow_runs),
        ("pyca/cryptography load+verify+iterate", [sys.executable, os.path.join(HERE, "pyca_crl.py"), crl, ca], slow_runs),
        ("rustls-webpki OwnedCertRevocationList::from_der (parse)", [PEERS, "webpki", crl], slow_runs),
        ("x509-parser parse_x509_crl + iterate (parse)", [PEERS, "x509-parser", crl], slow_runs),
        ("x509-cert CertificateList::from_der + iterate (parse)", [PEERS, "x509-cert", crl], slow_runs),
    ]
    results = {}
    for name, cmd, r in tools:
        res = measure(cmd, r, warm=[crl], allow_fail=cmd[0] == PEERS)
        if res[0] is None:
            print(f"  {human(n)} {name}: FAILED: {res[1]}", flush=True)
            rows.append((f"ingest {human(n)} ({size / 1e6:.0f} MB)", f"{name}: failed ({res[1]})", None, None, None))
            continue
        results[name] = res
        print(f"  {human(n)} {name}: {res[0]:.3f} s, {res[1]:.0f} MB", flush=True)
    idx = [f for f in os.listdir(out) if f.endswith(".crlidx")][0]
    idx_bytes = os.path.getsize(os.path.join(out, idx))
    base = results["crlbatch index (verify+parse+build+persist)"][0]
    for name, (wall, rss) in results.items():
        rows.append((f"ingest {human(n)} ({size / 1e6:.0f} MB)", name, wall, rss, wall / base))
    shutil.rmtree(out)
    return rows, {"entries": n, "crl_bytes": size, "index_bytes": idx_bytes, "index_bytes_per_entry": idx_bytes / n}


def check_rows(n, runs):
    d = gen_records(n)
    job = os.path.join(d, "job.toml")
    records = os.path.join(d, "records", "*.parquet")
    warm = [os.path.join(d, "records", f) for f in os.listdir(os.path.join(d, "records"))]
    # Build the index state once (not timed): the target is the check with the index built.
    sh([BIN, "run", job, "--at", AT])
    crl_wall, crl_rss = measure([BIN, "run", job, "--at", AT], runs, warm=warm)
    manifest = json.load(open(os.path.join(d, "out", "_manifest.json")))
    check_secs = manifest["timings"]["check"]
    revoked = os.path.join(d, "revoked.parquet")
    sh([BIN, "export", "--index", os.path.join(d, "out", "_state"), "--out", revoked])
    tmp = tempfile.mkdtemp(prefix="crlbatch-bench-")
    duck = measure([sys.executable, os.path.join(HERE, "duckdb_check.py"), records, revoked, os.path.join(tmp, "flagged.parquet"), AT, "2"],
                   runs, warm=warm + [revoked])
    rows = [
        (f"check {human(n)} records", "crlbatch run (index built; whole process)", crl_wall, crl_rss, 1.0),
        (f"check {human(n)} records", "DuckDB join from Parquet (records + exported revoked serials)", duck[0], duck[1], duck[0] / crl_wall),
    ]
    pairs = [f"{m['kid']}={os.path.join(d, m['crls'][0]['source'])}" if not os.path.isabs(m['crls'][0]['source']) else f"{m['kid']}={m['crls'][0]['source']}"
             for m in manifest["issuers"]]
    dump = measure(["bash", os.path.join(HERE, "openssl_dump_check.sh"), tmp, AT, records] + pairs, 1, warm=warm)
    rows.append((f"check {human(n)} records", "openssl crl -text → awk → CSV, then the same DuckDB join", dump[0], dump[1], dump[0] / crl_wall))
    shutil.rmtree(tmp)
    return rows, {"records": n, "check_phase_seconds": check_secs, "records_per_second_check_phase": n / check_secs,
                  "records_per_second_whole_process": n / crl_wall, "attention": manifest["counts"]["attention"]}


def gen_records_fixed_crls(n):
    """n records against the same two 5M-entry CRLs as the 10M check
    (the generator is deterministic: same seed and entries, same PKI)."""
    if n == 10_000_000:
        return gen_records(n)
    d = os.path.join(CACHE, f"check-mem-{n}")
    if not os.path.exists(os.path.join(d, "gen.json")):
        sh([BIN, "gen", "--out", d, "--entries", "5000000", "--only", "sign-2023", "--only", "auth-2023",
            "--records", str(n), "--record-files", str(max(1, n // 1_250_000))])
    write_bench_job(d)
    return d


def memory_rows(sizes, runs):
    """Peak memory of the check as the records grow, the CRLs fixed: it
    should stay flat once the result row groups are full (the previous
    run's keys are a mapped file swept a window at a time; this run's
    spill past a bounded buffer)."""
    rows, facts = [], []
    for n in sizes:
        d = gen_records_fixed_crls(n)
        job = os.path.join(d, "job.toml")
        warm = [os.path.join(d, "records", f) for f in os.listdir(os.path.join(d, "records"))]
        # Twice untimed: the index is built and the previous run's keys exist.
        sh([BIN, "run", job, "--at", AT])
        sh([BIN, "run", job, "--at", AT])
        wall, rss = measure([BIN, "run", job, "--at", AT], runs, warm=warm)
        manifest = json.load(open(os.path.join(d, "out", "_manifest.json")))
        keys = os.path.getsize(os.path.join(d, "out", "_state", "flagged.keys"))
        print(f"  memory {human(n)} records: {wall:.3f} s, {rss:.0f} MB", flush=True)
        rows.append(("check, CRLs fixed (2 × 5M entries)", f"crlbatch run, {human(n)} records", wall, rss, None))
        facts.append({"records": n, "peak_mb": rss, "wall": wall, "attention": manifest["counts"]["attention"],
                      "keys_file_bytes": keys})
    base = rows[0][2] if rows else 1.0
    rows = [(w, name, wall, rss, wall / base) for w, name, wall, rss, _ in rows]
    return rows, facts


def scaling_rows(sizes, runs):
    """crlbatch index (default: signature digest only) and the hashing
    floor at each size: the cost should grow linearly."""
    points = []
    for n in sizes:
        crl, ca, _ = gen_crl(n)
        out = tempfile.mkdtemp(prefix="crlbatch-bench-")
        idx = measure([BIN, "index", "--ca", ca, "--crl", crl, "--out", out, "--at", AT], runs, warm=[crl])
        floor = measure(["openssl", "dgst", "-sha256", crl], runs, warm=[crl])
        shutil.rmtree(out)
        print(f"  scaling {human(n)}: crlbatch index {idx[0]:.3f} s {idx[1]:.0f} MB, dgst {floor[0]:.3f} s", flush=True)
        points.append({"entries": n, "bytes": os.path.getsize(crl), "wall": idx[0], "rss": idx[1],
                       "floor_wall": floor[0], "floor_rss": floor[1]})
    rows = []
    for p in points:
        w = f"scaling {human(p['entries'])} ({p['bytes'] / 1e6:.0f} MB)"
        rows.append((w, "crlbatch index (verify+parse+build+persist)", p["wall"], p["rss"], 1.0))
        rows.append((w, "openssl dgst -sha256 (floor)", p["floor_wall"], p["floor_rss"], p["floor_wall"] / p["wall"]))
    return rows, points


def partition_rows(n, parts, runs):
    """The same n entries as one CRL and as `parts` partition CRLs."""
    d = os.path.join(CACHE, f"partitions-{n}-{parts}")
    if not os.path.exists(os.path.join(d, "gen.json")):
        sh([BIN, "gen", "--out", d, "--entries", str(n), "--partitions", str(parts), "--only", "sign-2023"])
    pdir = os.path.join(d, "crl", "sign-2023")
    files = sorted(os.path.join(pdir, f) for f in os.listdir(pdir))
    ca = os.path.join(d, "ca", "sign-2023.der")
    one, one_ca, _ = gen_crl(n)
    out = tempfile.mkdtemp(prefix="crlbatch-bench-")
    single = measure([BIN, "index", "--ca", one_ca, "--crl", one, "--out", out, "--at", AT], runs, warm=[one])
    many = measure([BIN, "index", "--ca", ca, "--out", out, "--at", AT, "--crl"] + files, runs, warm=files)
    floor = measure(["openssl", "dgst", "-sha256"] + files, runs, warm=files)
    shutil.rmtree(out)
    total = sum(os.path.getsize(f) for f in files)
    print(f"  partitions: one CRL {single[0]:.3f} s, {parts} partitions {many[0]:.3f} s", flush=True)
    w = f"partitions {human(n)} entries"
    return [
        (w, f"crlbatch index, one CRL ({os.path.getsize(one) / 1e6:.0f} MB)", single[0], single[1], 1.0),
        (w, f"crlbatch index, {parts} partition CRLs ({total / 1e6:.0f} MB)", many[0], many[1], many[0] / single[0]),
        (w, f"openssl dgst -sha256 over the {parts} partition files (floor)", floor[0], floor[1], floor[0] / single[0]),
    ]


def micro():
    """Criterion micro-benchmarks, short run: name -> (median time, throughput)."""
    env = dict(os.environ, CARGO_TARGET_DIR=TARGET)
    r = subprocess.run(["cargo", "bench", "--quiet", "-p", "crlbatch-bench", "--", "--quick"], cwd=ROOT, env=env,
                       capture_output=True, text=True, check=True)
    res, name = {}, None
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 1 and "/" in parts[0]:
            name = parts[0]
        elif "time:" in parts:
            i = parts.index("time:")
            if i > 0:
                name = parts[0]
            # The first time/thrpt lines after a name are the estimates; later
            # ones (under "change:") compare with the previous run.
            if name not in res:
                res[name] = {"time": " ".join(parts[i + 3:i + 5]).strip("[]")}
        elif "thrpt:" in parts and name in res and "thrpt" not in res[name]:
            i = parts.index("thrpt:")
            res[name]["thrpt"] = " ".join(parts[i + 3:i + 5]).strip("[]")
    return res


def svg_plot(points, path):
    """The scaling curve: wall time and peak memory against entries."""
    W, H, M = 720, 300, 50
    xs = [p["entries"] for p in points]
    xmax = max(xs) * 1.05

    def panel(x0, title, series, unit):
        ymax = max(v for _, vals, _ in series for v in vals) * 1.15
        px = lambda x: x0 + M + (x / xmax) * (W / 2 - 2 * M)
        py = lambda y: H - M - (y / ymax) * (H - 2 * M)
        out = [f'<text x="{x0 + W / 4}" y="20" text-anchor="middle" font-size="14">{title}</text>',
               f'<line x1="{px(0)}" y1="{py(0)}" x2="{px(xmax)}" y2="{py(0)}" stroke="black"/>',
               f'<line x1="{px(0)}" y1="{py(0)}" x2="{px(0)}" y2="{py(ymax)}" stroke="black"/>']
        for k in range(5):
            y = ymax * k / 4
            out.append(f'<text x="{px(0) - 6}" y="{py(y) + 4}" text-anchor="end" font-size="10">{y:.2f}</text>' if ymax < 10
                       else f'<text x="{px(0) - 6}" y="{py(y) + 4}" text-anchor="end" font-size="10">{y:.0f}</text>')
        for x in xs:
            out.append(f'<text x="{px(x)}" y="{py(0) + 14}" text-anchor="middle" font-size="10">{human(x)}</text>')
        out.append(f'<text x="{x0 + W / 4}" y="{H - 8}" text-anchor="middle" font-size="11">CRL entries</text>')
        out.append(f'<text x="{x0 + 12}" y="{H / 2}" font-size="11" transform="rotate(-90 {x0 + 12} {H / 2})" text-anchor="middle">{unit}</text>')
        for j, (label, vals, color) in enumerate(series):
            pts = " ".join(f"{px(x):.1f},{py(v):.1f}" for x, v in zip(xs, vals))
            out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"/>')
            out += [f'<circle cx="{px(x):.1f}" cy="{py(v):.1f}" r="3" fill="{color}"/>' for x, v in zip(xs, vals)]
            out.append(f'<text x="{px(0) + 10}" y="{40 + 14 * j}" font-size="11" fill="{color}">{label}</text>')
        return out

    body = panel(0, "wall time (s)", [("crlbatch index", [p["wall"] for p in points], "#c0392b"),
                                      ("openssl dgst -sha256 (floor)", [p["floor_wall"] for p in points], "#7f8c8d")], "seconds")
    body += panel(W / 2, "peak memory (MB)", [("crlbatch index", [p["rss"] for p in points], "#c0392b"),
                                              ("CRL file size", [p["bytes"] / 1e6 for p in points], "#7f8c8d")], "MB")
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif">',
           '<rect width="100%" height="100%" fill="white"/>'] + body + ["</svg>"]
    with open(path, "w") as f:
        f.write("\n".join(svg) + "\n")


def lookups():
    env = dict(os.environ, CARGO_TARGET_DIR=TARGET)
    r = subprocess.run(["cargo", "bench", "--quiet", "-p", "crlbatch-index", "--bench", "lookup"], cwd=ROOT, env=env,
                       capture_output=True, text=True, check=True)
    return dict(line.split() for line in r.stdout.strip().splitlines())


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    mem = next((int(l.split()[1]) // (1024 * 1024) for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
    lock = open(os.path.join(HERE, "peers", "Cargo.lock")).read()

    def locked(name):
        i = lock.find(f'name = "{name}"')
        return lock[i:].split("\n")[1].split('"')[1] if i >= 0 else "?"

    versions = {
        "crlbatch": sh([BIN, "--version"]).stdout.strip().removeprefix("crlbatch "),
        "rustls-webpki": locked("rustls-webpki"),
        "x509-parser": locked("x509-parser"),
        "x509-cert": locked("x509-cert"),
        "openssl": sh(["openssl", "version"]).stdout.strip(),
        "python": platform.python_version(),
    }
    import cryptography
    import duckdb
    versions["cryptography"] = cryptography.__version__
    versions["duckdb"] = duckdb.__version__
    return f"{os.cpu_count()} cores, {mem} GiB, {cpu}", versions


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="1M sizes only")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    os.makedirs(CACHE, exist_ok=True)
    ensure_tools()
    sizes = [1_000_000] if args.quick else [1_000_000, 10_000_000]
    rows, facts = [], {"ingest": [], "check": []}
    for n in sizes:
        print(f"ingest {human(n)}", flush=True)
        r, f = ingest_rows(n, args.runs, 1 if n >= 10_000_000 else args.runs)
        rows += r
        facts["ingest"].append(f)
    for n in sizes:
        print(f"check {human(n)}", flush=True)
        r, f = check_rows(n, args.runs)
        rows += r
        facts["check"].append(f)
    print("scaling", flush=True)
    srows, points = scaling_rows([1_000_000] if args.quick else [1_000_000, 3_000_000, 10_000_000, 30_000_000], args.runs)
    rows += srows
    mem_facts = []
    if not args.quick:
        print("partitions", flush=True)
        rows += partition_rows(10_000_000, 1700, args.runs)
        print("memory vs records", flush=True)
        mrows, mem_facts = memory_rows([1_000_000, 10_000_000, 20_000_000, 40_000_000], args.runs)
        rows += mrows
    svg_plot(points, os.path.join(HERE, "scaling.svg"))
    mc = {} if args.quick else micro()
    lk = lookups()
    mach, versions = machine()
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cmd = "python3 benches/run.py" + (" --quick" if args.quick else "")
    lines = [
        "# Benchmark results",
        "",
        f"- date: {date}",
        f"- machine: {mach}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        f"- command: `{cmd}` (whole processes, /usr/bin/time, median of {args.runs} runs; "
        "the slow peers at 10M: 1 run; warm page cache)",
        "- scaling plot: [`scaling.svg`](scaling.svg) (written by the same run)",
        "",
        "| workload | tool | wall (s) | peak RSS (MB) | ratio to crlbatch |",
        "|---|---|---:|---:|---:|",
    ]
    for w, name, wall, rss, ratio in rows:
        if wall is None:
            lines.append(f"| {w} | {name} | — | — | — |")
        else:
            lines.append(f"| {w} | {name} | {wall:.3f} | {rss:.0f} | {ratio:.2f} |")
    lines += ["", "Ratios: the ingest rows are relative to `crlbatch index` (default: no whole-file digest), the check rows to `crlbatch run`, "
              "the scaling rows to `crlbatch index` at the same size, the partition rows to one CRL, "
              "the memory rows to the smallest record count.", "",
              "![scaling](scaling.svg)", ""]
    for f in facts["ingest"]:
        lines.append(f"- index at {human(f['entries'])} entries: {f['index_bytes']} bytes, "
                     f"{f['index_bytes_per_entry']:.2f} bytes per entry (CRL {f['crl_bytes']} bytes)")
    for f in facts["check"]:
        lines.append(f"- check at {human(f['records'])} records: check phase {f['check_phase_seconds']:.2f} s "
                     f"({f['records_per_second_check_phase'] / 1e6:.2f} M records/s), whole process "
                     f"{f['records_per_second_whole_process'] / 1e6:.2f} M records/s; {f['attention']} records need attention")
    for f in mem_facts:
        lines.append(f"- check memory at {human(f['records'])} records (CRLs fixed): peak {f['peak_mb']:.0f} MB, "
                     f"{f['attention']} records need attention, previous-run keys file {f['keys_file_bytes']} bytes (mapped, swept about 1 MiB at a time)")
    lines.append("- index lookups, one core, 10M entries, random probes (`cargo bench -p crlbatch-index --bench lookup`): "
                 + ", ".join(f"{k} {int(v) / 1e6:.1f} M/s" for k, v in lk.items() if k != "entries"))
    if mc:
        lines += ["", "Micro-benchmarks (`cargo bench -p crlbatch-bench -- --quick`, criterion, one core; "
                  "1M-entry inputs, 250,000-record row group):", "", "| benchmark | median time | throughput |", "|---|---:|---:|"]
        lines += [f"| {k} | {v.get('time', '')} | {v.get('thrpt', '')} |" for k, v in mc.items()]
    text = "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(HERE, "RESULTS.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
