#!/usr/bin/env python3
"""Writes tests/runtime/data/sampler_golden.txt: llama.cpp's sampler chain run on random
logits, for tests/runtime/test_sampler.cpp to compare Loom's Sampler::apply() against.

llama.cpp is llama-cpp-python's libllama, driven through its low-level sampler API
(llama_sampler_init_logit_bias, _penalties, _top_k, _typical, _top_p, _min_p, _temp,
_greedy, _dist) on a llama_token_data_array in id order, as llama_sampler_sample builds
it. The chain is the common sampler's: logit bias -> penalties -> top-k -> typical ->
top-p -> min-p -> temperature; the dist sampler then fills in the probabilities (its
draw is not used). Greedy cases run logit bias -> penalties -> greedy, Loom's order for
temperature <= 0.

Cases cover each filter alone and the whole chain with random parameters. Logits are
float32 values drawn from Python's seeded `random` (stable across versions), written with
9 significant digits, which round-trip float32 exactly. Tokens whose final logit is -inf
are left out of the expected list: llama.cpp keeps banned tokens at p = 0, Loom drops
them. Deterministic: re-running with the same llama.cpp rewrites identical text, which
tests/python/test_sampling_reference.py checks. Re-run after a llama-cpp-python upgrade:
    python scripts/gen_sampler_golden.py            (in the set-up's virtual environment)

File format, one block per case:
    case NAME
    params TEMP TOP_K TOP_P MIN_P TYPICAL_P REPEAT_PENALTY FREQUENCY_PENALTY PRESENCE_PENALTY LAST_N
    history TOKEN...              tokens accepted, oldest first
    bias TOKEN:BIAS...
    logits LOGIT...               n_vocab of them, in id order
    kept TOKEN:LOGIT:P...         llama.cpp's result, in its order
    end
"""
import ctypes
import math
import os
import random
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "runtime", "data", "sampler_golden.txt")


