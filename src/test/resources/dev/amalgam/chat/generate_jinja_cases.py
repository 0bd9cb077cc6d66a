#!/usr/bin/env python3
"""Regenerates jinja-cases.json: templates rendered by real jinja2 configured exactly as transformers'
_compile_jinja_template does (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols,
its tojson / raise_exception / strftime_now). The Java tests replay every case and must match byte for byte.
Run: python3 generate_jinja_cases.py  (needs jinja2; writes jinja-cases.json beside this file)."""
import datetime
import json
import os

from jinja2.exceptions import TemplateError
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
FIXED_NOW = datetime.datetime(2026, 7, 4, 9, 5, 3)  # the Java test uses the same clock


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return FIXED_NOW.strftime(fmt)


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception
env.globals["strftime_now"] = strftime_now

qwen3 = json.load(open(os.path.join(HERE, "..", "fixtures", "qwen3-tokenizer", "tokenizer_config.json")))["chat_template"]

DEEPSEEK_R1 = (
    "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
    "{% set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='', is_first_sp=true) %}"
    "{%- for message in messages %}{%- if message['role'] == 'system' %}{%- if ns.is_first_sp %}"
    "{% set ns.system_prompt = ns.system_prompt + message['content'] %}{% set ns.is_first_sp = false %}"
    "{%- else %}{% set ns.system_prompt = ns.system_prompt + '\\n\\n' + message['content'] %}{%- endif %}{%- endif %}{%- endfor %}"
    "{{ bos_token }}{{ ns.system_prompt }}"
    "{%- for message in messages %}{%- if message['role'] == 'user' %}{%- set ns.is_tool = false -%}"
    "{{'<｜User｜>' + message['content']}}{%- endif %}"
    "{%- if message['role'] == 'assistant' and 'tool_calls' in message %}{%- set ns.is_tool = false -%}"
    "{%- for tool in message['tool_calls'] %}{%- if not ns.is_first %}{%- if message['content'] is none %}"
    "{{'<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments'] + '\\n' + '```' + '<｜tool▁call▁end｜>'}}"
    "{%- else %}{{'<｜Assistant｜>' + message['content'] + '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments'] + '\\n' + '```' + '<｜tool▁call▁end｜>'}}"
    "{%- endif %}{%- set ns.is_first = true -%}{%- else %}"
    "{{'\\n' + '<｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments'] + '\\n' + '```' + '<｜tool▁call▁end｜>'}}"
    "{%- endif %}{%- endfor %}{{'<｜tool▁calls▁end｜><｜end▁of▁sentence｜>'}}{%- endif %}"
    "{%- if message['role'] == 'assistant' and 'tool_calls' not in message %}{%- if ns.is_tool %}"
    "{{'<｜tool▁outputs▁end｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}{%- set ns.is_tool = false -%}"
    "{%- else %}{% set content = message['content'] %}{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}"
    "{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endif %}"
    "{%- if message['role'] == 'tool' %}{%- set ns.is_tool = true -%}{%- if ns.is_output_first %}"
    "{{'<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}{%- set ns.is_output_first = false %}"
    "{%- else %}{{'\\n<｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}{%- endif %}{%- endif %}{%- endfor -%}"
    "{% if ns.is_tool %}{{'<｜tool▁outputs▁end｜>'}}{% endif %}{% if add_generation_prompt and not ns.is_tool %}{{'<｜Assistant｜><think>\\n'}}{% endif %}"
)

LLAMA3_LIKE = """{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = strftime_now("%d %b %Y") %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message + builtin tools #}
{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
{{- "Cutting Knowledge Date: December 2023\\n" }}
{{- "Today Date: " + date_string + "\\n\\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions.\\n\\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\\n\\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\\n\\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\\n\\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}
        {{- '{"name": "' + tool_call.name + '", ' }}
        {{- '"parameters": ' }}
        {{- tool_call.arguments | tojson }}
        {{- "}" }}
        {{- "<|eot_id|>" }}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\\n\\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}
"""

MISTRAL_LIKE = """{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {%- if message['role'] == 'user' %}
        {%- if loop.first and system_message is defined %}
            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}
        {%- else %}
            {{- ' [INST] ' + message['content'] + ' [/INST]' }}
        {%- endif %}
    {%- elif message['role'] == 'assistant' %}
        {{- ' ' + message['content'] + eos_token}}
    {%- else %}
        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}
    {%- endif %}
{%- endfor %}
"""

GEMMA_LIKE = """{{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
    {%- endif -%}
    {%- if (message['role'] == 'assistant') -%}
        {%- set role = "model" -%}
    {%- else -%}
        {%- set role = message['role'] -%}
    {%- endif -%}
    {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else "") }}
    {%- if message['content'] is string -%}
        {{ message['content'] | trim }}
    {%- elif message['content'] is iterable -%}
        {%- for item in message['content'] -%}
            {%- if item['type'] == 'image' -%}
                {{ '<start_of_image>' }}
            {%- elif item['type'] == 'text' -%}
                {{ item['text'] | trim }}
            {%- endif -%}
        {%- endfor -%}
    {%- else -%}
        {{ raise_exception("Invalid content type") }}
    {%- endif -%}
    {{ '<end_of_turn>\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{'<start_of_turn>model\n'}}
{%- endif -%}
"""

CHATML = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"

WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather", "description": "Get the weather — in °C",
                "parameters": {"type": "object", "properties": {"city": {"type": "string", "enum": ["Paris", "東京"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7.5}}, "required": ["city"]}}}

CONVERSATIONS = {
    "simple": [{"role": "user", "content": "Hi there"}],
    "system": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
               {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Bye"}],
    "thinking": [{"role": "user", "content": "2+2?"},
                 {"role": "assistant", "content": "<think>\nadd them\n</think>\n\n4"},
                 {"role": "user", "content": "3+3?"},
                 {"role": "assistant", "content": "<think>\nagain\n</think>\n\n6"}],
    "reasoning_field": [{"role": "user", "content": "Q"},
                        {"role": "assistant", "content": "A", "reasoning_content": "because"},
                        {"role": "user", "content": "Q2"},
                        {"role": "assistant", "content": "\n\nA2", "reasoning_content": "\nmore\n"}],
    "tools": [{"role": "system", "content": "You can call tools."},
              {"role": "user", "content": "Weather in 東京?"},
              {"role": "assistant", "content": "", "tool_calls": [
                  {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "東京", "days": 2}}},
                  {"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
              {"role": "tool", "content": "{\"temp\": 21.5}"},
              {"role": "tool", "content": "sunny"},
              {"role": "assistant", "content": "It is 21.5 °C and sunny. 🌞"}],
    "tool_response_user": [{"role": "user", "content": "<tool_response>x</tool_response>"},
                           {"role": "user", "content": "real question"},
                           {"role": "assistant", "content": "<think>t</think>answer"}],
    "unicode": [{"role": "user", "content": "naïve café — 🤖 \"quoted\" \\ back\\slash\ttab\r\nCRLF"}],
    "bad_order": [{"role": "assistant", "content": "first"}, {"role": "user", "content": "second"}],
    "multimodal": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "  What is this?  "}]},
                   {"role": "assistant", "content": "A cat."}],
    "deepseek_tools": [{"role": "system", "content": "S1"}, {"role": "system", "content": "S2"},
                       {"role": "user", "content": "call"},
                       {"role": "assistant", "content": None, "tool_calls": [
                           {"type": "function", "function": {"name": "f", "arguments": "{\"a\": 1}"}},
                           {"type": "function", "function": {"name": "g", "arguments": "{}"}}]},
                       {"role": "tool", "content": "r1"}, {"role": "tool", "content": "r2"},
                       {"role": "assistant", "content": "done"}],
}

cases = []


def case(name, template, **vars):
    cases.append({"name": name, "template": template, "vars": vars})


# --- real-world templates over several conversations ---
for conv_name, conv in CONVERSATIONS.items():
    for agp in (True, False):
        common = dict(messages=conv, add_generation_prompt=agp, tools=None, documents=None)
        case(f"qwen3/{conv_name}/agp={agp}", qwen3, eos_token="<|im_end|>", pad_token="<|endoftext|>", **common)
        case(f"deepseek-r1/{conv_name}/agp={agp}", DEEPSEEK_R1, bos_token="<｜begin▁of▁sentence｜>", **common)
        case(f"llama3/{conv_name}/agp={agp}", LLAMA3_LIKE, bos_token="<|begin_of_text|>", **common)
        case(f"mistral/{conv_name}/agp={agp}", MISTRAL_LIKE, bos_token="<s>", eos_token="</s>", **common)
        case(f"gemma/{conv_name}/agp={agp}", GEMMA_LIKE, bos_token="<bos>", **common)
        case(f"chatml/{conv_name}/agp={agp}", CHATML, **common)
case("qwen3/tools-list", qwen3, messages=CONVERSATIONS["tools"], tools=[WEATHER_TOOL], add_generation_prompt=True, documents=None)
case("qwen3/tools-no-system", qwen3, messages=CONVERSATIONS["simple"], tools=[WEATHER_TOOL], add_generation_prompt=True, documents=None)
case("qwen3/enable_thinking=false", qwen3, messages=CONVERSATIONS["simple"], add_generation_prompt=True, enable_thinking=False, tools=None)
case("qwen3/enable_thinking=true", qwen3, messages=CONVERSATIONS["simple"], add_generation_prompt=True, enable_thinking=True, tools=None)
case("llama3/tools", LLAMA3_LIKE, bos_token="<|begin_of_text|>", messages=CONVERSATIONS["system"], tools=[WEATHER_TOOL], add_generation_prompt=True)
case("llama3/tools-system", LLAMA3_LIKE, bos_token="<|begin_of_text|>", messages=CONVERSATIONS["system"], tools=[WEATHER_TOOL], tools_in_user_message=False, add_generation_prompt=True)
case("llama3/tools-empty", LLAMA3_LIKE, bos_token="<|begin_of_text|>", messages=[{"role": "system", "content": "x"}], tools=[WEATHER_TOOL])

