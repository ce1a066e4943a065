# `loom template` against Python jinja2 set up as Hugging Face renders chat templates
# (hf_jinja.py):
#  - every fixture template (LOOM_FIXTURES/chat-templates/*.jinja) x every conversation of
#    chat_conversations.py x add_generation_prompt false/true, rendered by both with
#    bos_token "<s>", eos_token "</s>", strftime_now pinned to the same time (TZ=UTC,
#    --now): the outcomes agree. Both render: byte-identical prompts. jinja2 raises:
#    Loom exits 1 with one line on stderr and nothing on stdout, and when the template
#    failed through raise_exception, that line carries the template's message. Loom fails
#    where jinja2 renders, or renders where jinja2 raises: failure. A failure message names
#    the template, the conversation and the first differing characters of both outputs.
#  - The Hugging Face set-up feature by feature (FEATURE_TEMPLATES): tojson and its options
#    (ensure_ascii, indent, separators, sort_keys; no HTML escaping), strftime_now,
#    {% generation %}, loop controls, trim_blocks/lstrip_blocks, the dropped trailing
#    newline, the immutable sandbox, the variables passed (documents=None included), and
#    the Python value semantics templates use (repr of dicts, lists and tuples, str and dict
#    methods, filters, tests, numbers), each a small template compared the same way.
#  - -m MODEL: stories260K.gguf has no chat template (exit 1 naming
#    tokenizer.chat_template); a GGUF written here with gguf-py that embeds a fixture
#    template and its own bos/eos tokens renders as jinja2 does with those token texts
#    (and --bos-token/--eos-token override them); without -m, the default model ($LOOM_MODEL)
#    renders its own template as jinja2 does, or, having none (the Gemma fixture), fails
#    naming tokenizer.chat_template.
#  - Errors: malformed messages JSON, messages not an array, bad --chat-template-kwargs
#    (exit 1, or 2 as usage errors), a missing messages file, a missing --messages (2), a
#    template syntax error (names the line), an unknown filter, an undefined variable,
#    raise_exception's text on stderr, and a runaway nested loop that must stop with an
#    error within seconds.
import json
import os
import pathlib
import subprocess
import time

import gguf
import pytest

import hf_jinja
from chat_conversations import ALL_CASES, applies
from conftest import field_value, metadata, reader

BOS = "<s>"
EOS = "</s>"


# ---- collection ----------------------------------------------------------------------------

def _template_paths():
    root = os.environ.get("LOOM_FIXTURES")
    if not root or not (pathlib.Path(root) / "chat-templates").is_dir():
        return []  # the fixtures_dir fixture fails with a clear message (see test_fixtures_present)
    return sorted((pathlib.Path(root) / "chat-templates").glob("*.jinja"))


def _read_source(path: pathlib.Path) -> str:
    # Bytes decoded as they are (no newline translation): Loom reads the same bytes.
    return path.read_bytes().decode("utf-8")


def _params():
    params = []
    for path in _template_paths():
        source = _read_source(path)
        for case in ALL_CASES:
            if not applies(case, source):
                continue
            for agp in (False, True):
                params.append(pytest.param(path.name, case, agp,
                                           id=f"{path.stem}-{case.name}-{'agp' if agp else 'noagp'}"))
    return params


def test_fixtures_present(fixtures_dir):
    templates = sorted((fixtures_dir / "chat-templates").glob("*.jinja"))
    assert len(templates) >= 50, f"expected the chat templates in {fixtures_dir}/chat-templates"
    assert len(templates) == len(_template_paths())


# ---- running both --------------------------------------------------------------------------

def loom_env():
    env = dict(os.environ)
    env["TZ"] = "UTC"
    return env


def run_loom(args, timeout=60) -> subprocess.CompletedProcess:
    """loom with args; stdout as bytes (compared byte for byte), stderr as text."""
    proc = subprocess.run([str(a) for a in args], capture_output=True, env=loom_env(),
                          timeout=timeout)
    proc.stderr = proc.stderr.decode("utf-8", errors="replace")
    return proc


