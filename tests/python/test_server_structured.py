"""Structured output through `loom serve` and the official openai SDK: tool calling
(tool_choice required / named / none / auto, parallel_tool_calls, streaming) in each
template family's syntax, and response_format (json_object, json_schema). Sampling runs at
temperature 1 over several seeds: the grammar, not luck, must make every call and every
JSON reply valid (checked with the jsonschema package).

stories260K (fast, a 512-token vocabulary) is given real chat templates from the fixtures
(Qwen 2.5 = Hermes <tool_call>, Llama 3.2 bare JSON, Mistral Small 3.2 [TOOL_CALLS], DeepSeek
R1 markers); Gemma 3 270M (its turn format knows no tools: the generic JSON family) runs the
same checks on a real model."""
import json

import jsonschema
import openai
import pytest

from server_process import LoomServer

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The current weather in a city.",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "minLength": 1, "maxLength": 16},
        "unit": {"enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7}},
        "required": ["city", "unit"], "additionalProperties": False}}}
ADD = {"type": "function", "function": {
    "name": "add", "description": "Sum of two integers.",
    "parameters": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                   "required": ["a", "b"], "additionalProperties": False}}}
TOOLS = [WEATHER, ADD]
SCHEMAS = {t["function"]["name"]: t["function"]["parameters"] for t in TOOLS}
PERSON = {"type": "object", "properties": {
    "name": {"type": "string", "maxLength": 12},
    "age": {"type": "integer", "minimum": 0, "maximum": 120},
    "tags": {"type": "array", "items": {"enum": ["a", "b", "c"]}, "maxItems": 3},
    "email": {"type": "string", "format": "email"}},
    "required": ["name", "age", "tags"], "additionalProperties": False}
ASK = [{"role": "user", "content": "What is the weather in Paris, and what is 2 + 3?"}]
TEMPLATES = {
    "hermes": "Qwen-Qwen2.5-7B-Instruct.jinja",
    "llama3": "meta-llama-Llama-3.2-3B-Instruct.jinja",
    "mistral": "Mistral-Small-3.2-24B-Instruct-2506.jinja",
    "deepseek": "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja",
}
SEEDS = range(4)


@pytest.fixture(scope="module", params=sorted(TEMPLATES))
def stories_family(request, loom_bin, stories, fixtures_dir):
    template = fixtures_dir / "chat-templates" / TEMPLATES[request.param]
    with LoomServer(loom_bin, stories, "--chat-template", template, "-c", "4096", "--parallel", "2",
                    "-t", "2") as server:
        yield request.param, server.client()


@pytest.fixture(scope="module")
def gemma(loom_bin, default_model):
    with LoomServer(loom_bin, default_model, "-c", "2048", "--parallel", "2", "-t", "2") as server:
        yield server.client()


def create(client, **kwargs):
    kwargs.setdefault("messages", ASK)
    kwargs.setdefault("max_tokens", 300)
    kwargs.setdefault("temperature", 1.0)
    return client.chat.completions.create(model="m", **kwargs)


def check_calls(calls, only=None):
    assert calls, "no tool call"
    for call in calls:
        assert call.type == "function" and len(call.id) == 9 and call.id.isalnum(), call
        assert call.function.name in SCHEMAS, call
        if only:
            assert call.function.name == only
        jsonschema.validate(json.loads(call.function.arguments), SCHEMAS[call.function.name])


def test_required_tool_calls_are_valid(stories_family):
    family, client = stories_family
    for seed in SEEDS:
        r = create(client, tools=TOOLS, tool_choice="required", seed=seed)
        choice = r.choices[0]
        assert choice.finish_reason in ("tool_calls", "length"), (family, choice)
        check_calls(choice.message.tool_calls)


def test_named_tool_and_single_call(stories_family):
    family, client = stories_family
    for seed in SEEDS:
        r = create(client, tools=TOOLS, tool_choice={"type": "function", "function": {"name": "add"}}, seed=seed)
        assert r.choices[0].finish_reason == "tool_calls", (family, r.choices[0])
        check_calls(r.choices[0].message.tool_calls, only="add")
        assert len(r.choices[0].message.tool_calls) == 1
        r = create(client, tools=TOOLS, tool_choice="required", parallel_tool_calls=False, seed=seed)
        assert r.choices[0].finish_reason == "tool_calls"
        assert len(r.choices[0].message.tool_calls) == 1


def test_tool_choice_none_gives_text(stories_family):
    _, client = stories_family
    r = create(client, tools=TOOLS, tool_choice="none", max_tokens=20, seed=1)
    assert r.choices[0].message.tool_calls is None
    assert r.choices[0].message.content