# --- whitespace control: trim_blocks, lstrip_blocks, -, + ---
WS = [
    "a\n{% if true %}\nb\n{% endif %}\nc",
    "a\n  {% if true %}\n  b\n  {% endif %}\nc",
    "a\n\t {% if true %}  \nb\n{% endif %}",
    "a  {% if true %}b{% endif %}  c",
    "a\n  {%- if true %}b{% endif -%}  \n  c",
    "a\n  {%+ if true %}b{% endif +%}\nc",
    "a\n  {{ 'x' }}\n  {{- 'y' -}}\n  z",
    "a\n  {# comment #}\nb\n  {#- c -#}  \n c\n{#+ x +#}\nd",
    "line1\r\nline2\r\n{% if true %}\r\nline3\r\n{% endif %}\r\n",
    "ends with newline\n",
    "ends with two newlines\n\n",
    "{% for i in [1,2,3] %}\n  {{ i }}\n{% endfor %}\n",
    "{% for i in [1,2,3] -%}\n  {{ i }}\n{%- endfor %}",
    "{%- for i in [1,2] %}  {{ i }}  {% endfor -%}  ",
    "  {% set x = 1 %}  {{ x }}",
    "x  \n  {%- set x = 1 %}\n{{ x }}",
    "{{ 'a' }}   {%- if true -%}   {{ 'b' }}   {%- endif -%}   {{ 'c' }}",
    "{% if true %}{% endif %}\n\nafter",
    "   {% if true %}\n",
    "{{ '{{ not a tag }}' }} {{ '{%' }} {{ '#}' }}",
    "a {{- ' b' }} {{ 'c' -}} d",
    "{%- if true -%}\n\n\n  x  \n\n{%- endif -%}",
    "{% raw_text = 1 %}" if False else "{# multi\nline\ncomment #}\nafter",
    "\u00a0 {% if true %}nbsp{% endif %}",
    "x\n \u3000{% if true %}ideographic{% endif %}",
    "{{ 1 }}{# c #}\n{{ 2 }}",
    "{% for x in [] %}\nno\n{% else %}\nempty\n{% endfor %}",
]
for i, t in enumerate(WS):
    case(f"whitespace/{i}", t)

# --- expressions ---
EXPR = [
    "{{ 'single' }} {{ \"double\" }} {{ 'esc\\n\\t\\\\\\'q\\\"' }} {{ '\\x41\\u00e9\\U0001F916\\101' }} {{ 'unknown\\d' }}",
    "{{ 'adj' 'acent' }}",
    "{{ 1 }} {{ -1 }} {{ 1.5 }} {{ 1e3 }} {{ 2.5e-3 }} {{ 1_000 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }}",
    "{{ true }} {{ True }} {{ false }} {{ none }} {{ None }}",
    "{{ [1, 'a', none, true, 1.0] }} {{ {'k': 'v', 'n': [1]} }} {{ (1,) }} {{ (1, 2) }} {{ () }}",
    "{{ 1 + 2 }} {{ 7 - 10 }} {{ 3 * 4 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }}",
    "{{ 1.5 + 1 }} {{ 0.1 + 0.2 }} {{ 1 / 3 }} {{ 10 / 5 }} {{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 0.00001 }} {{ 123456789.125 }} {{ -0.0 }}",
    "{{ 'a' ~ 1 ~ none ~ true ~ undefined_thing }} {{ 'ab' * 3 }} {{ [1] * 2 }} {{ [1] + [2] }}",
    "{{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' != 'b' }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'abc' < 'abd' }} {{ [1,2] < [1,3] }}",
    "{{ 'b' in 'abc' }} {{ 'x' not in 'abc' }} {{ 2 in [1,2] }} {{ 'k' in {'k': 1} }} {{ 'v' in {'k': 'v'} }} {{ 'a' in missing }}",
    "{{ true and 'yes' }} {{ false or 'fallback' }} {{ '' or 0 or none }} {{ not '' }} {{ not not 'x' }} {{ 1 and 0 }}",
    "{{ 'yes' if true else 'no' }} {{ 'yes' if false else 'no' }} [{{ 'only' if false }}] {{ 1 if false else 2 if false else 3 }}",
    "{{ -2 ** 2 }} {{ (-2) ** 2 }} {{ 2 + 3 * 4 }} {{ (2 + 3) * 4 }} {{ 'a' ~ 1 + 2 }} {{ not 1 == 2 }}",
    "{{ -'x'|length }}" if False else "{{ -[1,2,3]|length }} {{ 1 + [1,2]|length }}",
    "{% set s = 'hello world' %}{{ s[0] }} {{ s[-1] }} {{ s[1:4] }} {{ s[::-1] }} {{ s[::2] }} {{ s[-5:] }} {{ s[:-6] }} {{ s[100:] }}|{{ s[4:1] }}|{{ s[4:1:-1] }}",
    "{% set l = [0,1,2,3,4,5] %}{{ l[::-1] }} {{ l[-2:] }} {{ l[1:-1:2] }} {{ l[10] is defined }} {{ l[-1] }} {{ l[-7] is defined }} {{ l.0 }} {{ l[5:0:-2] }}",
    "{% set d = {'a': 1, 'b': {'c': [10, 20]}} %}{{ d.a }} {{ d['a'] }} {{ d.b.c[1] }} {{ d['b']['c'][-1] }} {{ d.missing is defined }} {{ d['missing'] is undefined }}",
    "{% set d = {'items': 'key', 'x': 1} %}{{ d['items'] }} {{ d.items() | list }} {{ d.keys() | list }} {{ d.values() | list }} {{ d.get('x') }} {{ d.get('y') }} {{ d.get('y', 'dflt') }}",
    "{{ '🤖abc'[0] }} {{ '🤖abc'|length }} {{ 'a🤖b'[1:] }} {{ 'a🤖b'[::-1] }}",
    "{{ messages[0].role }} {{ messages[0]['content'] }} {{ messages|length }} {{ messages[-1].content }}",
    "{{ (1, 2)[0] }} {{ [1, 2][1] }} {{ 'abc'.upper() }} {{ 'x'.nosuchattr }}",
]
for i, t in enumerate(EXPR):
    case(f"expr/{i}", t, messages=CONVERSATIONS["system"])