@pytest.fixture(scope="session")
def case_files(tmp_path_factory):
    """Each case's messages (and tools) as JSON files: name -> (messages path, tools path)."""
    root = tmp_path_factory.mktemp("conversations")
    files = {}
    for case in ALL_CASES:
        m = root / f"{case.name}.messages.json"
        m.write_text(json.dumps(case.messages, ensure_ascii=False, indent=1), encoding="utf-8")
        t = None
        if case.tools is not None:
            t = root / f"{case.name}.tools.json"
            t.write_text(json.dumps(case.tools, ensure_ascii=False), encoding="utf-8")
        files[case.name] = (m, t)
    return files


def reference(source, messages, tools, agp, bos, eos, kwargs):
    """(rendered text, None) or (None, (kind, message)) where kind is "raise_exception" for
    the template's own raise_exception, else the exception's type name."""
    try:
        return hf_jinja.render(source, messages, tools=tools, add_generation_prompt=agp,
                               bos_token=bos, eos_token=eos, **(kwargs or {})), None
    except hf_jinja.TemplateRaised as e:
        return None, ("raise_exception", str(e))
    except Exception as e:  # noqa: BLE001 - any jinja2 failure is an outcome to compare
        return None, (type(e).__name__, str(e))


def first_difference(expected: str, got: str) -> str:
    """Where two outputs first differ, with the characters around it in both."""
    n = min(len(expected), len(got))
    i = next((k for k in range(n) if expected[k] != got[k]), n)
    line = expected.count("\n", 0, i) + 1
    lo = max(0, i - 60)
    return (f"first difference at character {i} (line {line}; lengths {len(expected)} "
            f"expected, {len(got)} Loom)\n"
            f"  before:   {expected[lo:i]!r}\n"
            f"  jinja2:   {expected[i:i + 80]!r}\n"
            f"  Loom:     {got[i:i + 80]!r}")


def assert_one_error_line(proc, what, codes=(1,)):
    """A failed run: nothing on stdout, one line on stderr, an exit code of codes (checked
    last, so a wrong code alone reads as such). Returns the line."""
    assert proc.returncode != 0, f"{what}: exit 0, stdout {proc.stdout[:300]!r}"
    assert proc.stdout == b"", f"{what}: stdout {proc.stdout[:300]!r}"
    assert proc.stderr.endswith("\n") and proc.stderr.count("\n") == 1, \
        f"{what}: stderr is not one line: {proc.stderr!r}"
    line = proc.stderr.strip()
    assert proc.returncode in codes, \
        f"{what}: exit {proc.returncode}, not {' or '.join(map(str, codes))} ({line!r})"
    return line


def compare(proc, expected, ref_error, what):
    """Asserts that Loom's outcome (proc) agrees with jinja2's (expected / ref_error)."""
    if ref_error is None:
        assert proc.returncode == 0, (f"{what}: jinja2 renders ({len(expected)} characters) "
                                      f"but Loom exits {proc.returncode}: {proc.stderr.strip()}")
        try:
            got = proc.stdout.decode("utf-8")
        except UnicodeDecodeError as e:
            pytest.fail(f"{what}: Loom's output is not UTF-8: {e}")
        if got != expected:
            pytest.fail(f"{what}: outputs differ\n{first_difference(expected, got)}",
                        pytrace=False)
        assert proc.stderr == "", f"{what}: stderr {proc.stderr!r}"
        return
    kind, message = ref_error
    assert proc.returncode != 0, (f"{what}: jinja2 raises {kind}: {message!r} but Loom "
                                  f"renders {proc.stdout[:200]!r}")
    assert proc.stdout == b"", f"{what}: jinja2 raises, Loom writes {proc.stdout[:300]!r}"
    line = proc.stderr.strip()
    if kind == "raise_exception":
        # The template's message, on one line (a message with line breaks may be folded).
        wanted = " ".join(message.split())
        assert message in line or wanted in " ".join(line.split()), \
            f"{what}: raise_exception({message!r}) but Loom says {line!r}"
    assert_one_error_line(proc, what)


def loom_template_args(loom_bin, template, messages_file, tools_file, agp, kwargs,
                       bos=BOS, eos=EOS):
    args = [loom_bin, "template", "--template", template, "--messages", messages_file,
            "--now", hf_jinja.FIXED_NOW_ARG]
    if bos is not None:
        args += ["--bos-token", bos]
    if eos is not None:
        args += ["--eos-token", eos]
    if tools_file is not None:
        args += ["--tools", tools_file]
    if agp:
        args.append("--add-generation-prompt")
    if kwargs:
        args += ["--chat-template-kwargs", json.dumps(kwargs)]
    return args


