#!/usr/bin/env python3
"""Compare the runs of two initscope results databases config by config.

Used to show that a change of the code changes no stored number: run the same sweep with the
old and the new binary into two databases, then

    tools/compare_runs.py OLD.db NEW.db [--metrics dist_init,epochs,test_error]

Runs are matched by their configuration (the stored JSON with the options that do not change a
result removed: threads, train_eval) and, for several runs of one configuration, by order.
Options that only one database's configs have (added by a newer initscope) are left out of the
match when each holds one value in every run of that database (its default, normally), and
listed; otherwise the configurations cannot be matched and that is reported. It
prints one line per metric with how many runs agree bit for bit, lists every difference, and
exits 1 if any run or value differs. Only Python's standard library is needed.
"""
import argparse
import json
import sqlite3
import sys

EXECUTION = {"threads", "train_eval"}


def load(path):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rows = []
    for rid, status, stopped, config in con.execute(
            "SELECT id, status, stopped_by, config FROM runs ORDER BY id"):
        cfg = {k: v for k, v in json.loads(config).items() if k not in EXECUTION}
        metrics = dict(con.execute("SELECT name, value FROM metrics WHERE run_id=?", (rid,)))
        rows.append((cfg, (status, stopped, metrics)))
    return rows


def keyed(rows, drop):
    out = {}
    for cfg, rec in rows:
        key = json.dumps({k: v for k, v in cfg.items() if k not in drop}, sort_keys=True)
        out.setdefault(key, []).append(rec)
    return out


def only_in(rows, other_keys, path):
    """Keys of these rows' configs absent from the other database's: each must be constant."""
    keys = set().union(*(cfg.keys() for cfg, _ in rows)) - other_keys if rows else set()
    for k in sorted(keys):
        values = {json.dumps(cfg.get(k), sort_keys=True) for cfg, _ in rows}
        note = "one value " + values.pop() if len(values) == 1 else f"{len(values)} values: not matched"
        print(f"option {k} only in {path}: {note}")
    return keys


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--metrics", default="dist_init,epochs,steps,test_error,train_loss,margin_min")
    a = ap.parse_args()
    old_rows, new_rows = load(a.old), load(a.new)
    old_keys = set().union(*(c.keys() for c, _ in old_rows)) if old_rows else set()
    new_keys = set().union(*(c.keys() for c, _ in new_rows)) if new_rows else set()
    drop = only_in(old_rows, new_keys, a.old) | only_in(new_rows, old_keys, a.new)
    old, new = keyed(old_rows, drop), keyed(new_rows, drop)
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