# --- string methods ---
STR = [
    "{{ '  x  '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ '\\n\\nhi\\n'.lstrip('\\n') }}|{{ 'hi\\n\\n'.rstrip() }}|{{ 'abcba'.strip('ab') }}|{{ '\u00a0nb\u00a0'.strip() }}",
    "{{ 'a,b,,c,'.split(',') }} {{ ',a'.split(',') }} {{ '  a  b  '.split() }} {{ 'a b c'.split(' ', 1) }} {{ ''.split(',') }} {{ ''.split() }} {{ 'a<x>b<x>'.split('<x>') }}",
    "{{ 'a,b,c'.rsplit(',', 1) }} {{ '  a b  c '.rsplit(None, 1) }} {{ 'a\\nb\\r\\nc\\n'.splitlines() }}",
    "{{ 'abc'.startswith('ab') }} {{ 'abc'.startswith(('x', 'a')) }} {{ 'abc'.endswith('bc') }} {{ 'abc'.endswith('') }} {{ 'abc'.startswith('b', 1) }}",
    "{{ 'Hello'.upper() }} {{ 'Hello'.lower() }} {{ 'hello wORLD'.title() }} {{ \"they're bill's\".title() }} {{ 'hello World'.capitalize() }} {{ 'AbC'.swapcase() }}",
    "{{ 'aaa'.replace('a', 'b') }} {{ 'aaa'.replace('a', 'b', 2) }} {{ 'ab'.replace('', '-') }} {{ 'x'.replace('y', 'z') }}",
    "{{ 'hello'.find('l') }} {{ 'hello'.rfind('l') }} {{ 'hello'.find('z') }} {{ 'hello'.count('l') }} {{ 'hello'.index('e') }} {{ '-'.join(['a', 'b']) }}",
    "{{ 'prefix-x'.removeprefix('prefix-') }} {{ 'x.txt'.removesuffix('.txt') }} {{ 'a=b=c'.partition('=') }} {{ 'a=b=c'.rpartition('=') }}",
    "{{ '42'.isdigit() }} {{ 'a1'.isalnum() }} {{ 'ab'.isalpha() }} {{ '  '.isspace() }} {{ 'AB'.isupper() }} {{ 'ab'.islower() }} {{ '7'.zfill(3) }} {{ 'ab'.center(6, '*') }} {{ 'ab'.ljust(4, '.') }}|{{ 'ab'.rjust(4) }}",
    "{% set c = '<think>\\nreason\\n</think>\\n\\nanswer' %}{{ c.split('</think>')[-1].lstrip('\\n') }}|{{ c.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}",
]
for i, t in enumerate(STR):
    case(f"str/{i}", t)

# --- filters ---
FILT = [
    "{{ [1,2,3]|length }} {{ 'abc'|length }} {{ {'a':1}|length }} {{ missing|length }} {{ [1,2]|count }}",
    "{{ {'b': [1, 2.5, none, true], 'a': 'é\"\\n\\u0001'}|tojson }} {{ 'x'|tojson }} {{ [1,{'a':[]}]|tojson(indent=2) }} {{ {'b':1,'a':2}|tojson(sort_keys=true) }} {{ [1.0, 1e20, 0.1]|tojson }} {{ {}|tojson }} {{ []|tojson(indent=2) }}",
    "{{ {'a': 1}|tojson(separators=(',', ':')) }} {{ {'a': {'b': 1}}|tojson(indent='\\t') }}",
    "{{ '  x \\n'|trim }}|{{ 'xxyxx'|trim('x') }}|{{ 42|string }}|{{ none|string }}|{{ [1]|string }}|{{ 'MiXed'|lower }}|{{ 'MiXed'|upper }}",
    "{{ [1,2,3]|first }} {{ [1,2,3]|last }} {{ 'abc'|first }} {{ []|first is defined }} {{ [1,2,3]|join(', ') }} {{ ['a', none, 1]|join }} {{ 'abc'|join('-') }}",
    "{{ missing|default('dflt') }} {{ ''|default('dflt') }} {{ ''|default('dflt', true) }} {{ none|default('x') }} {{ missing|d('d') }} {{ 0|default(5, boolean=true) }}",
    "{{ 'abc'|list }} {{ {'a':1,'b':2}|list }} {{ {'a':1,'b':2}|items|list }} {% for k, v in {'x': 1, 'y': 2}|items %}{{ k }}={{ v }};{% endfor %}",
    "{{ 'hello world'|replace('o', '0') }} {{ 'hello world'|title }} {{ 'hello-world (foo) [bar]'|title }} {{ 'hELLO'|capitalize }}",
    "{{ messages|map(attribute='role')|list }} {{ messages|selectattr('role', 'equalto', 'user')|map(attribute='content')|join('|') }} {{ messages|rejectattr('role', 'eq', 'user')|list|length }}",
    "{{ [1,0,2,none,'']|select|list }} {{ [1,2,3,4]|select('odd')|list }} {{ [1,2,3,4]|reject('even')|list }} {{ [1,2,3]|select('gt', 1)|list }} {{ ['A','b']|map('lower')|list }}",
    "{{ ['b','A','c']|sort|list }} {{ ['b','A','c']|sort(reverse=true)|list }} {{ ['b','A','c']|sort(case_sensitive=true)|list }} {{ [3,1,2]|sort }} {{ messages|sort(attribute='content')|map(attribute='content')|list }}",
    "{{ ['a','A','b','a']|unique|list }} {{ [1,2,1]|unique|list }} {{ [1,2,3]|reverse|list }} {{ 'abc'|reverse }}",
    "{{ -3|abs }} {{ '42'|int }} {{ 'x'|int }} {{ 'x'|int(7) }} {{ 3.9|int }} {{ '1.5'|float }} {{ 2.5|round }} {{ 3.5|round }} {{ 2.675|round(2) }} {{ 2.1|round(0, 'ceil') }} {{ 2.9|round(method='floor') }}",
    "{{ 'a\\nb\\n\\nc'|indent }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(2, blank=true) }}|{{ 'x'|indent('>>', first=true) }}",
    "{{ '<a href=\"x\">&\\'</a>'|e }} {{ '<b>'|safe }} {{ [1,2,3]|sum }} {{ messages|map(attribute='content')|map('length')|sum }} {{ [[1],[2]]|sum(start=[]) }}",
    "{{ messages[0]|attr('role') }} {{ {'a':{'b':2}}|attr('a') }}",
]
for i, t in enumerate(FILT):
    case(f"filter/{i}", t, messages=CONVERSATIONS["system"])

