package dev.amalgam.hostile;

import dev.amalgam.merge.MergeMethods;
import dev.amalgam.testing.Fixtures;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/**
 * The generators of hostile cases: mutated safetensors headers and payloads, config.json, tokenizer files, chat
 * templates, merge configs and command-line values. Each case copies the demo models into its work folder and
 * mutates the copy, so nothing outside that folder is ever touched.
 */
final class HostileCases {
  /** Values that break a field's type or range: negative, zero, huge, fractional, non-finite, wrong type. */
  static final List<String> HOSTILE_JSON = List.of("-1", "0", "1e309", "-1e309", "2.5", "1e9", "2147483648",
      "18446744073709551616", "\"x\"", "\"NaN\"", "null", "true", "[]", "{}", "[\"x\"]", "\"\"");
  static final List<String> HOSTILE_OPTIONS = List.of("-1", "0", "1e-45", "99999999999999999999", "NaN", "abc", "",
      "2147483647", "-2147483648", "1e309", "0x10", " ");

  private HostileCases() {}

  /** Every kind of case, in a fixed order. */
  static List<HostileCase> all() {
    return List.of(
        of("safetensors header", HostileCases::safetensorsHeader),
        of("safetensors payload", HostileCases::safetensorsPayload),
        of("config.json", HostileCases::configJson),
        of("tokenizer files", HostileCases::tokenizerFiles),
        of("chat template", HostileCases::chatTemplate),
        of("merge config", HostileCases::mergeConfig),
        of("command line", HostileCases::commandLine));
  }

  private interface Preparer {
    List<String> prepare(Path work, Random random) throws IOException;
  }

  private static HostileCase of(String kind, Preparer preparer) {
    return new HostileCase() {
      @Override
      public String kind() {
        return kind;
      }

      @Override
      public List<String> prepare(Path work, Random random) throws IOException {
        return preparer.prepare(work, random);
      }
    };
  }

  // ---- the mutations ------------------------------------------------------------------------------------

