#!/usr/bin/env python3
"""Regenerates wild-cases.json: every published chat template of ../shared/fixtures/chat-templates-wild rendered by
real jinja2 3.1.6, configured as transformers' apply_chat_template (see generate_jinja_cases.py), over the
conversations below. The Java test (WildTemplatesTest) replays every case and must match byte for byte, or raise
where jinja2 raised. The templates and their special tokens are copied into the JSON, so CI needs neither Python nor
the shared fixtures.
Run: python3 generate_wild_cases.py PATH/TO/chat-templates-wild  (writes wild-cases.json beside this file)."""
import datetime
import json
import os
import sys

from jinja2 import nodes
from jinja2.exceptions import TemplateError
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
FIXED_NOW = datetime.datetime(2026, 7, 4, 9, 5, 3)  # the Java test uses the same clock
SPECIAL = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"]


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return FIXED_NOW.strftime(fmt)


class AssistantTracker(Extension):
    """transformers' {% generation %} block, as it renders when no assistant mask is asked for: its body as is."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, loopcontrols])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception
env.globals["strftime_now"] = strftime_now

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "The city"}},
                   "required": ["city"]}}}
CALL = {"type": "function", "id": "call_1", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}

# Variables some templates read besides transformers' own (firefunction's `functions` and `datetime`).
EXTRA = {"functions": json.dumps([WEATHER]), "datetime": "2026-07-04"}

CONVERSATIONS = {
    "simple": ([{"role": "user", "content": "Hello!"}], None, None),
    "system": ([{"role": "system", "content": "You are terse."},
                {"role": "user", "content": "What is 2+2?"}], None, None),
    "multi-turn": ([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello. How can I help?"},
                    {"role": "user", "content": "Tell me a joke."}], None, None),
    "tools": ([{"role": "system", "content": "Use tools when needed."},
               {"role": "user", "content": "What is the weather in Paris?"}], [WEATHER], None),
    "tool-call": ([{"role": "user", "content": "What is the weather in Paris?"},
                   {"role": "assistant", "content": "", "tool_calls": [CALL]},
                   {"role": "tool", "name": "get_weather", "tool_call_id": "call_1", "content": "22 C, sunny"},
                   {"role": "user", "content": "Thanks."}], [WEATHER], None),
    "reasoning": ([{"role": "user", "content": "2+3?"},
                   {"role": "assistant", "content": "5", "reasoning_content": "Two plus three is five."},
                   {"role": "user", "content": "And 4+4?"}], None, None),
    "documents": ([{"role": "user", "content": "Summarize the document."}], None,
                  [{"title": "Tin", "text": "Tin is a soft metal."}]),
    "unicode": ([{"role": "user", "content": "Ünïcödé 漢字 🙂 {{ not a tag }} {% raw %} <b>&amp;</b> it's"}], None, None),
    "bigint": ([{"role": "user", "content": "Hi", "metadata": {"message_id": 18446744073709551615}}], None, None),
}


def load(folder):
    config_path = os.path.join(folder, "tokenizer_config.json")
    config = json.load(open(config_path, encoding="utf-8")) if os.path.exists(config_path) else {}
    jinja_path = os.path.join(folder, "chat_template.jinja")
    if os.path.exists(jinja_path):
        source = open(jinja_path, encoding="utf-8").read()
    else:
        source = config["chat_template"]
        if isinstance(source, list):
            source = next(t["template"] for t in source if t.get("name") == "default")
    special = {}
    for key in SPECIAL:
        value = config.get(key)
        if isinstance(value, dict):
            value = value.get("content")
        if value:
            special[key] = value
    extra = config.get("additional_special_tokens")
    if extra:
        special["additional_special_tokens"] = [t["content"] if isinstance(t, dict) else t for t in extra]
    return source, special


def main():
    root = sys.argv[1]
    templates = {}
    cases = []
    for name in sorted(os.listdir(root)):
        folder = os.path.join(root, name)
        if not os.path.isdir(folder):
            continue
        source, special = load(folder)
        templates[name] = {"template": source, "special": special}
        for conversation, (messages, tools, documents) in CONVERSATIONS.items():
            for agp in (True, False) if conversation == "simple" else (True,):
                case = {"template": name, "conversation": conversation, "add_generation_prompt": agp}
                try:
                    compiled = env.from_string(source)
                    case["expected"] = compiled.render(messages=messages, tools=tools, documents=documents,
                                                       add_generation_prompt=agp, **EXTRA, **special)
                except Exception as e:  # recorded: the Java renderer must fail too
                    case["error"] = type(e).__name__ + ": " + str(e)
                    case["raised"] = isinstance(e, TemplateError) and type(e) is TemplateError
                cases.append(case)
    out = {"extra": EXTRA, "conversations": {k: {"messages": v[0], "tools": v[1], "documents": v[2]} for k, v in CONVERSATIONS.items()},
           "templates": templates, "cases": cases}
    with open(os.path.join(HERE, "wild-cases.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
    print(len(templates), "templates,", len(cases), "cases,", sum("error" in c for c in cases), "raise in jinja2")


main()