# --- tests ---
TESTS = [
    "{{ x is defined }} {{ missing is defined }} {{ missing is undefined }} {{ x is not defined }} {{ none is none }} {{ x is none }} {{ x is not none }}",
    "{{ 'a' is string }} {{ 1 is string }} {{ 1 is number }} {{ 1.5 is number }} {{ true is number }} {{ '1' is number }} {{ 1 is integer }} {{ true is integer }} {{ 1.0 is float }}",
    "{{ {} is mapping }} {{ [] is mapping }} {{ [] is sequence }} {{ 'a' is sequence }} {{ {} is sequence }} {{ 1 is sequence }} {{ missing is sequence }} {{ none is sequence }}",
    "{{ [] is iterable }} {{ 'a' is iterable }} {{ {} is iterable }} {{ 1 is iterable }} {{ missing is iterable }} {{ none is iterable }}",
    "{{ true is true }} {{ 1 is true }} {{ false is false }} {{ 0 is false }} {{ true is boolean }} {{ 1 is boolean }} {{ x is not true }}",
    "{{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ 1 is eq 1 }} {{ 1 is ne 2 }} {{ 2 is gt 1 }} {{ 'a' is in 'abc' }} {{ none is sameas none }}",
    "{{ 'abc' is lower }} {{ 'ABC' is upper }} {{ raise_exception is callable }} {{ 'x' is callable }}",
    "{{ x is defined and x is not none }} {{ missing is defined or 'fallback' }} {{ not missing is defined }}",
]
for i, t in enumerate(TESTS):
    case(f"test/{i}", t, x=5)

# --- statements, scoping, loops ---
STMT = [
    "{% for m in messages %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }} {% endfor %}",
    "{% for m in messages %}{{ loop.previtem is defined }}{{ loop.nextitem.role if loop.nextitem is defined }} {% endfor %}",
    "{% for m in messages if m.role != 'system' %}{{ loop.index }}:{{ m.role }}{{ ',' if not loop.last }}{% endfor %}",
    "{% for m in messages %}{{ loop.cycle('odd', 'even') }} {% endfor %}",
    "{% for i in range(5) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}",
    "{% for i in range(2, 10, 3) %}{{ i }}{% endfor %} {% for i in range(3, 0, -1) %}{{ i }}{% endfor %}",
    "{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }} {% endfor %}{% for k, v in {'a': 1}.items() %}{{ k }}{{ v }}{% endfor %}",
    "{% for i in [1, 2] %}{% for j in ['a', 'b'] %}{{ i }}{{ j }}{{ loop.index }} {% endfor %}{{ loop.index }}|{% endfor %}",
    "{% set x = 1 %}{% for i in [1, 2] %}{{ x }}{% set x = x + 10 %}{{ x }} {% endfor %}{{ x }}",
    "{% set x = 'outer' %}{% if true %}{% set x = 'if-set' %}{% endif %}{{ x }}",
    "{% set ns = namespace(count=0, names=[]) %}{% for m in messages %}{% set ns.count = ns.count + 1 %}{% endfor %}{{ ns.count }} {{ ns.names }}",
    "{% set ns = namespace(found=false) %}{% for m in messages[::-1] %}{% if not ns.found and m.role == 'user' %}{% set ns.found = true %}{% set ns.idx = (messages|length - 1) - loop.index0 %}{% endif %}{% endfor %}{{ ns.idx }}",
    "{% set a, b = 1, 2 %}{{ a }}{{ b }} {% set t = 1, 2 %}{{ t }}",
    "{% set block %}inside {{ 1 + 1 }}{% endset %}[{{ block }}] {% set up | upper | trim %}  shout  {% endset %}[{{ up }}]",
    "{% macro greet(name, punct='!') %}Hello {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', '?') }} {{ greet(name='C') }}",
    "{% macro render(m) %}{{ m.role|upper }}:{{ m.content }}{% endmacro %}{% for m in messages %}{{ render(m) }};{% endfor %}",
    "{% if false %}a{% elif none %}b{% elif 'x' %}c{% else %}d{% endif %}{% if [] %}e{% else %}f{% endif %}",
    "{% for c in 'héllo' %}{{ c }}.{% endfor %} {% for k in {'z': 1, 'a': 2} %}{{ k }}{% endfor %} {% for x in missing %}never{% else %}empty{% endfor %}",
    "{{ messages[0].content if messages[0].role == 'system' else '' }}{% set messages = messages[1:] %} {{ messages|length }}",
    "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = 'set-in-if' %}{% endif %}{{ add_generation_prompt }}",
    "{{ strftime_now('%d %b %Y') }} {{ strftime_now('%Y-%m-%d %H:%M:%S %A %B %a %j %p %I %y') }} {{ strftime_now('%-d/%-m') }}",
    "{{ dict(a=1, b='x') }} {{ namespace(a=1).a }} {{ range(3)|list }}",
]
for i, t in enumerate(STMT):
    case(f"stmt/{i}", t, messages=CONVERSATIONS["system"])

