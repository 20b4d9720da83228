"""A results table of DVC experiments: chosen params and metrics, seeds pooled.

Reads `dvc exp show --json` (run here, or a saved file with `--json`) and writes a markdown
table with one row per configuration: experiments whose params differ only in the seed
(`--seed-param`, default `train.seed`) are one configuration, and each metric is given as
mean ± sd (n) with a 95 % t interval of the mean over its seeds; a configuration of one run shows
its value. The params shown are `--params`, or else those that differ between the experiments.
Metrics are named FILE:KEY (e.g. `models/A1/40-40/summary.json:best_val.f0`,
`metrics/evaluation.json:A1/40-40.test_qda.value`), or KEY alone where one metrics file has it.

    dvc exp run --queue -S train.seed=1 -S profiles.default.model.maps=16  # one per seed, setting
    dvc queue start                 # then, when `dvc queue status` shows them done:
    python experiments/exp_table.py --metrics metrics/evaluation.json:A1/40-40.test_qda.value \\
        --out experiments/results/exp_table.md

A profile's values win over the shared ones: set what the active profile sets under
`profiles.<profile>.` (the default profile's model width is `profiles.default.model.maps`).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

from bassnet.atomic import write_text


class Experiment(NamedTuple):
    """One row of `dvc exp show --json`: its name, params (dotted keys) and metric files."""

    name: str
    rev: str
    params: dict  # "train.seed" -> 0, over every params file (a key of another file: "file:key")
    metrics: dict  # metrics file -> its data


def flatten(data, prefix: str = "") -> dict:
    """Nested mappings as {dotted key: value}; lists stay values."""
    if not isinstance(data, dict):
        return {prefix: data}
    out: dict = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        out.update(flatten(value, name) if isinstance(value, dict) and value else {name: value})
    return out


def _experiment(entry: dict, name: str) -> Experiment:
    data = entry.get("data") or {}
    params: dict = {}
    for file, content in (data.get("params") or {}).items():
        flat = flatten((content or {}).get("data") or {})
        prefix = "" if file == "params.yaml" else f"{file}:"
        params.update({prefix + k: v for k, v in flat.items()})
    metrics = {f: (c or {}).get("data") or {} for f, c in (data.get("metrics") or {}).items()}
    return Experiment(name, entry.get("rev", ""), params, metrics)


def experiments(shown: list, baseline: bool = False) -> list[Experiment]:
    """The experiments of `dvc exp show --json` output that ran (each commit's, and the commits
    themselves with `baseline`); the workspace row is left out: it repeats an applied one."""
    if not isinstance(shown, list):
        raise ValueError("not `dvc exp show --json` output (a list of commits)")
    out = []
    for commit in shown:
        if commit.get("rev") == "workspace":
            continue
        if baseline and not commit.get("error"):
            out.append(_experiment(commit, commit.get("name") or commit.get("rev", "")[:7]))
        for group in commit.get("experiments") or []:
            state = (group.get("executor") or {}).get("state", "success")
            for rev in group.get("revs") or []:
                if rev.get("error") or state not in ("success", None):
                    continue  # failed or still queued: no results
                out.append(_experiment(rev, rev.get("name") or rev.get("rev", "")[:7]))
    return out


def metric(exp: Experiment, name: str):
    """The value of metric `name` (FILE:KEY or KEY) in `exp`, None where absent; a ValueError
    where a bare KEY is in several files."""
    file, _, key = name.rpartition(":")
    files = [file] if file else [f for f in exp.metrics if key in flatten(exp.metrics[f])]
    if len(files) > 1:
        raise ValueError(f"metric {key} is in {', '.join(files)}: name one as FILE:{key}")
    if not files:
        return None
    value = flatten(exp.metrics.get(files[0], {})).get(key)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class Summary(NamedTuple):
    """A metric over one configuration's seeds."""

    n: int
    mean: float
    sd: float  # sample standard deviation (n - 1); nan for one run
    low: float  # 95 % t interval of the mean; nan for one run
    high: float

    def text(self, digits: int) -> str:
        if self.n == 0:
            return "–"
        if self.n == 1:
            return f"{self.mean:.{digits}f}"
        return (f"{self.mean:.{digits}f} ± {self.sd:.{digits}f} [{self.low:.{digits}f}, "
                f"{self.high:.{digits}f}] (n={self.n})")  # fmt: skip