# ---- every fixture template x every conversation -------------------------------------------

@pytest.mark.parametrize("template,case,agp", _params())
def test_fixture_template(loom_bin, fixtures_dir, case_files, template, case, agp):
    path = fixtures_dir / "chat-templates" / template
    source = _read_source(path)
    expected, ref_error = reference(source, case.messages, case.tools, agp, BOS, EOS,
                                    case.kwargs)
    messages_file, tools_file = case_files[case.name]
    proc = run_loom(loom_template_args(loom_bin, path, messages_file, tools_file, agp,
                                       case.kwargs))
    compare(proc, expected, ref_error,
            f"{template} with {case.name}, add_generation_prompt={agp}")


def test_some_fixtures_render(fixtures_dir):
    """Guards the comparison against a reference that fails everywhere: most templates
    render the plain multi-turn conversation."""
    case = next(c for c in ALL_CASES if c.name == "multi_turn")
    rendered = 0
    for path in _template_paths():
        text, err = reference(_read_source(path), case.messages, None, True, BOS, EOS, None)
        rendered += err is None and len(text) > 0
    assert rendered >= 45, f"only {rendered} templates render the multi-turn conversation"


# ---- the Hugging Face set-up, feature by feature -------------------------------------------

# Small templates on what hf_jinja configures beyond plain jinja2 (tojson and its options,
# strftime_now, {% generation %}, loop controls, trim_blocks/lstrip_blocks, the trailing
# newline, the immutable sandbox, the variables passed) and on Python value semantics that
# chat templates rely on; rendered with FEATURE_MESSAGES (non-ASCII, quotes, <, >, &).
FEATURE_MESSAGES = [
    {"role": "system", "content": "Sys <b>&amp; 'q' \"dq\""},
    {"role": "user", "content": "Zürich 🦙 ünïcödé\n\ttab \\ back"},
    {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function",
     "function": {"name": "f", "arguments": {"b": 1.5, "a": [1, None, True, -0.0, 1e-07, 1e+20],
                                              "z": "é"}}}]},
]
FEATURE_TEMPLATES = {
    # tojson as HF replaces it
    "tojson": "{{ messages | tojson }}",
    "tojson_ensure_ascii": "{{ messages | tojson(ensure_ascii=True) }}",
    "tojson_indent": "{{ messages | tojson(indent=2) }}",
    "tojson_indent_sort_keys": "{{ messages[2] | tojson(indent=4, sort_keys=True) }}",
    "tojson_separators": "{{ messages | tojson(separators=(',', ':')) }}",
    "tojson_indent_string": "{{ messages[0] | tojson(indent='\\t') }}",
    "tojson_html_chars": "{{ '<a href=\"x\">&\\'</a>' | tojson }}",
    "tojson_scalars": "{{ 1.0 | tojson }} {{ 2 | tojson }} {{ none | tojson }} {{ true | tojson }}"
                      " {{ (1, 2) | tojson }} {{ '' | tojson }}",
    # the globals and extensions
    "strftime_now": "{{ strftime_now('%Y-%m-%d %H:%M:%S|%A %a|%B %b|%d %-d %e|%j|%I %p|%y|%%') }}",
    "generation_block": "{% for m in messages %}{% generation %}[{{ m.role }}]{% endgeneration %}"
                        "{% endfor %}",
    "loop_controls": "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}"
                     "{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}",
    # whitespace: trim_blocks, lstrip_blocks, keep_trailing_newline=False
    "trim_lstrip_blocks": "A\n    {% if true %}\n    B\n    {% endif %}\n"
                          "  {%+ if true %}C{% endif %}\n  {%- if true -%}  D  {%- endif %}\nE",
    "trailing_newline": "end\n",
    "two_trailing_newlines": "end\n\n",
    # the variables passed
    "variables": "{{ tools }}|{{ tools is none }}|{{ bos_token }}|{{ eos_token }}"
                 "|{{ add_generation_prompt }}",
    # HF's render_jinja_template passes documents=None besides tools=None.
    "variables_documents": "{{ documents is defined }}|{{ documents is none }}|{{ documents }}",
    # the immutable sandbox
    "sandbox_list_append": "{% set x = [] %}{{ x.append(1) }}",
    "sandbox_dict_update": "{% set x = {} %}{{ x.update({'a': 1}) }}",
    "sandbox_dict_pop": "{% set d = {'a': 1} %}{{ d.pop('a') }}",
    "sandbox_dunder": "[{{ ''.__class__ }}]",
    # Python values as templates print and use them
    "python_repr": "{{ messages[2] }} {{ [1, 'a', none, true, 1.5] }} {{ messages[1].content }}",
    "tuple_repr": "{{ (1, 'a') }} {{ {'b': 1, 'a': 2} | dictsort }} {{ messages[0] | items | list }}"
                  " {{ messages[0].items() | list }}",
    "string_methods": "{{ 'a,b,,c'.split(',') }} {{ '  x  '.strip() }}|{{ 'Hello'.startswith('He') }}"
                      " {{ 'ab cd'.title() }} {{ 'x-y'.replace('-', '+') }} {{ 'abc'[::-1] }}"
                      " {{ 'abc'[1:] }} {{ ' a b '.split() }} {{ 'ab'.upper() }}",
    "str_methods_more": "{{ 'xxaxx'.lstrip('x') }}|{{ 'xxaxx'.rstrip('x') }}|{{ '  a  '.lstrip() }}"
                        "|{{ 'file.py'.endswith('.py') }}|{{ 'a b c d'.split(' ', 1) }}"
                        "|{{ '{}-{}'.format(1, 'a') }}|{{ '{name}!'.format(name='n') }}"
                        "|{{ 'a<think>b</think>c'.split('</think>')[-1] }}|{{ 'abc'.find('c') }}"
                        "|{{ 'a\\nb'.splitlines() }}|{{ 'Ab'.lower() }}|{{ 'x'.join(['1', '2']) }}",
    "unicode_case": "{{ messages[1].content.upper() }}|{{ messages[1].content | upper }}"
                    "|{{ 'ÄÖÜ É' .lower() }}|{{ 'éa' | capitalize }}|{{ 'élan vital' | title }}",
    "dict_methods": "{% set d = messages[2].tool_calls[0].function.arguments %}"
                    "{{ d.keys() | list }} {{ d.get('q', 'default') }} {{ d | length }} {{ 'a' in d }}"
                    "{% for k, v in d.items() %} {{ k }}={{ v }}{% endfor %}",
    "string_filters": "{{ messages[0] | string }}|{{ [1, none] | string }}|{{ none | string }}"
                      "|{{ true | string }}|{{ ' a ' | trim }}|{{ 'ABC' | lower }}"
                      "|{{ 'a-b' | replace('-', '_') }}|{{ 'l1\\nl2\\n\\nl3' | indent(2) }}"
                      "|{{ 'l1\\nl2' | indent(4, true) }}|{{ messages[0] | length }}"
                      "|{{ '<x>' | safe }}|{{ messages[0] | list }}",
    "filters": "{{ messages | map(attribute='role') | join(',') }}"
               " {{ messages | selectattr('role', 'equalto', 'user') | list | length }}"
               " {{ [3, 1, 2] | sort }} {{ 'x' | default('y') }} {{ undefined_thing | default('d') }}"
               " {{ [1, 2] | first }} {{ [1, 2] | last }} {{ 'abc' | length }}"
               " {{ '%s-%d' | format('a', 3) }}",
    "tests": "{{ messages[1].content is string }} {{ messages[0] is mapping }}"
             " {{ messages is sequence }} {{ messages is iterable }} {{ 'x' is iterable }}"
             " {{ messages[2].content is none }} {{ 3 is number }} {{ 3 is integer }}"
             " {{ messages[2].tool_calls[0].function.arguments is mapping }} {{ 3.0 is float }}"
             " {{ true is boolean }} {{ true is true }} {{ false is false }} {{ 4 is even }}"
             " {{ messages[0].nope is defined }} {{ messages[0].nope is undefined }}"
             " {{ messages[0] is not string }}",
    "test_argument_without_parens": "{{ 6 is divisibleby 3 }} {{ 'a' is in 'abc' }}"
                                    " {{ 'a' is in ['a'] }} {{ 1 is in [1, 2] and true }}",
    "namespace_and_macros": "{% set ns = namespace(n=0) %}{% macro m(x, y='d') %}<{{ x }}{{ y }}>"
                            "{% endmacro %}{% for _ in messages %}{% set ns.n = ns.n + 1 %}"
                            "{{ m(ns.n) }}{% endfor %}{{ ns.n }}",
    "numbers": "{{ 7 / 2 }} {{ 7 // 2 }} {{ 7 % 3 }} {{ 2 ** 10 }} {{ 1e20 }} {{ 0.1 + 0.2 }}"
               " {{ -0.0 }} {{ 10 / 5 }} {{ 3 | float }} {{ '42' | int }} {{ 1.5 | round }}",
    "round_binary_float": "{{ 2.675 | round(2) }} {{ 0.125 | round(2) }} {{ 1.005 | round(2) }}",
    "loop_variables": "{% for m in messages %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}"
                      "{{ loop.last }}{{ loop.length }}{{ loop.revindex }}"
                      "{% if not loop.first %}{{ loop.previtem.role }}{% endif %};{% endfor %}",
}


