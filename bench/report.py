#!/usr/bin/env python3
"""Render bench/run.sh's JSON: a text table on stdout, the same table in a
file, and (optionally) the generated section of BENCHMARKS.md."""
import argparse
import json
import re

MIB = 1024.0  # KiB per MiB
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"

# (key, label, unit, factor from the stored unit). Times are stored in
# seconds, memory in KiB.
ROWS = []
for variant, title in (("plain", "busybox bundle, paired runs in alternating order"),
                       ("seccomp", "the same with Podman's seccomp profile"),
                       ("seccomp_cold", "the same, each runtime's compiled-filter cache "
                                        "emptied before every create (a cold compile)"),
                       ("limits", "the same with memory + pids + cpu limits")):
    ROWS.append((f"{title}", None))
    for key, label in (("run.wall", "run /bin/true: wall"),
                       ("run.cpu", "run /bin/true: CPU (user+sys)"),
                       ("cycle.wall", "create+start+wait+delete: wall"),
                       ("cycle.cpu", "create+start+wait+delete: CPU incl. init"),
                       ("create.wall", "create: wall"),
                       ("create.cpu", "create: CPU of the runtime"),
                       ("start.wall", "start: wall"),
                       ("delete.wall", "delete: wall"),
                       ("exec.wall", "exec /bin/true: wall"),
                       ("exec.cpu", "exec /bin/true: CPU")):
        ROWS.append((f"{variant}.{key}", label, "ms", 1000.0))
ROWS += [
    ("Many containers", None),
    ("many.run_seq", "{many} runs in a row (total)", "s", 1.0),
    ("many.create_par", "{many} creates, {parallel} workers (total)", "s", 1.0),
    ("many.delete_par", "{many} deletes --force, {parallel} workers (total)", "s", 1.0),
    ("state.wall", "state ID, {many} containers present: wall", "ms", 1000.0),
    ("state.cpu", "state ID: CPU", "ms", 1000.0),
    ("list.wall", "list, {many} containers present: wall", "ms", 1000.0),
    ("list.cpu", "list: CPU", "ms", 1000.0),
    ("state.hyperfine", "state ID: wall per hyperfine", "ms", 1000.0),
    ("state.hyperfine_cpu_mean", "state ID: CPU per hyperfine (mean)", "ms", 1000.0),
    ("list.hyperfine", "list: wall per hyperfine", "ms", 1000.0),
    ("list.hyperfine_cpu_mean", "list: CPU per hyperfine (mean)", "ms", 1000.0),
    ("Memory (median)", None),
]
for variant in ("plain", "seccomp", "limits"):
    for cmd in ("create", "exec", "run"):
        ROWS.append((f"rss.{variant}.{cmd}", f"peak RSS of {cmd} ({variant}, GNU time)", "MiB", 1 / MIB))
ROWS += [
    ("init.vmrss", "waiting init (created, not started): VmRSS", "MiB", 1 / MIB),
    ("init.vmhwm", "waiting init: VmHWM", "MiB", 1 / MIB),
    ("init.pss", "waiting init: Pss", "MiB", 1 / MIB),
]

# The targets for coracle/crun (or absolute values).
TARGETS = [
    ("run wall ≤ 0.75 × crun", "plain.run.wall", "ratio", 0.75),
    ("run CPU ≤ 0.6 × crun", "plain.run.cpu", "ratio", 0.6),
    ("exec wall ≤ 0.75 × crun", "plain.exec.wall", "ratio", 0.75),
    ("create with Podman seccomp ≤ 0.75 × crun", "seccomp.create.wall", "ratio", 0.75),
    ("the same with a cold filter cache ≤ 0.75 × crun", "seccomp_cold.create.wall", "ratio", 0.75),
    ("peak RSS of the runtime ≤ 2 MiB", "rss.", "rss", 2.0),
    ("waiting init RSS ≤ crun's", "init.vmrss", "ratio", 1.0),
    ("state with 100 containers ≤ 0.5 × crun", "state.wall", "ratio", 0.5),
    ("binary ≤ 2 MiB and static", None, "binary", 2.0),
]