def summarise(values: list[float]) -> Summary:
    """Mean, sd and the 95 % t interval of the mean of `values` (NaN and None left out)."""
    from scipy.stats import t

    values = [float(v) for v in values if v is not None and math.isfinite(v)]
    n = len(values)
    if n == 0:
        return Summary(0, math.nan, math.nan, math.nan, math.nan)
    mean = sum(values) / n
    if n == 1:
        return Summary(1, mean, math.nan, math.nan, math.nan)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return Summary(n, mean, sd, mean - half, mean + half)


def configurations(exps: list[Experiment], seed_param: str) -> list[list[Experiment]]:
    """The experiments grouped by their params without `seed_param`, in order of appearance;
    a group holding one seed twice is an error (the same run counted twice)."""
    groups: dict[str, list[Experiment]] = {}
    for exp in exps:
        key = json.dumps({k: v for k, v in exp.params.items() if k != seed_param},
                         sort_keys=True, default=str)  # fmt: skip
        groups.setdefault(key, []).append(exp)
    for group in groups.values():
        seeds = [e.params.get(seed_param) for e in group]
        if len(set(map(str, seeds))) < len(seeds):
            names = ", ".join(e.name for e in group)
            raise ValueError(f"experiments {names} share params and {seed_param}: "
                             "remove the duplicates (`dvc exp remove`)")  # fmt: skip
    return list(groups.values())


def varying(exps: list[Experiment], seed_param: str) -> list[str]:
    """The params (other than the seed) whose values differ between experiments."""
    keys = sorted({k for e in exps for k in e.params} - {seed_param})
    return [k for k in keys if len({json.dumps(e.params.get(k), default=str) for e in exps}) > 1]


def _param_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def table(exps: list[Experiment], params: list[str], metrics: list[str], seed_param: str,
          digits: int = 3) -> str:  # fmt: skip
    """The markdown table: per configuration the params, its experiments and seeds, and each
    metric summarised over them."""
    head = ["experiments", seed_param, *params, *metrics]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for group in configurations(exps, seed_param):
        first = group[0]
        cells = [", ".join(e.name for e in group),
                 ", ".join(str(e.params.get(seed_param, "–")) for e in group)]  # fmt: skip
        cells += [_param_text(first.params[p]) if p in first.params else "–" for p in params]
        cells += [summarise([metric(e, m) for e in group]).text(digits) for m in metrics]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--json", type=Path, help="saved `dvc exp show --json` output (default: run it here)"
    )
    parser.add_argument("--metrics", nargs="+", required=True, help="FILE:KEY or KEY")
    parser.add_argument(
        "--params", nargs="*", help="params shown (default: those that differ between experiments)"
    )
    parser.add_argument(
        "--seed-param",
        default="train.seed",
        help="the param whose values are seeds of one configuration",
    )
    parser.add_argument(
        "--baseline", action="store_true", help="also the commits the experiments are based on"
    )
    parser.add_argument("--digits", type=int, default=3)
    parser.add_argument("--out", type=Path, help="write the table here (default: print it)")
    args = parser.parse_args(argv)  # fmt: skip

    try:
        if args.json:
            shown = json.loads(args.json.read_text())
        else:
            done = subprocess.run(["dvc", "exp", "show", "--json"], capture_output=True,
                                  text=True, check=True)  # fmt: skip
            shown = json.loads(done.stdout)
        exps = experiments(shown, args.baseline)
        if not exps:
            raise ValueError("no experiment with results (queued ones: `dvc queue start`)")
        params = args.params if args.params is not None else varying(exps, args.seed_param)
        text = table(exps, params, args.metrics, args.seed_param, args.digits)
    except (OSError, ValueError, subprocess.CalledProcessError) as err:
        detail = getattr(err, "stderr", None) or err
        print(f"exp_table: error: {str(detail).strip()}", file=sys.stderr)
        return 2
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_text(args.out, text)
        print(f"{len(exps)} experiments → {args.out}")
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