@pytest.mark.parametrize("name", sorted(FEATURE_TEMPLATES))
def test_hf_setup_feature(loom_bin, tmp_path, name):
    source = FEATURE_TEMPLATES[name]
    expected, ref_error, proc, _ = _render_both(loom_bin, tmp_path, source, FEATURE_MESSAGES)
    compare(proc, expected, ref_error, f"feature template {name}: {source!r}")


# ---- -m MODEL --------------------------------------------------------------------------------

def write_messages(tmp_path, messages, name="messages.json"):
    p = tmp_path / name
    p.write_text(json.dumps(messages, ensure_ascii=False), encoding="utf-8")
    return p


SIMPLE = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
          {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Bye"}]


def test_model_without_chat_template(loom_bin, stories, tmp_path):
    messages = write_messages(tmp_path, SIMPLE)
    proc = run_loom([loom_bin, "template", "-m", stories, "--messages", messages])
    line = assert_one_error_line(proc, "stories260K.gguf")
    assert "tokenizer.chat_template" in line, line
    assert "stories260K.gguf" in line, line


MODEL_TEMPLATE = "Mistral-Small-3.2-24B-Instruct-2506.jinja"  # reads bos_token and eos_token
MODEL_BOS = "<|model-bos|>"
MODEL_EOS = "<|model-eos|>"


@pytest.fixture(scope="session")
def model_with_template(fixtures_dir, tmp_path_factory):
    """A tokenizer-only GGUF (gpt2 vocabulary, no tensors) written with gguf-py whose
    tokenizer.chat_template is MODEL_TEMPLATE and whose bos/eos tokens are MODEL_BOS and
    MODEL_EOS. Returns (path, template source)."""
    source = _read_source(fixtures_dir / "chat-templates" / MODEL_TEMPLATE)
    path = tmp_path_factory.mktemp("model") / "templated.gguf"
    tokens = ["<unk>", MODEL_BOS, MODEL_EOS, "[INST]", "[/INST]", "[SYSTEM_PROMPT]",
              "[/SYSTEM_PROMPT]", "[TOOL_CALLS]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]",
              "[TOOL_RESULTS]", "[/TOOL_RESULTS]"] + [chr(c) for c in range(33, 127)]
    types = [gguf.TokenType.CONTROL] * 12 + [gguf.TokenType.NORMAL] * (len(tokens) - 12)
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_scores([0.0] * len(tokens))
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_chat_template(source)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    # The file says what was meant (gguf-py reads it back).
    meta = metadata(path)
    assert meta["tokenizer.chat_template"] == source
    assert meta["tokenizer.ggml.tokens"].items[1] == MODEL_BOS
    return path, source


@pytest.mark.parametrize("agp", [False, True], ids=["noagp", "agp"])
@pytest.mark.parametrize("case_name", ["multi_turn", "tool_call_mistral_id", "special_chars"])
def test_model_template(loom_bin, model_with_template, case_files, case_name, agp):
    path, source = model_with_template
    case = next(c for c in ALL_CASES if c.name == case_name)
    expected, ref_error = reference(source, case.messages, case.tools, agp, MODEL_BOS,
                                    MODEL_EOS, None)
    assert ref_error is None, ref_error  # the case is one the template renders
    assert MODEL_BOS in expected
    messages_file, tools_file = case_files[case.name]
    args = [loom_bin, "template", "-m", path, "--messages", messages_file,
            "--now", hf_jinja.FIXED_NOW_ARG]
    if tools_file is not None:
        args += ["--tools", tools_file]
    if agp:
        args.append("--add-generation-prompt")
    compare(run_loom(args), expected, None, f"-m model with {MODEL_TEMPLATE}, {case_name}")


def test_model_template_token_override(loom_bin, model_with_template, case_files):
    """--bos-token / --eos-token replace the model's own texts."""
    path, source = model_with_template
    case = next(c for c in ALL_CASES if c.name == "multi_turn_no_system")
    expected, ref_error = reference(source, case.messages, None, False, "[B]", "[E]", None)
    assert ref_error is None and "[B]" in expected and "[E]" in expected
    proc = run_loom([loom_bin, "template", "-m", path, "--messages", case_files[case.name][0],
                     "--now", hf_jinja.FIXED_NOW_ARG, "--bos-token", "[B]",
                     "--eos-token", "[E]"])
    compare(proc, expected, None, "-m model with --bos-token/--eos-token")


def test_default_model_template(loom_bin, default_model, case_files):
    """Without -m, the default (Gemma) model: its own template with its own bos/eos texts
    when it has one, else exit 1 naming tokenizer.chat_template (the fixture has none)."""
    fields = reader(default_model).fields  # cached for the session, shared with other suites
    m, t = case_files["multi_turn"]
    args = [loom_bin, "template", "--messages", m, "--now", hf_jinja.FIXED_NOW_ARG,
            "--add-generation-prompt"]
    env = {k: v for k, v in os.environ.items() if k not in ("LOOM_CACHE", "XDG_CACHE_HOME")}
    env.update(LOOM_MODEL=str(default_model), TZ="UTC")
    proc = subprocess.run([str(a) for a in args], capture_output=True, env=env, timeout=60)
    proc.stderr = proc.stderr.decode("utf-8", errors="replace")
    if "tokenizer.chat_template" not in fields:
        line = assert_one_error_line(proc, f"default model {default_model.name}")
        assert "tokenizer.chat_template" in line, line
        return
    source = field_value(fields["tokenizer.chat_template"])
    tokens = field_value(fields["tokenizer.ggml.tokens"]).items
    bos = tokens[int(field_value(fields["tokenizer.ggml.bos_token_id"]))]
    eos = tokens[int(field_value(fields["tokenizer.ggml.eos_token_id"]))]
    case = next(c for c in ALL_CASES if c.name == "multi_turn")
    expected, ref_error = reference(source, case.messages, None, True, bos, eos, None)
    compare(proc, expected, ref_error, f"default model {default_model.name} with multi_turn")


# ---- errors ---------------------------------------------------------------------------------

@pytest.fixture
def simple_template(tmp_path):
    p = tmp_path / "simple.jinja"
    p.write_text("{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}")
    return p


def test_malformed_messages_json(loom_bin, simple_template, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('[{"role": "user", "content": "hi"}')
    proc = run_loom([loom_bin, "template", "--template", simple_template, "--messages", bad])
    line = assert_one_error_line(proc, "malformed JSON", codes=(1, 2))
    assert "bad.json" in line and "JSON" in line, line


def test_messages_not_an_array(loom_bin, simple_template, tmp_path):
    obj = write_messages(tmp_path, {"role": "user", "content": "hi"}, "object.json")
    proc = run_loom([loom_bin, "template", "--template", simple_template, "--messages", obj])
    line = assert_one_error_line(proc, "messages not an array", codes=(1, 2))
    assert "object.json" in line and "array" in line, line


def test_missing_messages_file(loom_bin, simple_template, tmp_path):
    proc = run_loom([loom_bin, "template", "--template", simple_template, "--messages",
                     tmp_path / "absent.json"])
    line = assert_one_error_line(proc, "missing messages file")
    assert "absent.json" in line, line


def test_missing_messages_option_is_usage_error(loom_bin, simple_template):
    proc = run_loom([loom_bin, "template", "--template", simple_template])
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stdout == b""
    assert proc.stderr.count("\n") == 1 and "--messages" in proc.stderr, proc.stderr


def test_bad_chat_template_kwargs(loom_bin, simple_template, tmp_path):
    m = write_messages(tmp_path, SIMPLE)
    for kwargs in ('{"enable_thinking": fals}', '[true]'):
        proc = run_loom([loom_bin, "template", "--template", simple_template, "--messages", m,
                         "--chat-template-kwargs", kwargs])
        line = assert_one_error_line(proc, f"--chat-template-kwargs {kwargs}", codes=(1, 2))
        assert "--chat-template-kwargs" in line, line


def _render_both(loom_bin, tmp_path, source, messages=SIMPLE, timeout=60):
    t = tmp_path / "t.jinja"
    t.write_bytes(source.encode("utf-8"))
    m = write_messages(tmp_path, messages)
    expected, ref_error = reference(source, messages, None, False, BOS, EOS, None)
    start = time.monotonic()
    proc = run_loom([loom_bin, "template", "--template", t, "--messages", m,
                     "--bos-token", BOS, "--eos-token", EOS, "--now", hf_jinja.FIXED_NOW_ARG],
                    timeout=timeout)
    return expected, ref_error, proc, time.monotonic() - start


def test_syntax_error_names_the_line(loom_bin, tmp_path):
    source = "{{ bos_token }}\n{% for m in messages %}{{ m.content }}{% endfor %}\n" \
             "{% if add_generation_prompt %}\nassistant:\n"
    expected, ref_error, proc, _ = _render_both(loom_bin, tmp_path, source)
    assert ref_error and ref_error[0] == "TemplateSyntaxError", ref_error
    compare(proc, expected, ref_error, "unclosed {% if %}")
    line = proc.stderr.strip()
    # The {% if %} opens on line 3; jinja2 reports the end of the template (line 4).
    assert "line 3" in line or "line 4" in line, line


def test_unknown_filter(loom_bin, tmp_path):
    source = "{% for m in messages %}{{ m.content | frobnicate }}{% endfor %}"
    expected, ref_error, proc, _ = _render_both(loom_bin, tmp_path, source)
    assert ref_error and ref_error[0] == "TemplateAssertionError", ref_error
    compare(proc, expected, ref_error, "unknown filter")
    assert "frobnicate" in proc.stderr, proc.stderr


def test_unknown_filter_in_untaken_branch(loom_bin, tmp_path):
    # jinja2 >= 3.0 looks filters up at run time inside a conditional: no error here.
    source = "{% if false %}{{ messages | frobnicate }}{% endif %}ok"
    expected, ref_error, proc, _ = _render_both(loom_bin, tmp_path, source)
    compare(proc, expected, ref_error, "unknown filter in an untaken branch")


def test_undefined_variable(loom_bin, tmp_path):
    source = "{{ messages[0].content }}{{ no_such_variable.attribute }}"
    expected, ref_error, proc, _ = _render_both(loom_bin, tmp_path, source)
    assert ref_error and ref_error[0] == "UndefinedError", ref_error
    compare(proc, expected, ref_error, "undefined variable")
    assert "no_such_variable" in proc.stderr, proc.stderr


def test_raise_exception_text_reaches_stderr(loom_bin, tmp_path):
    message = "Conversation roles must alternate user/assistant/user/assistant/..."
    source = ("{% for m in messages %}{% if loop.index0 == 2 %}"
              "{{ raise_exception('" + message + "') }}{% endif %}{{ m.content }}{% endfor %}")
    expected, ref_error, proc, _ = _render_both(loom_bin, tmp_path, source)
    assert ref_error == ("raise_exception", message), ref_error
    compare(proc, expected, ref_error, "raise_exception")
    assert message in proc.stderr


def test_runaway_loop_stops(loom_bin, tmp_path):
    source = ("{% for i in range(1000000) %}{% for j in range(1000000) %}x{% endfor %}"
              "{% endfor %}")
    t = tmp_path / "loop.jinja"
    t.write_text(source)
    m = write_messages(tmp_path, SIMPLE)
    start = time.monotonic()
    try:
        proc = run_loom([loom_bin, "template", "--template", t, "--messages", m], timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("loom template still runs a 10^12-iteration loop after 60 s (no budget)")
    elapsed = time.monotonic() - start
    line = assert_one_error_line(proc, "runaway loop")
    assert elapsed < 10, f"the runaway loop took {elapsed:.1f} s to stop ({line})"
    assert "line 1" in line, line