def f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def fmt(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return "%.9g" % x


class Case:
    def __init__(self, name, n_vocab, rng):
        self.name = name
        self.logits = [f32(rng.uniform(-8.0, 8.0)) for _ in range(n_vocab)]
        self.temp, self.top_k, self.top_p, self.min_p, self.typical_p = 1.0, 0, 1.0, 0.0, 1.0
        self.repeat, self.freq, self.presence, self.last_n = 1.0, 0.0, 0.0, 64
        self.history = []
        self.bias = []

    def params_line(self):
        values = [self.temp, self.top_k, self.top_p, self.min_p, self.typical_p, self.repeat,
                  self.freq, self.presence, self.last_n]
        return "params " + " ".join(str(v) if isinstance(v, int) else fmt(f32(v)) for v in values)


def run_llama_cpp(case):
    """llama.cpp's kept tokens for a case: [(id, logit, p)] in llama.cpp's final order."""
    import llama_cpp as L

    n = len(case.logits)
    data = (L.llama_token_data * n)()
    for i, x in enumerate(case.logits):
        data[i].id, data[i].logit, data[i].p = i, x, 0.0
    arr = L.llama_token_data_array(data=data, size=n, selected=-1, sorted=False)

    samplers = []
    if case.bias:
        biases = (L.llama_logit_bias * len(case.bias))()
        for i, (token, bias) in enumerate(case.bias):
            biases[i].token, biases[i].bias = token, bias
        samplers.append(L.llama_sampler_init_logit_bias(n, len(case.bias), biases))
    # This llama-cpp-python's libllama takes n_vocab first (its binding says so too).
    penalties = L.llama_sampler_init_penalties(n, case.last_n, case.repeat, case.freq,
                                               case.presence)
    for token in case.history:
        L.llama_sampler_accept(penalties, token)
    samplers.append(penalties)
    greedy = case.temp <= 0.0
    if greedy:
        samplers.append(L.llama_sampler_init_greedy())
    else:
        samplers.append(L.llama_sampler_init_top_k(case.top_k))
        samplers.append(L.llama_sampler_init_typical(case.typical_p, 1))
        samplers.append(L.llama_sampler_init_top_p(case.top_p, 1))
        samplers.append(L.llama_sampler_init_min_p(case.min_p, 1))
        samplers.append(L.llama_sampler_init_temp(case.temp))
        samplers.append(L.llama_sampler_init_dist(1234))  # fills p; the draw is not used
    for s in samplers:
        L.llama_sampler_apply(s, ctypes.byref(arr))
    if greedy:
        chosen = data[arr.selected]
        kept = [(chosen.id, chosen.logit, 1.0)]
    else:
        kept = [(data[i].id, data[i].logit, data[i].p) for i in range(arr.size)
                if not math.isinf(data[i].logit)]
    for s in samplers:
        L.llama_sampler_free(s)
    return kept


def make_cases():
    rng = random.Random(20240607)
    cases = []

    def history(c, n_tokens, pool):
        # Tokens from a small pool, so that many repeat (counts > 1).
        ids = rng.sample(range(len(c.logits)), pool)
        c.history = [rng.choice(ids) for _ in range(n_tokens)]

    for i in range(8):
        c = Case(f"penalties_{i}", rng.randint(16, 200), rng)
        c.repeat = rng.choice([1.0, 1.1, 1.5, 2.0, 0.8])
        c.freq = rng.choice([0.0, 0.25, 0.5, -0.3])
        c.presence = rng.choice([0.0, 0.4, 1.0])
        c.last_n = rng.choice([0, 4, 16, 64])
        history(c, rng.randint(0, 100), rng.randint(1, 12))
        cases.append(c)
    for i in range(4):
        c = Case(f"bias_{i}", rng.randint(16, 200), rng)
        c.bias = [(rng.randrange(len(c.logits)), rng.choice([-math.inf, -2.5, 1.0, 5.0, 0.125]))
                  for _ in range(rng.randint(1, 6))]
        cases.append(c)
    for i in range(4):
        c = Case(f"top_k_{i}", rng.randint(16, 300), rng)
        c.top_k = rng.choice([1, 5, 40, 150, 1000])
        cases.append(c)
    for i in range(6):
        c = Case(f"typical_{i}", rng.randint(16, 300), rng)
        c.typical_p = rng.choice([0.2, 0.5, 0.9, 0.95])
        c.temp = rng.choice([0.7, 1.0])
        cases.append(c)
    for i in range(4):
        c = Case(f"top_p_{i}", rng.randint(16, 300), rng)
        c.top_p = rng.choice([0.1, 0.5, 0.9, 0.95])
        cases.append(c)
    for i in range(4):
        c = Case(f"min_p_{i}", rng.randint(16, 300), rng)
        c.min_p = rng.choice([0.01, 0.05, 0.1, 0.3])
        cases.append(c)
    for i in range(12):
        c = Case(f"chain_{i}", rng.randint(32, 400), rng)
        c.temp = rng.choice([0.5, 0.8, 1.0, 1.3])
        c.top_k = rng.choice([0, 10, 40, 100])
        c.typical_p = rng.choice([1.0, 0.9, 0.95])
        c.top_p = rng.choice([1.0, 0.9, 0.95])
        c.min_p = rng.choice([0.0, 0.02, 0.05])
        c.repeat = rng.choice([1.0, 1.1, 1.3])
        c.freq = rng.choice([0.0, 0.1])
        c.presence = rng.choice([0.0, 0.2])
        c.last_n = rng.choice([8, 64])
        history(c, rng.randint(0, 80), rng.randint(1, 20))
        c.bias = [(rng.randrange(len(c.logits)), rng.choice([-math.inf, 2.0, -1.0]))
                  for _ in range(rng.randint(0, 3))]
        cases.append(c)
    for i in range(4):
        c = Case(f"greedy_{i}", rng.randint(16, 200), rng)
        c.temp = 0.0
        c.repeat = rng.choice([1.5, 3.0])
        c.presence = rng.choice([0.0, 2.0])
        history(c, rng.randint(1, 20), rng.randint(1, 5))
        # Ban and penalize around the argmax so that the choice moves.
        best = max(range(len(c.logits)), key=lambda t: c.logits[t])
        c.bias = [(best, -math.inf)] if i % 2 == 0 else []
        c.history.append(best)
        cases.append(c)
    return cases


def render(cases) -> str:
    lines = []
    for c in cases:
        kept = run_llama_cpp(c)
        lines.append(f"case {c.name}")
        lines.append(c.params_line())
        lines.append(" ".join(["history"] + [str(t) for t in c.history]))
        lines.append(" ".join(["bias"] + [f"{t}:{fmt(f32(b))}" for t, b in c.bias]))
        lines.append(" ".join(["logits"] + [fmt(x) for x in c.logits]))
        lines.append(" ".join(["kept"] + [f"{t}:{fmt(f32(l))}:{fmt(f32(p))}" for t, l, p in kept]))
        lines.append("end")
    return "\n".join(lines) + "\n"


def main() -> int:
    text = render(make_cases())
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="ascii") as f:
        f.write(text)
    print(f"wrote {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
