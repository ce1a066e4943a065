# The reference renderer of chat templates: Python jinja2 set up as Hugging Face
# transformers sets it up in apply_chat_template (utils/chat_template_utils.py,
# _compile_jinja_template and render_jinja_template):
#  - jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
#    with the extensions AssistantTracker ({% generation %}...{% endgeneration %}, which
#    renders its body; HF only records where it lies when asked for an assistant mask) and
#    jinja2.ext.loopcontrols ({% break %}, {% continue %});
#  - the filter tojson replaced by json.dumps with ensure_ascii=False (jinja2's own escapes
#    HTML characters and sorts keys) taking the options indent, separators, sort_keys;
#  - the globals raise_exception(message), which raises jinja2.exceptions.TemplateError,
#    and strftime_now(format), which formats the current local time: here a fixed time
#    (FIXED_NOW) so that outputs are deterministic;
#  - the template compiled with from_string (so jinja2's keep_trailing_newline=False drops
#    one trailing newline of the source) and rendered with messages, tools (None when
#    there are none), documents (None), add_generation_prompt, the special tokens and the
#    extra keyword arguments (chat_template_kwargs) as variables.
import datetime
import functools
import json

import jinja2
import jinja2.ext
import jinja2.nodes
from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

# The time strftime_now() formats; `loom template --now FIXED_NOW_ARG` with TZ=UTC pins Loom
# to the same local time. A single-digit day and hour tell %d from %-d and %H from %-H.
FIXED_NOW = datetime.datetime(2025, 3, 7, 9, 5, 4)
FIXED_NOW_ARG = FIXED_NOW.strftime("%Y-%m-%dT%H:%M:%S")


class TemplateRaised(TemplateError):
    """What raise_exception raises: a jinja2 TemplateError (as in HF) whose type tells the
    tests that the template failed on purpose, with its own message."""


class GenerationTracker(jinja2.ext.Extension):
    """{% generation %}...{% endgeneration %}: renders the body unchanged, as HF's
    AssistantTracker does (it returns caller() and only notes the span when tracking)."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_generation_support"), [], [],
                                      body).set_lineno(lineno)

    @jinja2.pass_eval_context
    def _generation_support(self, context, caller):
        return caller()


def _raise_exception(message):
    raise TemplateRaised(message)


def _tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    # HF's override: jinja2's built-in tojson escapes <, >, &, ' and sorts keys.
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                      sort_keys=sort_keys)


def _strftime_now(format):
    return FIXED_NOW.strftime(format)


def make_environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationTracker, jinja2.ext.loopcontrols])
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    return env


@functools.lru_cache(maxsize=None)
def compile_template(source: str) -> jinja2.Template:
    """The compiled template (cached per source, as HF caches it). Raises
    jinja2.TemplateSyntaxError for a template jinja2 cannot parse."""
    return make_environment().from_string(source)


def render(source: str, messages, tools=None, add_generation_prompt=False, bos_token="",
           eos_token="", **kwargs) -> str:
    """The prompt as HF's apply_chat_template(tokenize=False) renders it. Raises what
    jinja2 raises: TemplateRaised for raise_exception, another exception otherwise."""
    return compile_template(source).render(
        messages=messages, tools=tools, documents=None,
        add_generation_prompt=add_generation_prompt,
        bos_token=bos_token, eos_token=eos_token, **kwargs)
