# Conversations that chat templates are rendered with in test_chat_templates.py, each a
# Case: a name, the messages (OpenAI / Hugging Face chat format), the tools passed (None:
# no --tools) and extra template variables (chat_template_kwargs). They cover system, user
# and assistant turns (single and multi-turn, with and without a system message), tool
# definitions (several tools, nested JSON-schema parameters, enums, arrays, a tool without
# parameters, non-ASCII text; and a flat pair that the stricter tool templates accept),
# assistant tool calls (arguments as a dict and as a JSON string, one call and parallel
# calls, with OpenAI-style ids, Mistral-style 9-character ids and no ids, content null,
# empty or text beside the calls), tool results (with tool_call_id and/or name), non-ASCII
# text and emoji, special characters (quotes, backslashes, braces, "{{", "{%",
# special-token texts, surrounding whitespace), reasoning_content on assistant turns and
# <think> in content, multimodal-style content lists (text parts, an image part), numbers
# of every JSON kind in tool arguments, and a 20-turn conversation. Cases with kwargs
# (enable_thinking false/true) are only rendered by templates whose source mentions every
# kwarg (KWARG_CASES).
import copy
import dataclasses
import json
from typing import Optional


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    messages: list
    tools: Optional[list] = None
    kwargs: Optional[dict] = None


# ---- tools -------------------------------------------------------------------------------

GET_WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a given location.",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string",
                             "description": "The city and country, e.g. \"Paris, France\""},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"],
                         "description": "The temperature unit."},
            },
            "required": ["location"],
        },
    },
}

SEARCH_FLIGHTS = {
    "type": "function",
    "function": {
        "name": "search_flights",
        "description": "Search flights between two airports.\nReturns at most `limit` offers.",
        "parameters": {
            "type": "object",
            "properties": {
                "origin": {"type": "string", "description": "IATA code of the departure airport"},
                "destination": {"type": "string", "description": "IATA code of the arrival airport"},
                "date": {"type": "string", "format": "date", "description": "Departure day, YYYY-MM-DD"},
                "passengers": {
                    "type": "object",
                    "description": "Who travels.",
                    "properties": {
                        "adults": {"type": "integer", "minimum": 1, "default": 1},
                        "children": {"type": "integer", "minimum": 0},
                        "ages": {"type": "array", "items": {"type": "integer"}},
                    },
                    "required": ["adults"],
                },
                "cabin": {"type": "string", "enum": ["economy", "premium", "business", "first"]},
                "max_price": {"type": "number", "description": "Upper bound in €."},
                "airlines": {"type": "array", "items": {"type": "string"},
                             "description": "Allowed carriers; empty means any."},
                "direct_only": {"type": "boolean", "default": False},
                "limit": {"type": ["integer", "null"], "default": 10},
            },
            "required": ["origin", "destination", "date"],
        },
    },
}

RUN_CODE = {
    "type": "function",
    "function": {
        "name": "run_code",
        "description": "Run a snippet in a sandbox and return its output.",
        "parameters": {
            "type": "object",
            "properties": {
                "language": {"type": "string", "enum": ["python", "javascript", "bash"]},
                "code": {"type": "string", "description": "The program text."},
                "timeout_s": {"type": "number", "description": "Seconds before it is killed.",
                              "default": 5.0},
                "files": {
                    "type": "array",
                    "description": "Files to create first.",
                    "items": {
                        "type": "object",
                        "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
                        "required": ["path", "content"],
                    },
                },
            },
            "required": ["language", "code"],
        },
    },
}

GET_TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Current UTC time.",
        "parameters": {"type": "object", "properties": {}},
    },
}

TOOLS = [GET_WEATHER, SEARCH_FLIGHTS, RUN_CODE, GET_TIME]


# ---- building blocks -----------------------------------------------------------------------

SYSTEM = {"role": "system", "content": "You are a helpful assistant."}


def user(text):
    return {"role": "user", "content": text}


def assistant(text):
    return {"role": "assistant", "content": text}