  private static List<String> safetensorsHeader(Path work, Random random) throws IOException {
    Path a = copyModels(work);
    Path file = a.resolve("model.safetensors");
    byte[] bytes = Files.readAllBytes(file);
    int headerLength = (int) ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    switch (random.nextInt(5)) {
      case 0 -> bytes[8 + random.nextInt(headerLength)] = (byte) random.nextInt(256);  // a flipped header byte
      case 1 -> ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, random.nextLong());  // its length
      case 2 -> bytes = java.util.Arrays.copyOf(bytes, random.nextInt(bytes.length));  // truncated
      default -> {  // one number of the header replaced by a hostile one, the JSON kept valid
        String header = new String(bytes, 8, headerLength, StandardCharsets.UTF_8);
        List<int[]> numbers = new ArrayList<>();
        var m = java.util.regex.Pattern.compile("\\d+").matcher(header);
        while (m.find()) {
          numbers.add(new int[] {m.start(), m.end()});
        }
        int[] at = numbers.get(random.nextInt(numbers.size()));
        String hostile = List.of("-1", "18446744073709551616", "9223372036854775807", "0", "1e30", "99999999")
            .get(random.nextInt(6));
        String changed = header.substring(0, at[0]) + hostile + header.substring(at[1]);
        byte[] json = changed.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + json.length + bytes.length - 8 - headerLength)
            .order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(json.length).put(json).put(bytes, 8 + headerLength, bytes.length - 8 - headerLength);
        bytes = out.array();
      }
    }
    Files.write(file, bytes);
    return useModel(work, random);
  }

  private static List<String> safetensorsPayload(Path work, Random random) throws IOException {
    Path a = copyModels(work);
    Path file = a.resolve("model.safetensors");
    byte[] bytes = Files.readAllBytes(file);
    int start = 8 + (int) ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    for (int n = 1 + random.nextInt(64); n > 0; n--) {
      bytes[start + random.nextInt(bytes.length - start)] = (byte) 0xFF;  // NaN halves here and there
    }
    Files.write(file, bytes);
    return useModel(work, random);
  }

  private static List<String> configJson(Path work, Random random) throws IOException {
    Path a = copyModels(work);
    Path config = a.resolve("config.json");
    String text = Files.readString(config);
    List<String> keys = List.of("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
        "num_key_value_heads", "vocab_size", "rms_norm_eps", "max_position_embeddings", "eos_token_id",
        "tie_word_embeddings", "head_dim", "architectures", "layer_types", "rope_parameters");
    String key = keys.get(random.nextInt(keys.size()));
    String value = pick(HOSTILE_JSON, random);
    String changed = text.contains("\"" + key + "\":")
        ? text.replaceFirst("\"" + key + "\":\\s*(\\[[^\\]]*\\]|\\{[^}]*\\}|[^,\\n}]+)",
            java.util.regex.Matcher.quoteReplacement("\"" + key + "\": " + value))
        : text.replaceFirst("\\{", java.util.regex.Matcher.quoteReplacement("{\"" + key + "\": " + value + ","));
    if (random.nextInt(8) == 0) {
      changed = changed.substring(0, random.nextInt(changed.length()));  // or simply cut short
    }
    Files.writeString(config, changed);
    return useModel(work, random);
  }

  private static List<String> tokenizerFiles(Path work, Random random) throws IOException {
    Path a = copyModels(work);
    Path tokenizer = a.resolve("tokenizer.json");
    String text = Files.readString(tokenizer);
    switch (random.nextInt(4)) {
      case 0 -> Files.writeString(tokenizer, text.substring(0, random.nextInt(text.length())));
      case 1 -> Files.writeString(tokenizer, text.replaceFirst("\"Regex\":\\s*\"(\\\\.|[^\"\\\\])*\"",
          java.util.regex.Matcher.quoteReplacement("\"Regex\": \"" + pick(List.of("(a+)+$", "(\\\\s*)*x", "(", "[",
              "\\\\", "(?<=a+)b"), random) + "\"")));
      case 2 -> Files.writeString(tokenizer, text.replaceFirst("\"vocab\":\\s*\\{", "\"vocab\": {\"\\\\u0000\": 99999999,"));
      default -> Files.writeString(a.resolve("tokenizer_config.json"), pick(List.of("{\"bos_token\": 5}",
          "{\"chat_template\": 7}", "[]", "{\"chat_template\": [{\"name\": \"x\"}]}", "{\"eos_token\": {\"x\": 1}}",
          "{", "{\"added_tokens_decoder\": {\"-1\": {}}}"), random));
    }
    return List.of(pick(List.of("generate", "template"), random), "a", random.nextBoolean() ? "--prompt" : "--messages",
        "hello", "--device", "cpu", "--max-new-tokens", "2");
  }

  private static List<String> chatTemplate(Path work, Random random) throws IOException {
    Path a = copyModels(work);
    String template = pick(List.of(
        "{{ ' ' * 10**9 }}", "{{ 'x'.center(10**10) }}", "{% for i in range(10**6) %}{% for j in range(10**6) %}"
            + "{% endfor %}{% endfor %}", "{{ messages | tojson(indent=10**9) }}", "{% if %}", "{{ undefined.x.y }}",
        "{{ raise_exception('no') }}", "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
        "{{ " + "(".repeat(30_000) + "1" + ")".repeat(30_000) + " }}", "{% for %}", "{{ messages[10**20] }}",
        "{{ (range(10)|list) * 10**9 }}", "{{ 1 / 0 }}", "{{ 'a' ~ 'b' * 99999999 }}", "{{ x.__class__ }}",
        "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"), random);
    Files.writeString(a.resolve("chat_template.jinja"), template);
    Path messages = Files.writeString(work.resolve("messages.json"), "[{\"role\": \"user\", \"content\": \"hi\"}]");
    return random.nextBoolean()
        ? List.of("template", "a", "--messages", work.relativize(messages).toString(), "--add-generation-prompt")
        : List.of("generate", "a", "--chat", "--prompt", "hi", "--device", "cpu", "--max-new-tokens", "2");
  }

  private static List<String> mergeConfig(Path work, Random random) throws IOException {
    copyModels(work);
    String valid = "models:\n  - model: a\n    parameters:\n      weight: 0.3\n  - model: b\n    parameters:\n"
        + "      weight: 0.7\nmerge_method: linear\ndtype: bfloat16\nparameters:\n  normalize: true\n";
    String yaml = switch (random.nextInt(5)) {
      case 0 -> pick(List.of("models: &m [{model: a, parameters: {weight: *m}}]\nmerge_method: linear\n",
          "a: &a [x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
              + "d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\nmerge_method: linear\n",
          "!!python/object/apply:os.system ['true']", "models: !!binary AAAA\nmerge_method: linear\n",
          "[" .repeat(5000) + "]".repeat(5000), "", "---\n---\n", "\t- x", "models: []\nmerge_method: linear\n",
          valid + "merge_method: linear\n", valid.replace("0.3", "2001-12-14"), valid.replace("0.3", ".nan"),
          valid.replace("0.3", "[{filter: [mlp], value: 1}]"), valid.replace("model: a", "model: /"),
          valid.replace("model: a", "model: ../../../.."), valid.replace("linear", "slerp"),
          valid.replace("0.3", "3e38").replace("0.7", "3e38")), random);
      case 1 -> {  // a line dropped or repeated
        List<String> lines = new ArrayList<>(valid.lines().toList());
        int i = random.nextInt(lines.size());
        if (random.nextBoolean()) {
          lines.remove(i);
        } else {
          lines.add(i, lines.get(i));
        }
        yield String.join("\n", lines) + "\n";
      }
      case 2 -> valid.replace("0.3", pick(HOSTILE_JSON, random)).replace("true", pick(HOSTILE_JSON, random));
      case 3 -> {  // a method over a base, one of its parameters (or the seed, tokenizer or template) hostile
        String method = pick(List.copyOf(MergeMethods.names()), random);
        String key = pick(List.of("density", "gamma", "epsilon", "lambda", "select_topk", "rescale", "normalize",
            "int8_mask", "weight", "t", "filter_wise", "nuslerp_flatten", "nuslerp_row_wise", "normalize_weights", "eps",
            "max_iter", "tol", "scale"), random);
        String hostile = pick(HOSTILE_JSON, random);
        yield "models:\n  - model: a\n    parameters: {weight: 0.3}\n  - model: b\n    parameters: {weight: 0.7}\n"
            + "merge_method: " + method + "\nbase_model: a\n" + (random.nextBoolean()
                ? "parameters: {" + key + ": " + hostile + "}\n"
                : pick(List.of("random_seed", "tokenizer_source", "chat_template"), random) + ": " + hostile + "\n");
      }
      default -> {  // a flipped byte
        byte[] bytes = valid.getBytes(StandardCharsets.UTF_8);
        bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
        yield new String(bytes, StandardCharsets.ISO_8859_1);
      }
    };
    Files.writeString(work.resolve("merge.yml"), yaml, StandardCharsets.ISO_8859_1);
    return List.of("merge", "merge.yml", "out", "--device", "cpu");
  }

  private static List<String> commandLine(Path work, Random random) throws IOException {
    copyModels(work);
    Files.writeString(work.resolve("merge.yml"), "models:\n  - model: a\n    parameters: {weight: 0.3}\n"
        + "  - model: b\n    parameters: {weight: 0.7}\nmerge_method: linear\n");
    String value = pick(HOSTILE_OPTIONS, random);
    return switch (random.nextInt(4)) {
      case 0 -> List.of("merge", "merge.yml", "out", pick(List.of("--out-shard-size", "--threads", "--device",
          "--random-seed"), random), value);
      case 1 -> List.of("generate", "a", "--prompt", "x", "--device", "cpu",
          pick(List.of("--max-new-tokens", "--temperature", "--top-k", "--top-p", "--min-p", "--repetition-penalty",
              "--seed", "--max-context", "--batch-size"), random), value);
      case 2 -> List.of("merge", "merge.yml", pick(List.of("", ".", "a", "merge.yml", "/", "out/../a", "b/../a"), random),
          "--overwrite", "--device", "cpu");
      default -> List.of(pick(List.of("inspect", "template", "generate"), random), value);
    };
  }

  // ---- helpers ------------------------------------------------------------------------------------------

  /** Copies the two demo models into {@code work/a} and {@code work/b}; returns {@code a}. */
  static Path copyModels(Path work) throws IOException {
    for (Path[] pair : new Path[][] {{Fixtures.A, work.resolve("a")}, {Fixtures.B, work.resolve("b")}}) {
      Files.createDirectories(pair[1]);
      try (Stream<Path> files = Files.list(pair[0])) {
        for (Path f : files.toList()) {
          Files.copy(f, pair[1].resolve(f.getFileName()));
        }
      }
    }
    return work.resolve("a");
  }

  /** A command that reads the mutated model {@code work/a}: a merge with {@code b}, an inspection, a generation. */
  private static List<String> useModel(Path work, Random random) throws IOException {
    return switch (random.nextInt(3)) {
      case 0 -> {
        Files.writeString(work.resolve("merge.yml"), "models:\n  - model: a\n    parameters: {weight: 0.3}\n"
            + "  - model: b\n    parameters: {weight: 0.7}\nmerge_method: linear\n");
        yield List.of("merge", "merge.yml", "out", "--device", "cpu");
      }
      case 1 -> List.of("inspect", "a", "--json");
      default -> List.of("generate", "a", "--prompt", "The smith kept", "--device", "cpu", "--max-new-tokens", "4");
    };
  }

  private static <T> T pick(List<T> values, Random random) {
    return values.get(random.nextInt(values.size()));
  }
}