# --- lexer and value-printing corner cases ---
MORE = [
    "text {% if true %}x{% endif %}\n  {{ 'var not lstripped' }}\n  {# c #}after",
    "{ not a tag } {{ '}}' }} {{ {'a': {'b': 1}} }} {{ {'a':{'b':1}}}}",
    "{% set x = '%}' %}{{ x }}{% set y = \"{{ }}\" %}{{ y }}",
    "{{ missing|default('a')|upper }} {{ {'k': 'é'}|tojson|safe }} {{ ('a' ~ 'b')|upper }}",
    "{{ not missing is defined }} {{ missing is defined and missing.x }} {{ x is none or 'y' }} {{ x is divisibleby 2 and true }}",
    "{{ 1e-7 }} {{ 123456789012345678.0 }} {{ 0.1 * 3 }} {{ 2 / 3 }} {{ 1e22 }} {{ 1.7976931348623157e308 }} {{ 5e-324 }} {{ 100.0 }} {{ 1.5e300 * 1.5e300 }} {{ -1e-5 }}",
    "{{ [1e100, -0.0, 1.5e-10, 3.0]|tojson }} {{ {'f': 0.1}|tojson }}",
    "{{ [\"it's\", 'say \"hi\"', 'both \\' \"', 'back\\\\slash', 'nl\\n'] }}",
    "{{ ['é', '\u200b', '\x7f', '🤖', '\u00a0', '\t'] }} {{ {'k': none, 1: 2.5, true: false} }}",
    "{{ [1, 2] == [1, 2] }} {{ [1, 2] == (1, 2) }} {{ {'a': 1} == {'a': 1} }} {{ none == none }} {{ missing == none }} {{ 'a' == 'a' }}",
    "{% set l = [0,1,2,3,4,5,6,7,8,9] %}{{ l[-3:-1] }} {{ l[8:100] }} {{ l[-100:2] }} {{ l[::-3] }} {{ l[7:2:-2] }} {{ l[:] }} {{ l[::] }}",
    "{{ {'role': 'user'} in [{'role': 'user'}] }} {{ [1] in [[1], [2]] }}",
    "{%- set x = {\n    'a': 1,\n    'b': [1,\n 2]\n} %}{{ x.b[1] }}",
    "{{ 'a' if x is defined else 'b' }} {{ 'a' if missing is defined else 'b' }}",
    "{{ 'xyxhixyx'.strip('xy') }} {{ '..a..'.lstrip('.') }} {{ '  \\t\\n'.strip() }}|",
    "a\u00a0{{- 'x' -}}\u00a0b c\u2003 {%- if true %}em{% endif %}",
    "{{ 'hello\u00a0world foo-bar'|title }} {{ 'ǆemal'|title }}",
    "{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}{{ v }}{{ ',' if not loop.last }}{% endfor %}",
    "{% macro outer() %}{% for i in [1,2] %}{{ inner(i) }}{% endfor %}{% endmacro %}{% macro inner(i) %}<{{ i }}>{% endmacro %}{{ outer() }}",
    "{% set ns = namespace(items=[]) %}{% for i in [1,2,3] %}{% set ns.items = ns.items + [i * 2] %}{% endfor %}{{ ns.items }} {{ ns.items|length }}",
    "{% for m in messages %}{% set role = m.role %}{% endfor %}{{ role is defined }}",
    "{% set msgs = messages|selectattr('role', 'equalto', 'user')|list %}{{ (msgs|last).content }} {{ (msgs|first)['content'] }}",
    "{{ messages[0]['role'] + ': ' + messages[0].content|upper }}",
    "{{ 10 // 3 * 3 + 10 % 3 }} {{ 2 ** 3 ** 2 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 1 - -1 }} {{ +3 }}",
    "{{ 'abc' ~ 'def' | upper }} {{ 1 ~ 2 + 3 }}",
    "{% if messages %}{% for m in messages %}{% if loop.first %}[{% endif %}{{ m.role[0] }}{% if loop.last %}]{% endif %}{% endfor %}{% endif %}",
    "{{ messages|length > 2 and messages[-1].role == 'user' }} {{ messages[1:]|map(attribute='role')|join(',') }}",
    "{{ 'A' < 'a' }} {{ 'é' > 'z' }} {{ [1, 'a'] < [1, 'b'] }} {{ 1.5 >= 1 }}",
    "{% for i in range(3) %}{% for j in range(3) %}{% if j > i %}{% break %}{% endif %}{{ i }}{{ j }} {% endfor %}{% endfor %}",
    "{{ loop is defined }}{% for i in [1] %}{{ loop is defined }}{% endfor %}",
    "{% set x = 'a' %}{% macro m() %}{{ x }}{% endmacro %}{% set x = 'b' %}{{ m() }}",
    "{% for item in ['x'] %}{% set item = 'reassigned' %}{{ item }}{% endfor %}",
    "{{ ''.join(['a', 'b']) }} {{ ', '.join(messages|map(attribute='role')) }}",
    "{% if true %}\n    indented text keeps its indent\n{% endif %}",
    "{% for i in [1, 2] %}\n    {{ i }}\n{% endfor %}",
    "{%- for i in [1, 2] %}\n    {{- i }}\n{%- endfor %}",
    "<<{% if false %}x{% endif %}>>\n<<{%- if false %}x{% endif -%}>>",
    "{{ messages | tojson }}",
    "{{ messages[0] }} {{ messages[0].items()|list }}",
    "a {% raw %}{{ not rendered }} {% if %}{% endraw %} b",
    "x\n  {% raw -%}\n  {{ raw }}\n  {%- endraw %}\ny",
    "x\n  {% raw %}\n  {{ raw }}\n  {% endraw %}\ny",
    "{%+ raw %} kept {%+ endraw +%}\nz",
]
for i, t in enumerate(MORE):
    case(f"more/{i}", t, messages=CONVERSATIONS["system"], x=4)

