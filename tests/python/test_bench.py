# `loom bench` as a process, on stories260K with small sizes: the JSON array (one object
# per (kernels, threads, batch, test), llama-bench's field names, statistics consistent
# with the samples, model size and parameter count equal to gguf-py's sums over the
# tensor table), the test matrix the list flags make, -p 0 / -n 0 skipping a test, the
# markdown table and CSV, and usage errors as one stderr line with exit code 2.
# No assertion on a speed: only that every rate is positive and the statistics agree.
import csv
import io
import json
import re
import statistics

import pytest

from conftest import reader, run

SMALL = ["-p", "16", "-n", "4", "-r", "3", "-t", "1"]


def bench(loom_bin, model, *args, check=True):
    return run([loom_bin, "bench", "-m", model, *args], check=check)


def bench_json(loom_bin, model, *args) -> list:
    proc = bench(loom_bin, model, *args, "--json")
    return json.loads(proc.stdout)


def test_json_fields_and_statistics(loom_bin, stories):
    rows = bench_json(loom_bin, stories, *SMALL)
    assert [r["test"] for r in rows] == ["pp16", "tg4"]
    for r in rows:
        assert r["threads"] == r["n_threads"] == 1
        assert (r["n_prompt"], r["n_gen"]) == ((16, 0) if r["test"] == "pp16" else (0, 4))
        assert r["reps"] == 3
        assert len(r["samples_ns"]) == 3 and all(isinstance(t, int) and t > 0 for t in r["samples_ns"])
        # Rates follow from the samples: tokens / seconds, median and extremes of them.
        n_tokens = r["n_prompt"] + r["n_gen"]
        ts = [n_tokens * 1e9 / t for t in r["samples_ns"]]
        assert r["samples_ts"] == pytest.approx(ts)
        assert r["tokens_per_second"] == pytest.approx(statistics.median(ts))
        assert r["tokens_per_second_min"] == pytest.approx(min(ts))
        assert r["tokens_per_second_max"] == pytest.approx(max(ts))
        assert r["tokens_per_second_min"] <= r["tokens_per_second"] <= r["tokens_per_second_max"]
        assert r["tokens_per_second"] > 0
        assert r["avg_ns"] == pytest.approx(statistics.mean(r["samples_ns"]))
        assert r["stddev_ts"] == pytest.approx(statistics.stdev(ts))
        assert r["n_batch"] >= 1 and r["kernels"]
        assert r["cpu_info"] and r["n_cpu"] >= 1
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["test_time"])


def test_json_model_facts_match_gguf_py(loom_bin, stories):
    rows = bench_json(loom_bin, stories, "-p", "4", "-n", "0", "-r", "1", "-t", "1")
    tensors = reader(stories).tensors
    (r,) = rows
    assert r["model_filename"] == str(stories)
    assert r["model_size"] == sum(int(t.n_bytes) for t in tensors)
    assert r["model_n_params"] == sum(int(t.n_elements) for t in tensors)
    assert r["model_type"].startswith("llama ")


def test_json_names_the_build(loom_bin, stories):
    version = run([loom_bin, "--version"], check=True).stdout  # "loom 0.1.0 (commit abc1234)"
    (r,) = bench_json(loom_bin, stories, "-p", "4", "-n", "0", "-r", "1", "-t", "1")
    assert version.strip() == f"loom {r['loom_version']} (commit {r['build_commit']})"


def test_defaults_are_pp512_and_tg128(loom_bin, stories):
    # stories260K is trained on 512 tokens: the default sizes fit it.
    rows = bench_json(loom_bin, stories, "-r", "1", "-t", "1")
    assert [r["test"] for r in rows] == ["pp512", "tg128"]


@pytest.mark.parametrize("threads", [["-t", "1,2"], ["-t", "1", "-t", "2"]])
def test_thread_list_runs_each(loom_bin, stories, threads):
    rows = bench_json(loom_bin, stories, "-p", "8", "-n", "2", "-r", "2", *threads)
    assert [(r["threads"], r["test"]) for r in rows] == [(1, "pp8"), (1, "tg2"), (2, "pp8"), (2, "tg2")]


def test_size_and_batch_lists_make_the_matrix(loom_bin, stories):
    rows = bench_json(loom_bin, stories, "-p", "8,12", "-n", "0", "-b", "4,8", "-r", "1", "-t", "1")
    assert [(r["n_batch"], r["test"]) for r in rows] == [(4, "pp8"), (4, "pp12"), (8, "pp8"), (8, "pp12")]


