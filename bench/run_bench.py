#!/usr/bin/env python3
"""scripts/bench: the emulator against a ceiling server (cpp-httplib answering a fixed body with
the same settings), driven by the same signing load client, alternating runs so machine drift hits
both. Prints a table and writes build/bench.json. A benchmark, never a test."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
EMULATOR = os.path.join(BUILD, "cdb-sync-emulator")
CEILING = os.path.join(BUILD, "ceiling_server")
CLIENT = os.path.join(BUILD, "load_client")
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))


def start(args):
    """Starts a server; returns (process, port, seconds to its ready line)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    ready = time.perf_counter() - t0
    return proc, json.loads(line)["port"], ready


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def peak_rss_mib(proc):
    with open(f"/proc/{proc.pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def load(port, scenario, connections):
    out = subprocess.run([CLIENT, "--port", str(port), "--connections", str(connections), "--seconds", str(SECONDS),
                          "--scenario", scenario], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def seed_tasks(db, count):
    """Fills a migrated database with `count` tasks (spread over statuses 1, 4, 9) in one statement."""
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(
        """WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
           INSERT INTO tasks (region, job_name, status, src_instance_id, src_region_id, src_db_info,
             is_override_root, dst_instance_id, dst_region_id, dst_zone_id, submit_time, update_time, owner_uin,
             check_at, check_done_at)
           SELECT 'ap-guangzhou', 'seed-' || i, CASE i % 3 WHEN 0 THEN 1 WHEN 1 THEN 4 ELSE 9 END,
             'cdb-5u7czxdx', 1, '[]', 0, 'cdb-ek0t57qd', 4, 200002, 1700000000 + i, 1700000000 + i,
             '100000000001', CASE i % 3 WHEN 0 THEN 0 ELSE 1700000000 + i END,
             CASE i % 3 WHEN 0 THEN 0 ELSE 1700000000 + i END FROM n""", (count,))
    con.commit()
    con.close()


def median(values):
    values = sorted(values)
    return values[len(values) // 2] if values else 0.0


def main():
    results = {"seconds_per_run": SECONDS, "rounds": ROUNDS, "startup": {}, "throughput": [], "rss": {}}
    tmp = tempfile.mkdtemp(prefix="cdbemu-bench-")

    # Startup to the ready line: empty database, then 100,000 tasks.
    empty = [start([EMULATOR, "--port", "0", "--db", os.path.join(tmp, f"empty{i}.db"), "--log-level", "warn"])
             for i in range(5)]
    for proc, _, _ in empty:
        stop(proc)
    results["startup"]["empty_ms"] = median([r for _, _, r in empty]) * 1000
    big_db = os.path.join(tmp, "big.db")
    proc, _, _ = start([EMULATOR, "--port", "0", "--db", big_db, "--log-level", "warn"])
    stop(proc)
    seed_tasks(big_db, 100000)
    runs = []
    for _ in range(5):
        proc, _, ready = start([EMULATOR, "--port", "0", "--db", big_db, "--log-level", "warn"])
        runs.append(ready)
        stop(proc)
    results["startup"]["100k_tasks_ms"] = median(runs) * 1000

    # Throughput: each scenario against the ceiling, alternating, ROUNDS times.
    scenarios = [("create", 1), ("create", 16), ("create", 64), ("list", 16), ("mix", 16)]
    ceiling, ceiling_port, _ = start([CEILING, "128"])
    emulator, port, _ = start([EMULATOR, "--port", "0", "--db", big_db, "--log-level", "warn"])
    for scenario, connections in scenarios:
        ours, theirs = [], []
        for _ in range(ROUNDS):
            theirs.append(load(ceiling_port, "ceiling", connections))
            ours.append(load(port, scenario, connections))
        best = max(ours, key=lambda r: r["rps"])
        ceiling_rps = max(r["rps"] for r in theirs)
        results["throughput"].append({
            "scenario": scenario, "connections": connections, "rps": best["rps"], "ceiling_rps": ceiling_rps,
            "ratio": best["rps"] / ceiling_rps, "p50_ms": best["p50_ms"], "p90_ms": best["p90_ms"],
            "p99_ms": best["p99_ms"], "max_ms": best["max_ms"], "outcomes": best["outcomes"]})
    results["rss"]["peak_mib_after_load"] = peak_rss_mib(emulator)
    stop(emulator)
    stop(ceiling)

    out_path = os.path.join(BUILD, "bench.json")
    with open(out_path, "w") as f:
        json.dump(results, f, indent=2)
    print(f"startup to ready line: empty db {results['startup']['empty_ms']:.1f} ms, "
          f"100,000 tasks {results['startup']['100k_tasks_ms']:.1f} ms")
    print(f"{'scenario':<10}{'conns':>6}{'req/s':>10}{'ceiling':>10}{'ratio':>7}{'p50 ms':>8}{'p90 ms':>8}"
          f"{'p99 ms':>8}{'max ms':>8}  answers")
    for r in results["throughput"]:
        print(f"{r['scenario']:<10}{r['connections']:>6}{r['rps']:>10.0f}{r['ceiling_rps']:>10.0f}{r['ratio']:>7.2f}"
              f"{r['p50_ms']:>8.2f}{r['p90_ms']:>8.2f}{r['p99_ms']:>8.2f}{r['max_ms']:>8.1f}  {r['outcomes']}")
    print(f"peak RSS (100,000 tasks in the db, after the load): {results['rss']['peak_mib_after_load']:.1f} MiB")
    print(f"written: {out_path}")


if __name__ == "__main__":
    sys.exit(main())
