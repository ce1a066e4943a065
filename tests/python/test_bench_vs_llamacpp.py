# scripts/bench-vs-llamacpp in a tiny run on stories260K: the JSON result's structure (machine
# facts, bandwidth before and after for each thread count, per model one row per thread count
# with both engines' pp and tg statistics over the repetitions), the ratios and roofline
# fractions following from the medians and the bandwidth, bytes read per token from gguf-py's
# tensor table (untied stories260K, tied synthetic Gemma 3), the Markdown report (measured, and
# rendered from a saved result), and bad usage.
# No assertion on a speed: only that rates are positive and the numbers agree with each other.
import importlib.machinery
import importlib.util
import json
import statistics
import sys

import pytest

from conftest import reader, run

TINY = ["--pp", "16", "--tg", "8", "--reps", "3", "-t", "1,2", "--membw-mib", "64", "--membw-passes", "2"]


@pytest.fixture(scope="session")
def script(source_dir):
    return source_dir / "scripts" / "bench-vs-llamacpp"


def bench(script, loom_bin, synth_model, fixtures_dir, cache, *args, check=True):
    return run([sys.executable, script, "--loom", loom_bin, "--synth", synth_model, "--fixtures", fixtures_dir,
                "--cache", cache, *args], check=check, timeout=300)


@pytest.fixture(scope="session")
def tiny_result(script, loom_bin, synth_model, fixtures_dir, tmp_path_factory):
    cache = tmp_path_factory.mktemp("bench-cache")
    proc = bench(script, loom_bin, synth_model, fixtures_dir, cache, "--models", "stories", *TINY, "--json")
    return json.loads(proc.stdout)


def load_module(script):
    """The script as a module (its name has no .py), for its helpers."""
    loader = importlib.machinery.SourceFileLoader("bench_vs_llamacpp", str(script))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


def test_machine_and_settings(tiny_result):
    m, s = tiny_result["machine"], tiny_result["settings"]
    assert m["cpu"] and m["n_cpu"] >= 1 and m["memory_bytes"] > 0
    assert m["loom"].startswith("loom ") and m["llama_cpp_python"]
    assert (s["pp"], s["tg"], s["reps"], s["threads"]) == (16, 8, 3, [1, 2])
    assert s["flash_attn"] is False and s["mmap"] is True and s["n_ctx"] == 24
    assert len(tiny_result["load_average"]["start"]) == 3 and len(tiny_result["load_average"]["end"]) == 3


def test_bandwidth_before_and_after(tiny_result):
    for when in ("before", "after"):
        probes = tiny_result["bandwidth"][when]
        assert [p["threads"] for p in probes] == [1, 2]
        for p in probes:
            for pages in ("huge", "4k"):
                probe = p[pages]
                assert probe["threads"] == p["threads"] and probe["pages"] == pages
                assert probe["bytes"] == 64 * 2**20
                assert len(probe["passes"]) == 2 and probe["read_gbps"] == max(probe["passes"]) > 0


def test_rows_statistics_ratios_roofline(tiny_result, stories):
    (model,) = tiny_result["models"]
    assert model["name"] == "stories" and model["path"] == str(stories)
    assert model["llama.cpp"]["flash_attn"] is False and model["loom"]["n_batch"] >= 1
    assert [r["threads"] for r in model["rows"]] == [1, 2]
    bw = tiny_result["bandwidth"]
    for row in model["rows"]:
        for engine in ("loom", "llama.cpp"):
            for test in ("pp", "tg"):
                st = row[engine][test]
                assert len(st["samples_ts"]) == 3 and all(x > 0 for x in st["samples_ts"])
                assert st["tokens_per_second"] == pytest.approx(statistics.median(st["samples_ts"]))
                assert (st["min"], st["max"]) == (min(st["samples_ts"]), max(st["samples_ts"]))
        for test in ("pp", "tg"):
            assert row["ratio"][test] == pytest.approx(
                row["loom"][test]["tokens_per_second"] / row["llama.cpp"][test]["tokens_per_second"])
        # The ceiling: the higher huge-page bandwidth of before and after, over bytes per token.
        gbps = max(p["huge"]["read_gbps"] for when in ("before", "after") for p in bw[when]
                   if p["threads"] == row["threads"])
        assert row["tg_ceiling"]["bandwidth_gbps"] == gbps
        ceiling = gbps * 1e9 / model["bytes_per_token"]
        assert row["tg_ceiling"]["tokens_per_second"] == pytest.approx(ceiling)
        for engine in ("loom", "llama.cpp"):
            assert row["tg_fraction"][engine] == pytest.approx(row[engine]["tg"]["tokens_per_second"] / ceiling)


