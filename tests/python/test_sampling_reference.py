"""Loom's sampler against llama.cpp (llama-cpp-python).

- The golden data that tests/runtime/test_sampler.cpp (Sampler.MatchesLlamaCpp) compares
  Loom's chain with is what llama.cpp's sampler API produces today: it is regenerated in
  memory with scripts/gen_sampler_golden.py and must equal the checked-in file, so an
  upgrade of llama.cpp that changes the semantics fails here, naming the case.
- `loom run -l TOKEN-inf` (logit bias through the shared sampling flags) gives the same
  greedy continuation as llama.cpp with the same bias, on stories260K.
- Bad sampling flags are usage errors (exit 2) that name the flag or value.
"""
import importlib.util
import os

import pytest

from conftest import run

PROMPT = "Once upon a time"
N_PREDICT = 24


def _generator(source_dir):
    spec = importlib.util.spec_from_file_location("gen_sampler_golden",
                                                  source_dir / "scripts" / "gen_sampler_golden.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _blocks(text):
    """case name -> its block of lines."""
    blocks, name = {}, None
    for line in text.splitlines():
        if line.startswith("case "):
            name = line.split()[1]
            blocks[name] = []
        blocks[name].append(line)
    return blocks


def test_golden_data_is_what_llama_cpp_produces(source_dir):
    gen = _generator(source_dir)
    want = gen.render(gen.make_cases())
    path = source_dir / "tests" / "runtime" / "data" / "sampler_golden.txt"
    have = path.read_text(encoding="ascii")
    if have != want:
        old, new = _blocks(have), _blocks(want)
        changed = [n for n in new if old.get(n) != new[n]] + [n for n in old if n not in new]
        pytest.fail(f"{path} differs from llama.cpp's results in cases {changed[:10]}; if "
                    f"llama.cpp changed on purpose, re-run scripts/gen_sampler_golden.py and the "
                    f"C++ test", pytrace=False)


@pytest.fixture(scope="module")
def llama(stories):
    import llama_cpp
    return llama_cpp.Llama(str(stories), n_ctx=128, n_threads=2, verbose=False)


def _loom_greedy(loom_bin, stories, *extra):
    out = run([loom_bin, "run", "-m", stories, "-p", PROMPT, "-n", str(N_PREDICT), "--temp", "0",
               "-c", "128", *extra])
    assert out.returncode == 0, out.stderr
    return out.stdout


def _llama_greedy(llama, logit_bias=None):
    llama.reset()
    return llama(PROMPT, max_tokens=N_PREDICT, temperature=0.0, top_k=1, logit_bias=logit_bias,
                 repeat_penalty=1.0)["choices"][0]["text"]


def test_logit_bias_bans_like_llama_cpp(loom_bin, stories, llama):
    plain = _llama_greedy(llama)
    assert _loom_greedy(loom_bin, stories) == plain
    # Ban the first two tokens of the unbiased continuation: both engines must take the
    # same detour.
    first = llama.tokenize(plain.encode(), add_bos=False, special=False)[:2]
    bias = {t: float("-inf") for t in first}
    ref = _llama_greedy(llama, bias)
    assert ref != plain
    got = _loom_greedy(loom_bin, stories, *[f"--logit-bias={t}-inf" for t in first])
    assert got == ref
    # TOKEN=BIAS is the same thing.
    assert _loom_greedy(loom_bin, stories, *[f"-l{t}=-inf" for t in first]) == ref


@pytest.mark.parametrize("flag, value, needle", [
    ("--logit-bias", "abc", '"abc": no token id'),
    ("--logit-bias", "12+", '"12+": no bias'),
    ("--logit-bias", "12+inf", "+inf"),
    ("--logit-bias", "12+-1", "two signs"),
    ("--typical", "1.5", "--typical"),
    ("--repeat-penalty", "0", "--repeat-penalty"),
    ("--repeat-last-n", "-2", "--repeat-last-n"),
    ("--presence-penalty", "1000", "--presence-penalty"),
])
def test_bad_sampling_flags_are_usage_errors(loom_bin, stories, flag, value, needle):
    out = run([loom_bin, "run", "-m", stories, "-p", "x", f"{flag}={value}"])
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert needle in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
