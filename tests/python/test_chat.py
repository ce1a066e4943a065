"""`loom chat` driven through a pipe: multi-turn conversation through the chat template
(the model's, or the Gemma fallback for the default model), /save and /load of the
history as OpenAI-style messages JSON, /system, /reset, unknown commands, end of input."""
import json
import os
import subprocess

LOOM = os.environ["LOOM_BIN"]
FIXTURES = os.environ["LOOM_FIXTURES"]
SIMPLE_TEMPLATE = ("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
                   "{% if add_generation_prompt %}assistant:{% endif %}")


def chat(stdin, *args):
    return subprocess.run([LOOM, "chat", *args], input=stdin.encode(), capture_output=True, timeout=300)


def test_multi_turn_save_and_load(tmp_path):
    template = tmp_path / "t.jinja"
    template.write_text(SIMPLE_TEMPLATE)
    saved = tmp_path / "conv.json"
    model = os.path.join(FIXTURES, "stories260K.gguf")
    out = chat(f"Once upon a time\nThe dog \\\nran\n/system Be brief.\n/save {saved}\n/exit\n",
               "-m", model, "--chat-template", str(template), "-n", "12", "--temp", "0", "-c", "128")
    assert out.returncode == 0, out.stderr
    messages = json.loads(saved.read_text())
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant"]
    assert messages[0]["content"] == "Be brief."
    assert messages[3]["content"] == "The dog \nran"  # a line ending in \ continues
    assert messages[2]["content"] and messages[2]["content"] in out.stdout.decode()

    # Loading the conversation and asking again continues from it.
    saved2 = tmp_path / "conv2.json"
    out = chat(f"/load {saved}\nAnd then?\n/save {saved2}\n/reset\n/save {tmp_path / 'empty.json'}\n/bogus\n",
               "-m", model, "--chat-template", str(template), "-n", "8", "--temp", "0", "-c", "128")
    assert out.returncode == 0, out.stderr
    assert len(json.loads(saved2.read_text())) == 7
    assert [m["role"] for m in json.loads((tmp_path / "empty.json").read_text())] == ["system"]
    assert b"unknown command /bogus" in out.stderr


def test_same_seed_same_reply(tmp_path):
    template = tmp_path / "t.jinja"
    template.write_text(SIMPLE_TEMPLATE)
    model = os.path.join(FIXTURES, "stories260K.gguf")
    args = ("-m", model, "--chat-template", str(template), "-n", "16", "--temp", "1", "--seed", "3", "-c", "128")
    assert chat("Hello\n", *args).stdout == chat("Hello\n", *args).stdout


def test_default_model_chats_with_the_gemma_turn_format(tmp_path):
    saved = tmp_path / "conv.json"
    out = chat(f"What is the capital of France?\nAnd of Italy?\n/save {saved}\n", "-n", "6", "--temp", "0")
    assert out.returncode == 0, out.stderr
    assert [m["role"] for m in json.loads(saved.read_text())] == ["user", "assistant", "user", "assistant"]


def test_model_without_template_needs_one():
    out = chat("hi\n", "-m", os.path.join(FIXTURES, "stories260K.gguf"))
    assert out.returncode == 1
    assert b"--chat-template" in out.stderr and out.stdout == b""


def test_ctrl_c_stops_the_reply_and_keeps_the_session(tmp_path):
    # An unlimited reply (-n -1) from the default model runs for minutes; SIGINT once it has
    # started must end just that reply: the session goes on to the next input line, keeps
    # the partial reply in the history and exits normally.
    import signal
    saved = tmp_path / "conv.json"
    proc = subprocess.Popen([LOOM, "chat", "-n", "-1", "--temp", "0", "-c", "2048", "-t", "1"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        proc.stdin.write(b"Write a very long story about a dragon.\n")
        proc.stdin.flush()
        first = os.read(proc.stdout.fileno(), 64)  # blocks until the reply streams
        assert first
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(input=f"/save {saved}\n/exit\n".encode(), timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    messages = json.loads(saved.read_text())
    assert [m["role"] for m in messages] == ["user", "assistant"]
    reply = messages[1]["content"]
    # Uninterrupted, this reply runs to the full context (8130 characters, measured).
    assert reply and len(reply) < 2000, len(reply)
