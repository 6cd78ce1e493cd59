"""Benchmark mcp-scaffold against the tools users would run instead, in one run.

    python bench/run.py [--runs N] [--checkov-runs N] [--servers N] [--stream-bases N]
                        [--scale 10,100,1000,5000] [--only new|help|check|inprocess|scale]

Prints five comparisons (medians of alternating runs, and their ratios):
  1. cold `mcp-scaffold new --values examples/github-mcp.yaml --output -` vs `helm template`
     of the chart `helm create` makes;
  2. `mcp-scaffold --help` (the cost of starting, paid by shell completion);
  3. `mcp-scaffold check` vs Checkov on the check test corpus and on a stream of N generated
     bases (default 500);
  4. in-process render + verify of N values documents (default 1,000) through the Python API;
  5. `check` scaling: streams of 10, 100, 1,000 and 5,000 bases, in one namespace or each in
     its own, with CPU time and peak memory.

Standard library only, plus the external tools in .tools/bin (scripts/install-tools.py) and
the mcp-scaffold under test. No assertions: it measures and prints.
"""

from __future__ import annotations

import argparse
import atexit
import functools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = Path(os.environ.get("MCP_SCAFFOLD_TOOLS", ROOT / ".tools" / "bin"))
EXAMPLE = ROOT / "examples" / "github-mcp.yaml"
CORPUS = ROOT / "tests" / "policy" / "corpus"
TARGETS = {"new": 2.0, "help": 1.5, "check": 20.0, "stream": 50.0, "per_server_ms": 3.0,
           "scale": 6.0}


@functools.cache
def scaffold_command() -> list[str]:
    """mcp-scaffold as a user installs it: the wheel of this checkout, built and installed into a
    virtualenv of its own (once per run). Not the development install: its editable finder adds
    ~10 ms to every start, which no pip-installed copy pays, and a pyenv shim costs ~60 ms of
    bash. MCP_SCAFFOLD_BENCH_PROGRAM names another program to measure instead."""
    given = os.environ.get("MCP_SCAFFOLD_BENCH_PROGRAM")
    if given:
        return [given]
    work = Path(tempfile.mkdtemp(prefix="mcp-bench-install-"))
    atexit.register(shutil.rmtree, work, True)
    quiet = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w",
                    str(work / "dist"), str(ROOT)], **quiet)  # type: ignore[call-overload]
    subprocess.run([sys.executable, "-m", "venv", str(work / "venv")], **quiet)  # type: ignore[call-overload]
    (wheel,) = (work / "dist").glob("*.whl")
    subprocess.run([str(work / "venv" / "bin" / "python"), "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", str(wheel)], **quiet)  # type: ignore[call-overload]
    return [str(work / "venv" / "bin" / "mcp-scaffold")]


def _python_of() -> str:
    """The interpreter beside the measured mcp-scaffold (this one for another program)."""
    beside = Path(scaffold_command()[0]).parent / "python"
    return str(beside) if beside.exists() else sys.executable


# What a user's shell has: no PYTHONDONTWRITEBYTECODE (a pip install ships .pyc files; without
# them every run compiles the package's source again) and no PYTHONUNBUFFERED (a syscall per
# write). Some sandboxes set both.
CLEAN_ENV = {k: v for k, v in os.environ.items()
             if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED")}

# CPU seconds (user + system) and peak RSS (KiB) of the last run_once, read from that one
# child's rusage (os.wait4): CPU time moves less than wall time on a shared machine.
LAST: dict[str, float] = {"cpu": 0.0, "maxrss_kib": 0.0}


def run_once(cmd: Sequence[str], *, stdin: bytes | None = None,
             env: dict[str, str] | None = None, ok: Sequence[int] = (0,)) -> float:
    """Wall time of one run in seconds (its CPU time and peak memory go to LAST); raise if the
    exit code is not in ok."""
    with tempfile.TemporaryFile() as inp, tempfile.TemporaryFile() as out, \
            tempfile.TemporaryFile() as err:
        if stdin is not None:
            inp.write(stdin)
            inp.seek(0)
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdin=inp, stdout=out, stderr=err,
                                env=CLEAN_ENV if env is None else env)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        LAST["cpu"] = usage.ru_utime + usage.ru_stime
        LAST["maxrss_kib"] = float(usage.ru_maxrss)
        if proc.returncode not in ok:
            err.seek(0)
            tail = err.read().decode("utf-8", "replace")[-600:]
            raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {tail}")
    return elapsed