# --- errors (jinja2 raises; so must the Java renderer) ---
ERR = [
    "{{ raise_exception('custom failure: ' ~ 42) }}",
    "{% if messages|length > 1 %}{{ raise_exception('too many') }}{% endif %}ok",
    "{{ missing.attr }}",
    "{{ missing['k'] }}",
    "{{ missing + 1 }}",
    "{{ missing() }}",
    "{{ 'a' + 1 }}",
    "{{ 1 / 0 }}",
    "{{ 'abc'.split('') }}",
    "{{ 'a' < 1 }}",
    "{% for x in 5 %}{% endfor %}",
    "{{ [1].append(2) }}",
    "{% set x = {'a': 1} %}{{ x.update({'b': 2}) }}",
    "{% set x = 1 %}{% set x.attr = 2 %}",
    "{{ x|nosuchfilter }}",
    "{{ x is nosuchtest }}",
    "{% nosuchtag %}",
    "{% if true %}unclosed",
    "{{ 1 + }}",
    "{{ 'unterminated }}",
    "{% for x in [1] %}{% endif %}",
    "{% break %}",
    "{{ none.attr.deeper }}",
    "{{ {'a': 1}|tojson(ensure_ascii=false) }}{{ missing|tojson }}",
    "{{ 'abc'.index('z') }}",
    "{{ namespace(a=1) | tojson }}",
    "{{ x.y }}",
]
# --- constructs beyond the first set (the chat-templates issue): each in a few shapes ---
PEOPLE = [{"name": "Ann", "age": 31, "city": "Oslo"}, {"name": "bob", "age": 25, "city": "Rome"},
          {"name": "Cid", "age": 31, "city": "Oslo"}, {"name": "dee", "age": None, "city": "Rome"}]