def fmt(x):
    if x is None:
        return "–"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def cell(s, factor=1.0):
    if not s:
        return "–"
    m, lo, hi = (s[k] * factor for k in ("median", "p25", "p75"))
    if s.get("n", 1) < 2 or lo == hi:
        return fmt(m)
    return f"{fmt(m)} ({fmt(lo)}–{fmt(hi)})"


def table_rows(doc, names, others):
    """Header plus rows of strings; section rows have a single element."""
    res = doc["results"]
    head = ["metric", "unit"] + names + [f"{o}/crun" for o in others]
    rows = [head]
    for row in ROWS:
        if row[1] is None:
            rows.append([row[0]])
            continue
        key, label, unit, factor = row
        entry = res.get(key)
        if not entry:
            continue
        line = [label.format(**doc["counts"]), unit]
        for rt in names:
            s = entry["per_runtime"].get(rt)
            line.append(cell(s, factor) if s else ("error" if rt in entry["errors"] else "–"))
        for rt in others:
            line.append(cell(entry["ratio_to_crun"].get(rt)))
        rows.append(line)
    # Drop section headers with nothing under them.
    keep = []
    for i, r in enumerate(rows):
        if len(r) == 1 and (i + 1 == len(rows) or len(rows[i + 1]) == 1):
            continue
        keep.append(r)
    return keep


def binary_rows(doc, names):
    rows = [["runtime", "version", "binary", "linking", "shared libraries"]]
    for rt in names:
        d = doc["runtimes"][rt]
        size = f"{d['size_bytes'] / MIB / MIB:.2f} MiB" if "size_bytes" in d else "–"
        link = "–" if "size_bytes" not in d else "static" if d.get("static") else "dynamic"
        libs = ", ".join(d.get("libs", [])) or "none"
        ver = (d.get("version") or ["?"])[0]
        if "skipped" in d:
            ver += " (skipped)"
        rows.append([rt, ver, size, link, libs])
    return rows


def target_rows(doc, rt="coracle"):
    res, bins = doc["results"], doc["runtimes"]
    rows = [["target (coracle)", "measured", "verdict"]]
    for label, key, kind, limit in TARGETS:
        val, shown = None, "–"
        measured = rt in bins and "skipped" not in bins[rt]
        if kind == "binary" and rt in bins and "size_bytes" in bins[rt]:
            size = bins[rt]["size_bytes"] / MIB / MIB
            val = size if bins[rt].get("static") else float("inf")
            shown = f"{size:.2f} MiB, {'static' if bins[rt].get('static') else 'dynamic'}"
        elif measured:
            if kind == "ratio":
                s = res.get(key, {}).get("ratio_to_crun", {}).get(rt)
                if s:
                    val, shown = s["median"], f"{s['median']:.2f} × crun"
            elif kind == "rss":
                meds = [e["per_runtime"][rt]["median"] for k, e in res.items()
                        if k.startswith(key) and rt in e["per_runtime"]]
                if meds:
                    val = max(meds) / MIB
                    shown = f"{val:.2f} MiB (worst of create/exec/run)"
        verdict = "n/a" if val is None else ("met" if val <= limit else "NOT met")
        rows.append([label, shown, verdict])
    return rows


def text_table(rows):
    width = max(len(r) for r in rows)
    cols = [max((len(r[i]) for r in rows if len(r) == width), default=0) for i in range(width)]
    out = []
    for r in rows:
        if len(r) == 1:
            out.append(f"-- {r[0]}")
        else:
            out.append("  ".join(c.ljust(cols[i]) if i == 0 else c.rjust(cols[i])
                                 for i, c in enumerate(r)).rstrip())
    return "\n".join(out)