@pytest.mark.parametrize("sizes, expected", [
    (["-p", "0", "-n", "4"], ["tg4"]),
    (["-p", "8", "-n", "0"], ["pp8"]),
    (["-p", "0,8", "-n", "0,2"], ["pp8", "tg2"]),
])
def test_zero_skips_a_test(loom_bin, stories, sizes, expected):
    rows = bench_json(loom_bin, stories, *sizes, "-r", "1", "-t", "1")
    assert [r["test"] for r in rows] == expected


@pytest.mark.parametrize("warmup", ["--warmup", "--no-warmup"])
def test_warmup_is_not_a_sample(loom_bin, stories, warmup):
    rows = bench_json(loom_bin, stories, "-p", "8", "-n", "2", "-r", "2", "-t", "1", warmup)
    assert [len(r["samples_ns"]) for r in rows] == [2, 2]


@pytest.mark.parametrize("flags", [["--reference-kernels"], ["--kernels", "scalar"]])
def test_reference_kernels_are_named(loom_bin, stories, flags):
    rows = bench_json(loom_bin, stories, "-p", "8", "-n", "0", "-r", "1", "-t", "1", *flags)
    assert [r["kernels"] for r in rows] == ["scalar"]


def parse_md(text):
    lines = text.strip().splitlines()
    cells = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]
    return cells[0], cells[1], cells[2:]


def test_markdown_table(loom_bin, stories):
    proc = bench(loom_bin, stories, "-p", "16", "-n", "4", "-r", "3", "-t", "1,2")
    header, rule, rows = parse_md(proc.stdout)
    assert header == ["model", "size", "params", "kernels", "threads", "test", "t/s (median ± sd)",
                      "min t/s", "max t/s"]
    assert all(re.fullmatch(r"-+:?", c) for c in rule)
    assert [(r[4], r[5]) for r in rows] == [("1", "pp16"), ("1", "tg4"), ("2", "pp16"), ("2", "tg4")]
    for r in rows:
        assert r[0].startswith("llama ")
        assert re.fullmatch(r"\d+\.\d\d MiB", r[1]) and re.fullmatch(r"\d+\.\d\d K", r[2])
        m = re.fullmatch(r"(\d+\.\d\d) ± (\d+\.\d\d)", r[6])
        assert m, r[6]
        median, low, high = float(m.group(1)), float(r[7]), float(r[8])
        assert 0 < low <= median <= high
    # The machine and the memory go to stderr, never into the table.
    assert "hardware threads" in proc.stderr and "peak RSS" in proc.stderr
    assert "loom bench:" not in proc.stdout


def test_markdown_shows_batch_when_given(loom_bin, stories):
    proc = bench(loom_bin, stories, "-p", "8", "-n", "0", "-r", "1", "-t", "1", "-b", "4,8")
    header, _, rows = parse_md(proc.stdout)
    assert "n_batch" in header
    col = header.index("n_batch")
    assert [r[col] for r in rows] == ["4", "8"]


def test_csv_has_the_json_fields(loom_bin, stories):
    args = ["-p", "8", "-n", "2", "-r", "2", "-t", "1"]
    table = list(csv.DictReader(io.StringIO(bench(loom_bin, stories, *args, "-o", "csv").stdout)))
    rows = bench_json(loom_bin, stories, *args)
    assert [list(t.keys()) for t in table] == [list(r.keys()) for r in rows]
    assert [t["test"] for t in table] == ["pp8", "tg2"]
    for t in table:
        assert len(t["samples_ns"].split()) == 2


def test_json_via_output_flag(loom_bin, stories):
    proc = bench(loom_bin, stories, "-p", "4", "-n", "0", "-r", "1", "-t", "1", "-o", "json")
    assert [r["test"] for r in json.loads(proc.stdout)] == ["pp4"]


@pytest.mark.parametrize("args, named", [
    (["-t", "0"], "-t"),
    (["-t", "1,x"], "-t"),
    (["-p", "-1"], "-p"),
    (["-n", "1,,2"], "-n"),
    (["-b", "0"], "-b"),
    (["-r", "0"], "repetitions"),
    (["-p", "0", "-n", "0"], "nothing to measure"),
    (["-o", "xml"], "-o"),
    (["--json", "-o", "md"], "--json"),
    (["--kernels", "sse9"], "--kernels"),
    (["--kernels", "scalar", "--reference-kernels"], "--reference-kernels"),
    (["--bogus"], "--bogus"),
])
def test_bad_flags_exit_2_with_one_line(loom_bin, stories, args, named):
    proc = bench(loom_bin, stories, *args, check=False)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and named in proc.stderr, repr(proc.stderr)


def test_missing_model_exits_1(loom_bin, tmp_path):
    proc = bench(loom_bin, tmp_path / "none.gguf", "-p", "4", "-n", "0", check=False)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "none.gguf" in proc.stderr