CONSTRUCTS = {
    "dictsort": "{% for k, v in d|dictsort %}{{ k }}={{ v }};{% endfor %}|{{ d|dictsort(by='value', reverse=true) }}"
                "|{{ d|dictsort(true) }}",
    "call-block": "{% macro box(title) %}[{{ title }}:{{ caller() }}]{% endmacro %}"
                  "{% call box('t') %}body {{ x }}{% endcall %}"
                  "{% macro each(items) %}{% for i in items %}{{ caller(i, loop.index) }}{% endfor %}{% endmacro %}"
                  "{% call(item, n) each(['a', 'b']) %}<{{ n }}{{ item }}>{% endcall %}",
    "star-args": "{% macro m(a, b, c=3) %}{{ a }}{{ b }}{{ c }}{% endmacro %}{{ m(*[1, 2]) }}{{ m(**{'a': 4, 'b': 5}) }}"
                 "{{ m(7, *[8]) }}{{ m(1, **{'b': 2, 'c': 9}) }}",
    "varargs-kwargs": "{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1) }}{{ m(1, 2, 3, x=4) }}",
    "markup": "{{ \"to '\"|safe + s }}|{{ s + '<i>'|safe }}|{{ s|e }}|{{ ('a'|safe + s)|length }}",
    "markup-variable": "{% set m = \"to '\"|safe %}{{ m + s }}|{{ m }}|{{ m|length }}|{{ m is string }}"
                       "{% set ns = namespace(v='') %}{% set ns.v = '<'|safe %}|{{ ns.v + s }}",
    "bigint": "{{ n }}{{ n|tojson }}{{ [n]|tojson }}{{ n > 1 }}{{ n == n }}{{ n is integer }}",
    "select-none": "{{ none|select|list }}{{ none|reject('none')|list }}{{ none|selectattr('a')|list }}"
                   "{{ none|rejectattr('a')|list }}",
    "soft-unknown-filter": "{% if false %}{{ x|nosuchfilter }}{% endif %}{{ 'y' if true else x|nosuchfilter }}ok",
    "ensure-ascii": "{{ s|tojson(ensure_ascii=true) }}{{ {'k': '\u00e9\U0001F642'}|tojson(ensure_ascii=true) }}",
    "min-max-sum": "{{ nums|min }}{{ nums|max }}{{ nums|sum }}{{ nums|sum(start=10) }}{{ words|min }}"
                   "{{ words|max(case_sensitive=true) }}{{ people|min(attribute='name') }}{{ people|sum(attribute='age', start=0) if false else 1 }}",
    "batch-slice": "{{ nums|batch(2)|list }}{{ nums|batch(3, 'x')|list }}{{ nums|slice(2)|list }}{{ nums|slice(3, 0)|list }}",
    "groupby": "{% for g in people|groupby('city') %}{{ g.grouper }}:{{ g.list|map(attribute='name')|join(',') }};{% endfor %}"
               "{% for city, items in people|groupby('city', default='?') %}{{ city }}{{ items|length }}{% endfor %}"
               "{{ people|groupby('age')|map(attribute='grouper')|list if false else '' }}",
    "center-wordcount-truncate": "[{{ 'ab'|center(7) }}][{{ s|wordcount }}][{{ long|truncate(12) }}]"
                                 "[{{ long|truncate(12, true) }}][{{ long|truncate(12, false, '>>', 0) }}][{{ 'short'|truncate(9) }}]",
    "striptags-urlencode": "{{ '<p>Hi <b>there</b></p>\n  again'|striptags }}|{{ 'a b&c=d/é'|urlencode }}"
                           "|{{ {'q': 'x y', 'n': 1}|urlencode }}",
    "loop-cycle-changed": "{% for p in people %}{{ loop.cycle('odd', 'even') }}{% if loop.changed(p.city) %}*{% endif %}"
                          "{{ p.name }} {% endfor %}",
    "recursive-loop": "{% for n in tree recursive %}{{ n.name }}{% if n.children %}({{ loop(n.children) }}){% endif %}"
                      "{{ loop.depth }}{% endfor %}",
    "percent-format": "{{ '%s=%d' % ('a', 3) }}|{{ '%05.2f' % 3.14159 }}|{{ '%s' % s }}|{{ '%(k)s!' % {'k': 'v'} }}"
                      "|{{ '%x %o %e %%' % (255, 8, 12345.678) }}|{{ '%c%c' % (65, 'b') }}|{{ '%+.3g|%#x|%-6s|' % (0.000123456, 255, 'ab') }}",
    "format-filter": "{{ '%s has %d'|format('Ann', 3) }}|{{ '%(a)s'|format(a=1) }}",
    "str-format": "{{ '{} and {}'.format(1, 'b') }}|{{ '{0}{1}{0}'.format('x', 'y') }}|{{ '{name}!'.format(name='Ann') }}"
                  "|{{ '{:>5}|{:<4}|{:^6}|{:.2f}|{:05d}'.format('a', 'b', 'c', 3.14159, 42) }}"
                  "|{{ '{:c}{:,}|{:.3}|{}|{:e}|{:%}|{!r}'.format(9731, 1234567, 2.0, 0.1, 12345.678, 0.25, 'q') }}",
    "filesizeformat": "{{ 1000|filesizeformat }} {{ 1024|filesizeformat(true) }} {{ 123456789|filesizeformat }} {{ 1|filesizeformat }}",
    "wordwrap": "{{ long|wordwrap(10) }}|{{ long|wordwrap(7, false, '/') }}",
    "bigint-arithmetic": "{{ n + 1 }}|{{ n * n }}|{{ 2 ** 70 }}|{{ -n }}|{{ n // 7 }}|{{ n % 7 }}|{{ n - n }}"
                         "|{{ 9223372036854775807 + 1 }}|{{ 99999999999999999999 }}|{{ n / 3 }}|{{ '%d' % n }}",
    "filter-block": "{% filter upper %}a{{ x }}{% endfilter %}|{% filter trim|replace('a', 'b') %}  a a  {% endfilter %}",
}
for name, template in CONSTRUCTS.items():
    case(f"construct/{name}", template, d={"b": 2, "a": 3, "C": 1}, x="X", s="it's <b>&\u00e9", n=18446744073709551615,
         nums=[4, 1, 3, 2, 5], words=["pear", "Apple", "fig"], people=PEOPLE,
         long="The quick brown fox jumps over the lazy dog",
         tree=[{"name": "a", "children": [{"name": "b", "children": []}, {"name": "c", "children": [{"name": "d"}]}]},
               {"name": "e"}])

for i, t in enumerate(ERR):
    case(f"error/{i}", t, messages=CONVERSATIONS["system"], x="str")

for c in cases:
    try:
        c["expected"] = env.from_string(c["template"]).render(**c["vars"])
    except TemplateError as e:
        c["error"] = f"{type(e).__name__}: {e.message if hasattr(e, 'message') else e}"
        c["raised"] = type(e) is TemplateError  # exactly raise_exception's class
    except Exception as e:  # TypeError, ZeroDivisionError, ... surface as errors too
        c["error"] = f"{type(e).__name__}: {e}"
        c["raised"] = False

with open(os.path.join(HERE, "jinja-cases.json"), "w", encoding="utf-8") as f:
    json.dump(cases, f, ensure_ascii=False, indent=1)
    f.write("\n")
print(len(cases), "cases,", sum("error" in c for c in cases), "errors")