def md_table(rows):
    width = len(rows[0])
    out = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * width]
    for r in rows[1:]:
        if len(r) == 1:
            out.append(f"| **{r[0]}** |" + " |" * (width - 1))
        else:
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
    return "\n".join(out)


def problems(doc, names):
    lines = []
    for rt in names:
        if "skipped" in doc["runtimes"][rt]:
            lines.append(f"{rt}: skipped: {doc['runtimes'][rt]['skipped']}")
    for key, entry in doc["results"].items():
        for rt, msg in entry["errors"].items():
            lines.append(f"{rt}: {key}: {msg}")
    return lines


def render(doc):
    every = list(doc["runtimes"])
    names = [r for r in every if "skipped" not in doc["runtimes"][r]]
    others = [r for r in names if r != "crun" and "crun" in names]
    return (table_rows(doc, names, others), binary_rows(doc, every),
            target_rows(doc), problems(doc, every))


def harness(doc):
    res = doc["results"]
    spawn = res.get("harness.spawn", {}).get("per_runtime", {}).get("harness")
    rss = res.get("harness.rss", {}).get("per_runtime", {}).get("harness")
    if not spawn or not rss:
        return ""
    return (f"floors: the harness spawns and reaps /bin/true in {spawn['median'] * 1000:.2f} ms; "
            f"GNU time reports a peak RSS of {rss['median'] / MIB:.2f} MiB for static busybox true")


def text_report(doc):
    main, bins, targets, probs = render(doc)
    m = doc["meta"]
    parts = [f"coracle benchmark, {m['date']}, {m['machine']}",
             f"command: {m['command']}", m.get("load", ""), harness(doc), "",
             text_table(main), "",
             text_table(bins)]
    if "coracle" in doc["runtimes"]:
        parts += ["", text_table(targets)]
    if probs:
        parts += ["", "problems:"] + [f"  {p}" for p in probs]
    return "\n".join(parts) + "\n"


def md_section(doc):
    main, bins, targets, probs = render(doc)
    m, c = doc["meta"], doc["counts"]
    parts = [
        BEGIN,
        "<!-- generated by bench/run.sh: edits between these markers are overwritten -->",
        f"## Latest figures ({m['date']})",
        "",
        f"- machine: {m['machine']}; {m.get('load', '')} (1, 5, 15 min)",
        f"- command: `{m['command']}`",
        f"- counts: {c['runs']} paired iterations (after {c['warmup']} warm-up) per variant, "
        f"{c['many']} containers for the batch figures, {c['parallel']} parallel workers, "
        f"{c['rss_reps']} GNU time runs per peak-RSS figure, {c['hyperfine_runs']} hyperfine runs; "
        f"the whole run took {doc['duration_s']:.0f} s",
        "",
        harness(doc),
        "",
        "Cells are median (25th–75th percentile). Ratios are medians of the per-iteration ratios "
        "of paired runs (for batch and hyperfine figures: ratios of single totals or per-run times).",
        "",
        md_table(main),
        "",
        md_table(bins),
    ]
    if "coracle" in doc["runtimes"]:
        parts += ["", "### Targets", "", md_table(targets)]
    if probs:
        parts += ["", "### Problems met during the run", ""] + [f"- {p}" for p in probs]
    parts.append(END)
    return "\n".join(parts)


def update_doc(path, section):
    text = open(path).read()
    pat = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if pat.search(text):
        text = pat.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    with open(path, "w") as f:
        f.write(text)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("json")
    p.add_argument("--table", help="also write the text table here")
    p.add_argument("--doc", help="regenerate the figures section of this markdown file")
    a = p.parse_args()
    doc = json.load(open(a.json))
    text = text_report(doc)
    print(text, end="")
    if a.table:
        with open(a.table, "w") as f:
            f.write(text)
    if a.doc:
        update_doc(a.doc, md_section(doc))


if __name__ == "__main__":
    main()