def alternate(runs: int, jobs: dict[str, Callable[[], float]]) -> dict[str, list[float]]:
    """Run each job once per round, rounds alternating the order; one warm-up round first
    (page cache, .pyc files), not counted."""
    for job in jobs.values():
        job()
    times: dict[str, list[float]] = {name: [] for name in jobs}
    names = list(jobs)
    for i in range(runs):
        for name in names if i % 2 == 0 else reversed(names):
            times[name].append(jobs[name]())
            CPU.setdefault(name, []).append(LAST["cpu"])
    return times


CPU: dict[str, list[float]] = {}  # CPU seconds per job label, beside the wall times


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def row(label: str, xs: list[float]) -> str:
    cpu = CPU.get(label)
    return (f"  {label:<46} median {ms(median(xs))}  (min {ms(min(xs)).strip()},"
            f" n={len(xs)}" + (f"; CPU median {ms(median(cpu)).strip()}" if cpu else "") + ")")


def machine() -> str:
    return (f"{platform.platform()}; Python {platform.python_version()}; {os.cpu_count()} CPUs")


def commit() -> str:
    """The commit measured (with "+changes" when the work tree differs from it)."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True, check=False).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True, check=False).stdout.strip()
    return f"{head}+changes" if dirty else head


# --- 1. new vs helm template ----------------------------------------------------------------

def compare_new(runs: int, work: Path, results: dict[str, object]) -> None:
    helm = TOOLS / "helm"
    chart = work / "chart"
    subprocess.run([str(helm), "create", str(chart)], check=True, capture_output=True)
    new = [*scaffold_command(), "new", "--values", str(EXAMPLE), "--output", "-"]
    times = alternate(runs, {
        "mcp-scaffold new (github-mcp, --output -)": lambda: run_once(new),
        "helm template (helm create chart)": lambda: run_once(
            [str(helm), "template", "bench", str(chart)]),
    })
    a, b = (median(t) for t in times.values())
    print("1. cold new vs helm template")
    for label, xs in times.items():
        print(row(label, xs))
    print(f"  ratio new / helm template: {a / b:.2f}x  (target <= {TARGETS['new']}x,"
          f" stretch 1.5x)")
    results["new"] = {"new_ms": a * 1000, "helm_ms": b * 1000, "ratio": a / b}


# --- 2. --help --------------------------------------------------------------------------------

def compare_help(runs: int, results: dict[str, object]) -> None:
    times = alternate(runs, {
        "mcp-scaffold --help": lambda: run_once([*scaffold_command(), "--help"]),
        # The interpreter of the same install: its start-up (site, .pth files) is the floor.
        "python -c pass (interpreter floor)": lambda: run_once([_python_of(), "-c", "pass"]),
        "helm --help": lambda: run_once([str(TOOLS / "helm"), "--help"]),
    })
    print("2. start-up: mcp-scaffold --help")
    for label, xs in times.items():
        print(row(label, xs))
    h = median(times["mcp-scaffold --help"]) * 1000
    floor = median(times["python -c pass (interpreter floor)"]) * 1000
    print(f"  ratio --help / python -c pass: {h / floor:.2f}x  (target <= {TARGETS['help']}x)")
    results["help"] = {"help_ms": h, "python_floor_ms": floor, "ratio": h / floor}


# --- 3. check vs Checkov ----------------------------------------------------------------------

def check_available() -> bool:
    proc = subprocess.run([*scaffold_command(), "check", "--help"], capture_output=True,
                          check=False)
    return proc.returncode == 0


def stream_of_bases(count: int, out: Path, namespaces: int = 37) -> Path:
    """count generated bases (the in-process generator, varied values) as one YAML stream,
    spread over that many namespaces."""
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from bench.run import"
            f" write_stream; write_stream({count}, {str(out)!r}, {namespaces})")
    subprocess.run([sys.executable, "-c", code], check=True)
    return out


def write_stream(count: int, out: str, namespaces: int = 37) -> None:
    from scaffold import render, values  # the package under test

    docs = [render.stream(render.render(values.validate(d)))
            for d in values_documents(count, namespaces)]
    Path(out).write_text("---\n".join(docs), "utf-8")


def compare_check(runs: int, checkov_runs: int, bases: int, work: Path,
                  results: dict[str, object]) -> None:
    print("3. check vs Checkov")
    if not check_available():
        print("  not available: `mcp-scaffold check` does not exist in this build")
        results["check"] = "not available"
        return
    checkov = TOOLS / "checkov"
    env = {**CLEAN_ENV, "BC_SKIP_MAPPING": "TRUE"}
    checkov_args = [str(checkov), "--skip-download", "--framework", "kubernetes", "--quiet",
                    "-o", "json"]
    if CORPUS.is_dir():
        corpus, label = CORPUS, f"test corpus {CORPUS.relative_to(ROOT)}"
    else:  # the check issue's corpus has not landed: the example bases instead
        corpus = work / "examples"
        corpus.mkdir()
        for base in ("github-mcp", "minimal", "api-access"):
            shutil.copytree(ROOT / "examples" / base, corpus / base)
        label = "example bases (tests/policy/corpus not found)"
    n_files = sum(1 for p in corpus.rglob("*.yaml"))
    stream = stream_of_bases(bases, work / "stream.yaml")
    stream_dir = work / "stream"
    stream_dir.mkdir()
    shutil.copy(stream, stream_dir / "stream.yaml")  # Checkov -d scans directories
    check = [*scaffold_command(), "check", "--format", "json"]
    out: dict[str, object] = {}
    for name, target, target_dir, n in (
            ("corpus", [str(corpus)], str(corpus), runs),
            ("stream", [str(stream)], str(stream_dir), max(5, checkov_runs))):
        times: dict[str, list[float]] = {
            f"mcp-scaffold check ({name})": [],
            f"checkov -d ({name})": [],
        }
        jobs = {
            f"mcp-scaffold check ({name})": lambda t=target: run_once([*check, *t], ok=(0, 1)),
            f"checkov -d ({name})": lambda d=target_dir: run_once([*checkov_args, "-d", d],
                                                                   env=env, ok=(0, 1)),
        }
        # Checkov takes seconds: checkov_runs rounds of it, `runs` of check interleaved.
        jobs[f"mcp-scaffold check ({name})"]()
        for i in range(max(n, checkov_runs)):
            order = list(jobs) if i % 2 == 0 else list(reversed(jobs))
            for job in order:
                if job.startswith("checkov") and len(times[job]) >= checkov_runs:
                    continue
                times[job].append(jobs[job]())
                CPU.setdefault(job, []).append(LAST["cpu"])
        what = (label + f", {n_files} files" if name == "corpus"
                else f"{bases} generated bases in one stream, {stream.stat().st_size // 1024} KiB")
        print(f"  {name}: {what}")
        for lab, xs in times.items():
            print(row(lab, xs))
        c, k = (median(t) for t in times.values())
        goal = TARGETS["check" if name == "corpus" else "stream"]
        print(f"  ratio Checkov / check: {k / c:.1f}x faster  (target >= {goal:.0f}x)")
        out[name] = {"check_ms": c * 1000, "checkov_ms": k * 1000, "speedup": k / c,
                     **({"files": n_files} if name == "corpus" else {"bases": bases})}
    results["check"] = out


# --- 5. check scaling -------------------------------------------------------------------------

def compare_scale(sizes: Sequence[int], work: Path, results: dict[str, object]) -> None:
    """`check` on one stream of N generated bases, all in one namespace or each base in its
    own: wall and CPU time (medians), peak memory (the child's maximum RSS)."""
    print("5. check scaling: one stream of N bases (check --format json)")
    if not check_available():
        print("  not available: `mcp-scaffold check` does not exist in this build")
        results["scale"] = "not available"
        return
    check = [*scaffold_command(), "check", "--format", "json"]
    print(f"  {'bases':>6} {'layout':<16} {'KiB':>7} {'wall median':>12} {'CPU median':>11}"
          f" {'peak RSS':>10} {'ms/base':>8}")
    table: list[dict[str, object]] = []
    for n in sizes:
        layouts = {"one namespace": 1, "spread": n}
        streams = {name: stream_of_bases(n, work / f"scale-{n}-{ns}.yaml", ns)
                   for name, ns in layouts.items()}
        runs = 5 if n <= 100 else 3 if n <= 1000 else 1
        walls: dict[str, list[float]] = {name: [] for name in layouts}
        cpus: dict[str, list[float]] = {name: [] for name in layouts}
        rss: dict[str, float] = dict.fromkeys(layouts, 0.0)
        for i in range(runs):
            for name in list(layouts) if i % 2 == 0 else reversed(list(layouts)):
                walls[name].append(run_once([*check, str(streams[name])], ok=(0, 1)))
                cpus[name].append(LAST["cpu"])
                rss[name] = max(rss[name], LAST["maxrss_kib"])
        for name in layouts:
            w, c = median(walls[name]), median(cpus[name])
            size = streams[name].stat().st_size // 1024
            print(f"  {n:>6} {name:<16} {size:>7} {ms(w):>12} {ms(c).strip():>11}"
                  f" {rss[name] / 1024:>7.0f} MiB {w * 1000 / n:>8.2f}  (n={len(walls[name])})")
            table.append({"bases": n, "layout": name, "kib": size, "wall_ms": w * 1000,
                          "cpu_ms": c * 1000, "peak_rss_mib": rss[name] / 1024,
                          "runs": len(walls[name])})
    by = {(r["bases"], r["layout"]): r for r in table}
    for layout in ("one namespace", "spread"):
        big, small = by.get((5000, layout)), by.get((1000, layout))
        if big and small:
            ratio = float(big["wall_ms"]) / float(small["wall_ms"])  # type: ignore[arg-type]
            cpu = float(big["cpu_ms"]) / float(small["cpu_ms"])  # type: ignore[arg-type]
            # On a shared machine the CPU ratio is the one to read (wall medians move with load).
            print(f"  {layout}: 5,000 / 1,000 bases = {ratio:.1f}x wall, {cpu:.1f}x CPU"
                  f"  (target <= {TARGETS['scale']}x; linear is 5x)")
    results["scale"] = table


# --- 4. in-process render + verify ------------------------------------------------------------

PROVIDERS = {
    "none": None,
    "aws": {"region": "us-east-1", "roleArn": "arn:aws:iam::111122223333:role/{name}",
            "objects": [{"objectName": "prod/{name}/token", "objectType": "secretsmanager",
                         "objectAlias": "token"}]},
    "azure": {"keyvaultName": "kv-{short}", "tenantID": "00000000-0000-0000-0000-000000000001",
              "clientID": "00000000-0000-0000-0000-000000000002",
              "objects": [{"objectName": "token", "objectType": "secret"}]},
    "gcp": {"secrets": [{"resourceName": "projects/acme-prod/secrets/{name}/versions/latest",
                         "path": "token"}]},
    "vault": {"vaultAddress": "https://vault.vault.svc:8200", "roleName": "{name}",
              "objects": [{"objectName": "token", "secretPath": "secret/data/{name}",
                           "secretKey": "token"}]},
}
RUNTIMES = ["node", "python", "generic"]


def _fill(node: object, **kw: str) -> object:
    if isinstance(node, str):
        return node.format(**kw)
    if isinstance(node, list):
        return [_fill(x, **kw) for x in node]
    if isinstance(node, dict):
        return {k: _fill(v, **kw) for k, v in node.items()}
    return node


def values_documents(count: int, namespaces: int = 37) -> list[dict[str, object]]:
    """count valid values documents: names, namespaces (that many), providers, runtimes,
    replicas, API access, downstream and egress vary."""
    docs: list[dict[str, object]] = []
    providers = list(PROVIDERS)
    for i in range(count):
        name = f"mcp-{i:04d}"
        provider = providers[i % len(providers)]
        doc: dict[str, object] = {
            "name": name,
            "namespace": f"team-{i % namespaces}",
            "image": f"ghcr.io/acme/{name}:1.{i % 10}.0@sha256:" + f"{i:064x}",
            "port": 3000 + i % 5000,
            "replicas": 1 + i % 3,
            "runtime": RUNTIMES[i % 3],
            "ingress": {"namespace": "ingress-nginx",
                        "podLabels": {"app.kubernetes.io/name": "ingress-nginx"}},
            "kubernetesVersion": ["1.31", "1.32", "1.33"][i % 3],
            "labels": {"team": f"t{i % 7}"},
        }
        if i % 2:
            doc["configMaps"] = [f"{name}-config"]
            doc["apiServer"] = {"cidrs": ["10.0.0.1/32"]}
        if i % 4 == 1:
            doc["downstream"] = [{"name": "postgres", "podLabels": {"app": "postgres"},
                                  "ports": [5432]}]
        if i % 3 == 0:
            doc["externalEgress"] = [{"cidr": "0.0.0.0/0", "ports": [443]}]
        block = PROVIDERS[provider]
        if block is not None:
            doc["secrets"] = {"provider": provider, "files": {"TOKEN_FILE": "token"},
                              provider: _fill(block, name=name, short=f"k{i:04d}")}
        docs.append(doc)
    return docs


def inprocess(count: int) -> dict[str, float]:
    """Run inside a fresh interpreter: validate, render and verify count documents."""
    t0 = time.perf_counter()
    from scaffold import render, values, verify  # the package under test

    t_import = time.perf_counter() - t0
    checked = [values.validate(d) for d in values_documents(count)]
    per: list[float] = []
    start, cpu_start = time.perf_counter(), time.process_time()
    for v in checked:
        s = time.perf_counter()
        files = render.render(v)
        verify.verify(files, v["kubernetesVersion"])
        per.append(time.perf_counter() - s)
    total = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    return {"import_ms": t_import * 1000, "total_ms": total * 1000,
            "per_server_ms": total * 1000 / count, "median_ms": median(per) * 1000,
            "first_ms": per[0] * 1000, "p90_ms": sorted(per)[int(len(per) * 0.9)] * 1000,
            "cpu_per_server_ms": cpu * 1000 / count}


def compare_inprocess(count: int, results: dict[str, object]) -> None:
    code = (f"import sys, json; sys.path.insert(0, {str(ROOT)!r}); from bench.run import"
            f" inprocess; print(json.dumps(inprocess({count})))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=CLEAN_ENV, check=False)
    print(f"4. in-process render + verify, {count} values documents (Python API)")
    if proc.returncode != 0:
        print("  failed: " + proc.stderr.strip().splitlines()[-1])
        results["inprocess"] = "failed"
        return
    r = json.loads(proc.stdout)
    print(f"  import scaffold (render, values, verify): {r['import_ms']:.1f} ms")
    print(f"  first server (compiles templates, loads schemas): {r['first_ms']:.1f} ms")
    print(f"  {count} servers: {r['total_ms']:.0f} ms total = {r['per_server_ms']:.2f} ms per"
          f" server (median {r['median_ms']:.2f}, p90 {r['p90_ms']:.2f}; CPU"
          f" {r['cpu_per_server_ms']:.2f} ms per server)  (target <= {TARGETS['per_server_ms']} ms)")
    results["inprocess"] = r


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--runs", type=int, default=21, help="rounds for fast commands (21)")
    ap.add_argument("--checkov-runs", type=int, default=3, help="rounds of Checkov (3)")
    ap.add_argument("--servers", type=int, default=1000, help="values documents for 4 (1000)")
    ap.add_argument("--stream-bases", type=int, default=500, help="bases in the stream (500)")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    ap.add_argument("--scale", default="10,100,1000,5000",
                    help="stream sizes (bases) for the check scaling table (10,100,1000,5000)")
    ap.add_argument("--only", choices=("new", "help", "check", "inprocess", "scale"),
                    action="append")
    args = ap.parse_args(argv)
    only = set(args.only or ("new", "help", "check", "inprocess", "scale"))
    print(f"machine: {machine()}")
    print(f"mcp-scaffold: {' '.join(scaffold_command())}; tools: {TOOLS}\n")
    results: dict[str, object] = {"machine": machine(), "commit": commit()}
    with tempfile.TemporaryDirectory(prefix="mcp-bench-") as tmp:
        work = Path(tmp)
        if "new" in only:
            compare_new(args.runs, work, results)
            print()
        if "help" in only:
            compare_help(args.runs, results)
            print()
        if "check" in only:
            compare_check(args.runs, args.checkov_runs, args.stream_bases, work, results)
            print()
        if "inprocess" in only:
            compare_inprocess(args.servers, results)
            print()
        if "scale" in only:
            compare_scale([int(n) for n in args.scale.split(",")], work, results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