def test_auto_gives_text_or_valid_calls(stories_family):
    _, client = stories_family
    for seed in SEEDS:
        r = create(client, tools=TOOLS, max_tokens=120, seed=seed)
        message = r.choices[0].message
        if message.tool_calls:
            check_calls(message.tool_calls)
        else:
            assert isinstance(message.content, str)


def test_streamed_tool_calls_reassemble(stories_family):
    family, client = stories_family
    for seed in SEEDS[:2]:
        stream = create(client, tools=TOOLS, tool_choice="required", seed=seed, stream=True)
        calls, finish = {}, None
        for chunk in stream:
            if not chunk.choices:
                continue
            delta = chunk.choices[0].delta
            for tc in delta.tool_calls or []:
                entry = calls.setdefault(tc.index, {"id": None, "name": "", "arguments": ""})
                entry["id"] = tc.id or entry["id"]
                entry["name"] += (tc.function.name or "") if tc.function else ""
                entry["arguments"] += (tc.function.arguments or "") if tc.function else ""
            finish = chunk.choices[0].finish_reason or finish
        assert finish in ("tool_calls", "length") and calls, (family, finish)
        # The same reply, non-streamed, gives the same calls (same seed).
        r = create(client, tools=TOOLS, tool_choice="required", seed=seed)
        expected = [(c.function.name, json.loads(c.function.arguments)) for c in r.choices[0].message.tool_calls]
        got = [(calls[i]["name"], json.loads(calls[i]["arguments"])) for i in sorted(calls)]
        assert got == expected
        for c in got:
            jsonschema.validate(c[1], SCHEMAS[c[0]])


def test_tool_history_round_trip(stories_family):
    """The assistant's calls and the tool's answer go back into the template."""
    _, client = stories_family
    r = create(client, tools=TOOLS, tool_choice={"type": "function", "function": {"name": "add"}}, seed=3)
    call = r.choices[0].message.tool_calls[0]
    history = ASK + [r.choices[0].message.model_dump(exclude_none=True),
                     {"role": "tool", "tool_call_id": call.id, "content": "5"}]
    r2 = create(client, messages=history, tools=TOOLS, tool_choice="none", max_tokens=10)
    assert r2.choices[0].message.content is not None


def test_response_format_json_schema_validates(stories_family):
    _, client = stories_family
    fmt = {"type": "json_schema", "json_schema": {"name": "person", "strict": True, "schema": PERSON}}
    for seed in SEEDS:
        r = create(client, messages=[{"role": "user", "content": "A person, as JSON."}], response_format=fmt, seed=seed)
        assert r.choices[0].finish_reason == "stop", r.choices[0]
        jsonschema.validate(json.loads(r.choices[0].message.content), PERSON)


def test_bad_schemas_are_400(stories_family):
    _, client = stories_family
    bad = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object", "patternProperties": {"a": {}}}}}
    with pytest.raises(openai.BadRequestError) as e:
        create(client, response_format=bad)
    assert "patternProperties" in e.value.message
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "not": {}}}}
    with pytest.raises(openai.BadRequestError) as e:
        create(client, tools=[tool], tool_choice="required")
    assert "not" in e.value.message


def test_gemma_tools_and_json(gemma):
    """Gemma's turn format has no tool syntax: the generic JSON family."""
    for seed in SEEDS[:2]:
        # One call: a base model given parallel calls may go on calling until max_tokens.
        r = create(gemma, tools=TOOLS, tool_choice="required", parallel_tool_calls=False, seed=seed, max_tokens=300)
        assert r.choices[0].finish_reason == "tool_calls", r.choices[0]
        check_calls(r.choices[0].message.tool_calls)
        r = create(gemma, tools=TOOLS, seed=seed, max_tokens=300)  # auto: JSON calls or a response
        message = r.choices[0].message
        if message.tool_calls:
            check_calls(message.tool_calls)
        else:
            assert isinstance(message.content, str)
    fmt = {"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON}}
    for seed in SEEDS[:2]:
        r = create(gemma, messages=[{"role": "user", "content": "Describe a person as JSON."}], response_format=fmt,
                   seed=seed, max_tokens=300)
        assert r.choices[0].finish_reason == "stop", r.choices[0]
        jsonschema.validate(json.loads(r.choices[0].message.content), PERSON)
    r = create(gemma, messages=[{"role": "user", "content": "Any JSON object."}],
               response_format={"type": "json_object"}, seed=5, max_tokens=200)
    if r.choices[0].finish_reason == "stop":
        assert isinstance(json.loads(r.choices[0].message.content), dict)
