#!/usr/bin/env python3
"""Compare the runs of two initscope results databases config by config.

Used to show that a change of the code changes no stored number: run the same sweep with the
old and the new binary into two databases, then

    tools/compare_runs.py OLD.db NEW.db [--metrics dist_init,epochs,test_error]

Runs are matched by their configuration (the stored JSON with the options that do not change a
result removed: threads, train_eval) and, for several runs of one configuration, by order. It
prints one line per metric with how many runs agree bit for bit, lists every difference, and
exits 1 if any run or value differs. Only Python's standard library is needed.
"""
import argparse
import json
import sqlite3
import sys

EXECUTION = {"threads", "train_eval"}


def runs(path):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    out = {}
    for rid, status, stopped, config in con.execute(
            "SELECT id, status, stopped_by, config FROM runs ORDER BY id"):
        cfg = {k: v for k, v in json.loads(config).items() if k not in EXECUTION}
        metrics = dict(con.execute("SELECT name, value FROM metrics WHERE run_id=?", (rid,)))
        key = json.dumps(cfg, sort_keys=True)
        out.setdefault(key, []).append((status, stopped, metrics))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--metrics", default="dist_init,epochs,steps,test_error,train_loss,margin_min")
    a = ap.parse_args()
    old, new = runs(a.old), runs(a.new)
    names = a.metrics.split(",")
    bad = 0
    if set(old) != set(new):
        print(f"configurations differ: {len(set(old) - set(new))} only in {a.old}, "
              f"{len(set(new) - set(old))} only in {a.new}")
        bad += 1
    same = {n: 0 for n in names}
    total = 0
    for key in sorted(set(old) & set(new)):
        for i, (o, n) in enumerate(zip(old[key], new[key])):
            total += 1
            if o[:2] != n[:2]:
                print(f"status differs: {o[:2]} vs {n[:2]} for {key}")
                bad += 1
            for m in names:
                ov, nv = o[2].get(m), n[2].get(m)
                if ov == nv or (ov != ov and nv != nv):  # equal, or both NaN/NULL
                    same[m] += 1
                else:
                    print(f"{m}: {ov!r} vs {nv!r} for {key}")
                    bad += 1
    for m in names:
        print(f"{m}: {same[m]}/{total} runs identical")
    print(f"{total} runs compared, {bad} differences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