def test_bytes_per_token_untied(tiny_result, stories):
    # stories260K has its own output.weight: token_embd contributes one row (n_embd F32 values).
    (model,) = tiny_result["models"]
    tensors = {t.name: t for t in reader(stories).tensors}
    total = sum(int(t.n_bytes) for t in tensors.values())
    n_embd = int(tensors["token_embd.weight"].shape[0])
    assert model["output_tied"] is False
    assert model["tensor_bytes"] == total
    assert model["bytes_per_token"] == total - int(tensors["token_embd.weight"].n_bytes) + 4 * n_embd


def test_bytes_per_token_tied(script, synth_model, fixtures_dir, tmp_path):
    # A Gemma 3 model has no output.weight: all of token_embd is read every token.
    path = tmp_path / "gemma3.gguf"
    run([synth_model, "--arch", "gemma3", "--type", "q8_0", "--vocab-from",
         fixtures_dir / "vocab" / "ggml-vocab-llama-spm.gguf", "--seed", "1", "-o", path], check=True)
    facts = load_module(script).weights_read_per_token(path)
    tensors = reader(path).tensors
    assert "output.weight" not in {t.name for t in tensors}
    assert facts["output_tied"] is True
    assert facts["bytes_per_token"] == facts["tensor_bytes"] == sum(int(t.n_bytes) for t in tensors)


def test_markdown_report(script, loom_bin, synth_model, fixtures_dir, tmp_path):
    proc = bench(script, loom_bin, synth_model, fixtures_dir, tmp_path, "--models", "stories", "--pp", "8",
                 "--tg", "4", "--reps", "1", "-t", "1", "--membw-mib", "64", "--membw-passes", "1", check=True)
    out = proc.stdout
    assert "# Loom vs llama.cpp" in out and "Memory read bandwidth" in out and "## stories" in out
    assert "| threads | engine | pp8 t/s | tg4 t/s | tg % of roofline |" in out
    for engine in ("loom", "llama.cpp", "Loom/llama.cpp"):
        assert f"| 1 | {engine} |" in out


def test_report_of_saved_json(script, loom_bin, synth_model, fixtures_dir, tmp_path, tiny_result):
    # --report renders a saved --json result: every median and ratio of it appears.
    saved = tmp_path / "result.json"
    saved.write_text(json.dumps(tiny_result))
    out = bench(script, loom_bin, synth_model, fixtures_dir, tmp_path, "--report", saved).stdout
    assert "## stories" in out and "| threads | engine | pp16 t/s | tg8 t/s | tg % of roofline |" in out
    for row in tiny_result["models"][0]["rows"]:
        t = row["threads"]
        for engine in ("loom", "llama.cpp"):
            assert f"| {t} | {engine} | {row[engine]['pp']['tokens_per_second']:.2f} (" in out
        assert f"| {t} | Loom/llama.cpp | {row['ratio']['pp']:.2f} | {row['ratio']['tg']:.2f} |" in out


@pytest.mark.parametrize("args, message", [
    (["--models", "nosuch"], "unknown model \"nosuch\""),
    (["--pp", "0"], "--pp must be at least 1"),
    (["-t", "1,x"], "-t: \"1,x\""),
])
def test_bad_usage(script, loom_bin, synth_model, fixtures_dir, tmp_path, args, message):
    proc = bench(script, loom_bin, synth_model, fixtures_dir, tmp_path, *args, check=False)
    assert proc.returncode == 2 and message in proc.stderr
    assert proc.stdout == ""