def call(name, arguments, id=None):
    c = {"type": "function", "function": {"name": name, "arguments": arguments}}
    if id is not None:
        c = {"id": id, **c}
    return c


def tool_result(content, tool_call_id=None, name=None):
    m = {"role": "tool", "content": content}
    if tool_call_id is not None:
        m["tool_call_id"] = tool_call_id
    if name is not None:
        m["name"] = name
    return m


WEATHER_ARGS = {"location": "Paris, France", "unit": "celsius"}
FLIGHT_ARGS = {"origin": "CDG", "destination": "NRT", "date": "2025-04-01",
               "passengers": {"adults": 2, "children": 1, "ages": [34, 36, 7]},
               "cabin": "economy", "max_price": 1250.5, "airlines": ["AF", "JL"],
               "direct_only": True, "limit": None}


def _long_conversation():
    msgs = [copy.deepcopy(SYSTEM)]
    for i in range(1, 11):
        msgs.append(user(f"Question {i}: what is {i} squared?"))
        msgs.append(assistant(f"{i} squared is {i * i}."))
    return msgs  # system + 20 turns


# ---- the cases -----------------------------------------------------------------------------

CASES = [
    Case("single_user", [user("Hello! Who are you?")]),
    Case("system_user", [SYSTEM, user("What is the capital of France?")]),
    Case("multi_turn", [
        SYSTEM,
        user("What is the capital of France?"),
        assistant("The capital of France is Paris."),
        user("And of Japan?"),
    ]),
    Case("multi_turn_no_system", [
        user("Hi there"),
        assistant("Hello! How can I help you today?"),
        user("Tell me a joke."),
        assistant("Why did the scarecrow win an award? He was outstanding in his field."),
        user("Another one, please."),
    ]),
    Case("ends_with_assistant", [
        SYSTEM,
        user("Write a haiku about autumn."),
        assistant("Crisp leaves drift and fall\nGolden light on quiet paths\nThe year breathes slowly"),
    ]),
    Case("empty_system", [{"role": "system", "content": ""}, user("Say hi.")]),
    Case("tools_plain", [SYSTEM, user("What can you do?")], tools=TOOLS),
    Case("tools_plain_no_system", [user("Hello")], tools=[GET_WEATHER]),
    Case("tool_call_dict_args", [
        SYSTEM,
        user("What's the weather in Paris?"),
        {"role": "assistant", "content": None,
         "tool_calls": [call("get_weather", WEATHER_ARGS, id="call_abc123")]},
        tool_result('{"temperature": 18, "condition": "sunny"}', tool_call_id="call_abc123",
                    name="get_weather"),
    ], tools=TOOLS),
    Case("tool_call_string_args", [
        SYSTEM,
        user("What's the weather in Paris?"),
        {"role": "assistant", "content": "",
         "tool_calls": [call("get_weather", json.dumps(WEATHER_ARGS), id="call_abc123")]},
        tool_result('{"temperature": 18, "condition": "sunny"}', tool_call_id="call_abc123",
                    name="get_weather"),
        assistant("It is sunny and 18 °C in Paris."),
        user("Thanks!"),
    ], tools=TOOLS),
    Case("parallel_tool_calls", [
        user("Weather in Paris and in Tokyo, and flights between them on April 1st?"),
        {"role": "assistant", "content": None, "tool_calls": [
            call("get_weather", {"location": "Paris, France"}, id="call_1"),
            call("get_weather", {"location": "Tokyo, Japan", "unit": "celsius"}, id="call_2"),
            call("search_flights", FLIGHT_ARGS, id="call_3"),
        ]},
        tool_result("18 degrees, sunny", tool_call_id="call_1", name="get_weather"),
        tool_result("22 degrees, cloudy", tool_call_id="call_2", name="get_weather"),
        tool_result('[{"flight": "AF276", "price": 980.0}]', tool_call_id="call_3",
                    name="search_flights"),
        assistant("Paris: 18 degrees and sunny. Tokyo: 22 degrees and cloudy. "
                  "AF276 costs 980 EUR."),
        user("Book it."),
    ], tools=TOOLS),
    # Flat parameter schemas and content "" beside dict arguments: what the stricter tool
    # templates (Hermes, Qwen3, LFM2) accept, so that their tool paths render too.
    Case("tool_call_simple_tools", [
        SYSTEM,
        user("Weather in Oslo, and the time?"),
        {"role": "assistant", "content": "", "tool_calls": [
            call("get_weather", {"location": "Oslo, Norway"}, id="call_w1"),
            call("get_time", {}, id="call_t1")]},
        tool_result("-3 degrees, snow", tool_call_id="call_w1", name="get_weather"),
        tool_result("09:05", tool_call_id="call_t1", name="get_time"),
        assistant("It is -3 degrees with snow in Oslo; the time is 09:05 UTC."),
        user("Thanks."),
    ], tools=[GET_WEATHER, GET_TIME]),
    Case("multi_turn_simple_tools", [
        SYSTEM,
        user("Hi!"),
        assistant("Hello! I can look up the weather."),
        user("Nice, maybe later."),
    ], tools=[GET_WEATHER]),
    Case("tool_call_no_id", [
        SYSTEM,
        user("What time is it?"),
        {"role": "assistant", "content": "", "tool_calls": [call("get_time", {})]},
        tool_result("2025-03-07T09:05:04Z", name="get_time"),
    ], tools=TOOLS),
    Case("tool_call_mistral_id", [
        user("Run print(1+1) in Python."),
        {"role": "assistant", "content": "", "tool_calls": [
            call("run_code", {"language": "python", "code": "print(1+1)"}, id="a1B2c3D4e")]},
        tool_result("2\n", tool_call_id="a1B2c3D4e", name="run_code"),
        assistant("The program printed 2."),
        user("Now in bash, twice in parallel."),
        {"role": "assistant", "content": "", "tool_calls": [
            call("run_code", '{"language": "bash", "code": "echo $((1+1))"}', id="Zx9Yw8Vu7"),
            call("run_code", '{"language": "bash", "code": "expr 1 + 1"}', id="Q5r4S3t2U")]},
        tool_result("2", tool_call_id="Zx9Yw8Vu7", name="run_code"),
        tool_result("2", tool_call_id="Q5r4S3t2U", name="run_code"),
    ], tools=TOOLS),
    Case("tool_call_with_content", [
        SYSTEM,
        user("Flights from CDG to NRT on 2025-04-01 for two adults?"),
        {"role": "assistant", "content": "Let me search for flights.",
         "tool_calls": [call("search_flights", json.dumps(FLIGHT_ARGS), id="call_fl1")]},
        tool_result('{"offers": []}', tool_call_id="call_fl1", name="search_flights"),
        assistant("I found no offers for that day."),
    ], tools=TOOLS),
    Case("tool_call_numbers", [
        user("Run some code."),
        {"role": "assistant", "content": None, "tool_calls": [call("run_code", {
            "language": "python", "code": "x = 1", "timeout_s": 2.5,
            "files": [{"path": "a.txt", "content": ""}],
            "ints": [0, -1, 42, 1234567890123], "floats": [0.1, -0.0, 1.0, 3.14159, 1e-07, 1e+20],
            "flags": [True, False, None], "nested": {"deep": {"list": [[1, 2], [], {}]}},
        }, id="call_num")]},
        tool_result("ok", tool_call_id="call_num", name="run_code"),
    ], tools=TOOLS),
    Case("non_ascii", [
        {"role": "system", "content": "Tu es un assistant serviable. Réponds en français."},
        user("Grüße! 你好，世界。Привет, мир! こんにちは 🦙🚀👩‍💻 café naïve Ω≈ç√ — “quotes” ‘single’"),
        assistant("Bonjour ! 😊 Ça va très bien, merci. 日本語も話せます。"),
        user("Et le temps à Zürich ? ☀️"),
        {"role": "assistant", "content": None, "tool_calls": [
            call("get_weather", {"location": "Zürich, Schweiz", "unit": "celsius"}, id="call_zrh")]},
        tool_result('{"température": 21, "ciel": "dégagé ☀️"}', tool_call_id="call_zrh",
                    name="get_weather"),
    ], tools=[GET_WEATHER]),
    Case("special_chars", [
        {"role": "system",
         "content": "  Be exact: quote 'single' and \"double\", back\\slash \\n \\u0041, tab\there.  \n"},
        user("Template text: {{ messages }} {% if x %}y{% endif %} {# no #} {{'a'}} "
             "<|im_end|> <|im_start|>assistant </s> <s> [INST] <|eot_id|> <end_of_turn> "
             "{\"json\": [1, {\"a\": null}]} ${var} %s %d \x01 \n\n"),
        assistant("\n  Braces { } [ ] and {{ }} and {%- raw -%} stay text.\n"),
        user("Trailing spaces and newlines   \n\n"),
    ]),
    Case("reasoning_content", [
        SYSTEM,
        user("What is 17 * 23?"),
        {"role": "assistant", "content": "17 * 23 = 391.",
         "reasoning_content": "17 * 20 = 340, 17 * 3 = 51, 340 + 51 = 391."},
        user("And 391 / 17?"),
        {"role": "assistant", "content": "391 / 17 = 23.",
         "reasoning_content": "Division undoes the product above."},
        user("Thanks. One more: 2 ** 10?"),
    ]),
    Case("reasoning_with_tool_call", [
        user("What's the weather in Paris?"),
        {"role": "assistant", "content": "",
         "reasoning_content": "The user wants the weather; call get_weather.",
         "tool_calls": [call("get_weather", WEATHER_ARGS, id="call_r1")]},
        tool_result("18 degrees, sunny", tool_call_id="call_r1", name="get_weather"),
        {"role": "assistant", "content": "It is 18 degrees and sunny in Paris.",
         "reasoning_content": "Report the tool result."},
        user("Great."),
    ], tools=[GET_WEATHER]),
    Case("think_in_content", [
        user("Is 97 prime?"),
        assistant("<think>\nCheck divisors up to 9: 2, 3, 5, 7 do not divide 97.\n</think>\n\n"
                  "Yes, 97 is prime."),
        user("And 91?"),
    ]),
    Case("multimodal_text_parts", [
        {"role": "system", "content": [{"type": "text", "text": "You describe things."}]},
        {"role": "user", "content": [{"type": "text", "text": "Describe a sunset."},
                                     {"type": "text", "text": "In one sentence."}]},
        {"role": "assistant", "content": [{"type": "text",
                                           "text": "The sky glows orange as the sun sinks."}]},
        {"role": "user", "content": [{"type": "text", "text": "Now a sunrise."}]},
    ]),
    Case("multimodal_image_part", [
        SYSTEM,
        {"role": "user", "content": [{"type": "image", "url": "https://example.com/cat.png"},
                                     {"type": "text", "text": "What is in this picture?"}]},
    ]),
    Case("long_20_turns", _long_conversation() + [user("Question 11: what is 11 squared?")]),
]

# Cases with chat_template_kwargs: rendered only by templates that read every kwarg.
KWARG_CASES = [
    Case("multi_turn+enable_thinking_false", CASES[2].messages, kwargs={"enable_thinking": False}),
    Case("multi_turn+enable_thinking_true", CASES[2].messages, kwargs={"enable_thinking": True}),
    Case("reasoning_content+enable_thinking_false",
         next(c for c in CASES if c.name == "reasoning_content").messages,
         kwargs={"enable_thinking": False}),
    Case("tool_call_dict_args+enable_thinking_false",
         next(c for c in CASES if c.name == "tool_call_dict_args").messages,
         tools=TOOLS, kwargs={"enable_thinking": False}),
]

ALL_CASES = CASES + KWARG_CASES
assert len({c.name for c in ALL_CASES}) == len(ALL_CASES)
assert len(_long_conversation()) == 21


def applies(case: Case, template_source: str) -> bool:
    """Whether the template renders this case: kwarg cases only where the template reads
    every kwarg (elsewhere they would render as the base case does)."""
    return not case.kwargs or all(k in template_source for k in case.kwargs)
