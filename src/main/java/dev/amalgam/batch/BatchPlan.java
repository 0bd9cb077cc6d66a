package dev.amalgam.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.amalgam.BoundedText;
import dev.amalgam.UserError;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.config.YamlDocument;
import dev.amalgam.io.AtomicFile;
import dev.amalgam.sweep.SweepSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A batch file read whole and checked before anything runs: several named merges in mergekit-multi's form (YAML
 * documents separated by {@code ---}, each a merge config with a {@code name}), where a model may be an earlier
 * merge's name. Names are unique and usable as folder names, every model is a merge of the batch or an existing
 * folder, and nothing depends on itself. Merges come in dependency order (file order where free), each with its
 * stage: 0 for a merge of existing models, else one more than the latest stage it reads. A document may also be a
 * sweep ({@code name} and {@code sweep:}, a sweep file's mapping with its merge config inline), whose merge config
 * may read the batch's merges; it writes its results into {@code OUT_DIR/NAME}.
 *
 * A document holding only {@code slurm:} gives the scheduler options of {@code batch --slurm} (its flags win).
 *
 * @param merges in the order they run
 * @param slurm the {@code slurm:} document's mapping, or an empty one
 */
public record BatchPlan(Path file, Path outDir, List<BatchMerge> merges, JsonNode slurm) {
  /** The keys a {@code slurm:} document may set: the defaults of {@code batch --slurm}'s options. */
  public static final List<String> SLURM_KEYS = List.of("partition", "time", "gres", "cpus_per_task", "mem",
      "account", "sbatch_args", "sweep_tasks");

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");

  /**
   * One merge of the batch. {@code config} is its merge config as amalgam merge reads it: models that are merges of
   * the batch named by their output folders, and a first line {@code # amalgam batch: NAME HASH}, where the hash
   * covers this config and those of everything it reads, so an output recording it was made from the same inputs.
   */
  public record BatchMerge(String name, String config, List<String> needs, int stage, Path output, String hash,
      boolean sweep) {
    /** Where a finished sweep records its hash: the sweep's own results folder has no config of its own. */
    static final String SWEEP_HASH = "batch-hash.txt";

    /** Whether {@link #output} exists, complete, and was made from this very config and inputs. */
    public boolean upToDate() {
      if (sweep) {
        try {
          return Files.readString(output.resolve(SWEEP_HASH), StandardCharsets.UTF_8).contains(hashLine());
        } catch (IOException e) {
          return false;
        }
      }
      Path recorded = output.resolve("mergekit_config.yml");
      try {
        return Files.isRegularFile(output.resolve("config.json")) && Files.isRegularFile(recorded)
            && Files.readString(recorded, StandardCharsets.UTF_8).contains(hashLine());
      } catch (IOException e) {
        return false;
      }
    }

    /** The merge config, relative paths resolved from the batch file's folder. */
    public MergeConfig mergeConfig(Path batchFile) {
      return MergeConfig.parse(batchFile.toAbsolutePath().resolveSibling(name + ".yml"), config);
    }

    /** A sweep's spec, relative paths resolved from the batch file's folder. */
    public SweepSpec sweepSpec(Path batchFile) {
      return SweepSpec.of(batchFile, YamlDocument.parse(batchFile, config));
    }

    /** Records, after the whole sweep ran, that its results are those of this config and inputs. */
    public void recordSweepDone() {
      try (AtomicFile out = AtomicFile.create(output.resolve(SWEEP_HASH))) {
        out.writer().write(hashLine() + "\n");
        out.commit();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write " + output.resolve(SWEEP_HASH), e);
      }
    }

    private String hashLine() {
      return "# amalgam batch: " + name + " " + hash;
    }
  }

  public static BatchPlan load(Path file, Path outDir) {
    if (Files.isDirectory(file)) {
      throw new UserError("batch file " + file + " is a folder, not a YAML file");
    }
    String text = BoundedText.read(file, 1 << 20, "batch file");
    Map<String, ObjectNode> documents = new LinkedHashMap<>();
    JsonNode slurm = null;
    for (JsonNode document : YamlDocument.parseAll(file, text)) {
      if (document == null || document.isNull()) {
        continue;  // an empty document, as a trailing --- makes
      }
      if (document.isObject() && document.size() == 1 && document.has("slurm")) {
        if (slurm != null) {
          throw new UserError(file + ": two `slurm:` documents");
        }
        slurm = slurmOptions(file, document.get("slurm"));
        continue;
      }
      if (!document.isObject() || !document.path("name").isTextual()) {
        throw new UserError(file + ": merge " + (documents.size() + 1) + " needs a `name:` (each document of a "
            + "batch is a merge config with a name)");
      }
      String name = document.get("name").asText();
      if (!NAME.matcher(name).matches()) {
        throw new UserError(file + ": merge name `" + name + "` must be letters, digits, '.', '_' or '-' (it names "
            + "the output folder)");
      }
      if (documents.containsKey(name)) {
        throw new UserError(file + ": two merges are named `" + name + "`");
      }
      ObjectNode config = ((ObjectNode) document).deepCopy();
      config.remove("name");
      documents.put(name, config);
    }
    if (documents.isEmpty()) {
      throw new UserError(file + " holds no merge");
    }
    Path folder = file.toAbsolutePath().getParent();
    Path out = outDir.toAbsolutePath().normalize();
    Map<String, List<String>> needs = new LinkedHashMap<>();
    documents.forEach((name, config) -> needs.put(name, references(file, folder, out, name, config, documents)));
    List<BatchMerge> merges = new ArrayList<>();
    Map<String, BatchMerge> done = new LinkedHashMap<>();
    while (done.size() < documents.size()) {
      String ready = documents.keySet().stream()
          .filter(n -> !done.containsKey(n) && done.keySet().containsAll(needs.get(n)))
          .findFirst()
          .orElseThrow(() -> new UserError(file + ": merges " + String.join(", ", documents.keySet().stream()
              .filter(n -> !done.containsKey(n)).toList()) + " depend on each other in a cycle"));
      int stage = 0;
      ObjectNode body = documents.get(ready).has("sweep") ? sweepBody(file, ready, documents.get(ready))
          : documents.get(ready);
      StringBuilder hashed = new StringBuilder(yaml(body));
      for (String need : needs.get(ready)) {
        stage = Math.max(stage, done.get(need).stage() + 1);
        hashed.append('\n').append(need).append(' ').append(done.get(need).hash());
      }
      String hash = sha256(hashed.toString());
      String config = "# amalgam batch: " + ready + " " + hash + "\n" + yaml(body);
      BatchMerge merge = new BatchMerge(ready, config, needs.get(ready), stage, out.resolve(ready), hash,
          documents.get(ready).has("sweep"));
      done.put(ready, merge);
      merges.add(merge);
    }
    return new BatchPlan(file, out, List.copyOf(merges),
        slurm != null ? slurm : JsonNodeFactory.instance.objectNode());
  }

  /** The {@code slurm:} mapping, its keys and their kinds checked. */
  private static JsonNode slurmOptions(Path file, JsonNode slurm) {
    if (!slurm.isObject()) {
      throw new UserError(file + ": `slurm:` must be a mapping of " + String.join(", ", SLURM_KEYS));
    }
    slurm.fields().forEachRemaining(e -> {
      String key = e.getKey();
      JsonNode value = e.getValue();
      if (!SLURM_KEYS.contains(key)) {
        throw new UserError(file + ": unknown `slurm:` key `" + key + "` (known: " + String.join(", ", SLURM_KEYS)
            + ")");
      }
      boolean fits = switch (key) {
        case "cpus_per_task", "sweep_tasks" -> value.isInt() && value.asInt() >= 1;
        case "sbatch_args" -> value.isArray();
        default -> value.isValueNode() && !value.isNull();
      };
      if (!fits) {
        throw new UserError(file + ": `slurm: " + key + "` must be " + switch (key) {
          case "cpus_per_task", "sweep_tasks" -> "a whole number of 1 or more";
          case "sbatch_args" -> "a list of sbatch arguments";
          default -> "a value";
        });
      }
    });
    return slurm;
  }

  /** A sweep document's {@code sweep:} mapping; nothing else may stand beside it. */
  private static ObjectNode sweepBody(Path file, String name, ObjectNode document) {
    if (document.size() != 1 || !document.get("sweep").isObject()) {
      throw new UserError(file + ": sweep `" + name + "` must hold only `name` and `sweep: {merge, axes, set, "
          + "evaluations}`");
    }
    return (ObjectNode) document.get("sweep");
  }

  /** The highest stage, plus one. */
  public int stages() {
    return merges.stream().mapToInt(BatchMerge::stage).max().orElse(-1) + 1;
  }

  /**
   * The merges {@code name}'s config reads, in the order it names them; those references rewritten to their output
   * folders. Any other model must be an existing folder.
   */
  private static List<String> references(Path file, Path folder, Path out, String name, ObjectNode config,
      Map<String, ObjectNode> documents) {
    List<String> needs = new ArrayList<>();
    List<ModelField> fields = new ArrayList<>();
    if (config.has("sweep")) {
      // A sweep's merge config is where its models are; a config in a file of its own cannot read the batch's.
      JsonNode merge = config.path("sweep").path("merge");
      if (!merge.isObject()) {
        return needs;
      }
      config = (ObjectNode) merge;
    }
    for (JsonNode entry : config.path("models")) {
      fields.add(new ModelField(entry, "model", true));
    }
    for (JsonNode slice : config.path("slices")) {
      for (JsonNode source : slice.path("sources")) {
        fields.add(new ModelField(source, "model", true));
      }
    }
    fields.add(new ModelField(config, "base_model", true));
    // Tokenizer sources are also words (base, union): only a merge's name is rewritten there.
    fields.add(new ModelField(config, "tokenizer_source", false));
    fields.add(new ModelField(config.path("tokenizer"), "source", false));
    for (ModelField field : fields) {
      if (!(field.holder() instanceof ObjectNode holder) || !holder.path(field.key()).isTextual()) {
        continue;
      }
      String model = holder.get(field.key()).asText();
      if (documents.containsKey(model)) {
        if (model.equals(name)) {
          throw new UserError(file + ": merge `" + name + "` reads its own output");
        }
        if (!needs.contains(model)) {
          needs.add(model);
        }
        holder.set(field.key(), TextNode.valueOf(out.resolve(model).toString()));
      } else if (field.path() && !Files.isDirectory(folder.resolve(model))) {
        throw new UserError(file + ": merge `" + name + "` reads `" + model + "`, which is neither a merge of this "
            + "batch (" + String.join(", ", documents.keySet()) + ") nor a model folder (looked at "
            + folder.resolve(model).normalize() + ")");
      }
    }
    return needs;
  }

  /** A field that may name a model: {@code path} where anything but a merge's name must be a folder. */
  private record ModelField(JsonNode holder, String key, boolean path) {}

  private static String yaml(ObjectNode config) {
    return YamlDocument.write(config);
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
