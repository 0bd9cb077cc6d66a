package dev.amalgam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.UserError;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.device.Device;
import dev.amalgam.device.DeviceChoice;
import dev.amalgam.merge.Arithmetic;
import dev.amalgam.merge.MergeEngine;
import dev.amalgam.merge.MergePlan;
import dev.amalgam.merge.MergePlanner;
import dev.amalgam.merge.Merger;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "merge",
    mixinStandardHelpOptions = true,
    description = {
      "Merge checkpoints as a mergekit YAML config describes, into an HF model folder.",
      "",
      "Every element is computed in float32 and rounded once to the output dtype, so the result is the exact",
      "weighted average (mergekit rounds after every bf16 operation and is up to 1 ulp off).",
      "Everything is validated before any tensor is read; the output appears complete or not at all."
    },
    footer = {
      "",
      "Config (paths are relative to the config's folder):",
      "  models:",
      "    - model: qwen2-tiny-a",
      "      parameters: {weight: 0.3}",
      "    - model: qwen2-tiny-b",
      "      parameters: {weight: 0.7}       # or a gradient [0.2, 0.8], or [{filter: mlp, value: 0.5}, {value: 0.7}]",
      "  merge_method: linear",
      "  dtype: bfloat16",
      "  parameters: {normalize: true}",
      "",
      "Methods (mergekit's names; `amalgam methods` lists their parameters and defaults, examples/methods has",
      "a config for each):",
      "  linear            weighted average; weight, normalize",
      "  task_arithmetic   base + lambda * sum of weight * (model - base); needs base_model; weight, lambda, normalize",
      "  ties              task vectors cut to their largest `density`, then a sign election",
      "  dare_linear       task vectors keep a random `density`, rescaled (random: set random_seed or --random-seed)",
      "  dare_ties         dare's drops, then ties' sign election",
      "  breadcrumbs       the `gamma` largest magnitudes dropped, the next `density` kept",
      "  breadcrumbs_ties  breadcrumbs' cuts, then ties' sign election",
      "  della             random drops ranked by magnitude within each row (`density` +/- `epsilon`), sign election",
      "  della_linear      della's drops without the sign election",
      "  sce               variance-selected task vectors (select_topk), weighted by their mean square; no weights",
      "  model_stock       the models' average pulled toward the base by their angle; needs base_model and 2 models",
      "  slerp             spherical interpolation from base_model (t = 0) to one other model (t = 1); t required",
      "  nuslerp           spherical interpolation of two models (t = w1 / (w0 + w1)), per tensor, row or column",
      "  multislerp        barycentric interpolation of several models on the hypersphere; weight",
      "  karcher           the Riemannian mean of the models on the hypersphere; max_iter, tol",
      "  nearswap          the model's values near the base's (within t), blended toward the base elsewhere",
      "  arcee_fusion      a model's most important changes to the base, by a median + 1.5 IQR threshold",
      "  passthrough       one model's tensors (times scale); with `slices:`, layer ranges stacked (frankenmerges)",
      "",
      "Slices (frankenmerges): instead of `models`, a list of layer ranges stacked into the output's layers:",
      "  slices:",
      "    - sources: [{model: qwen2-tiny-a, layer_range: [0, 3]}]",
      "    - sources: [{model: qwen2-tiny-b, layer_range: [1, 4]}]",
      "  merge_method: passthrough",
      "",
      "Examples:",
      "  amalgam merge examples/linear.yml /tmp/merged",
      "  amalgam merge config.yml out --device cuda --out-shard-size 2B --json",
      "",
      "Exit status: 0 ok, 2 bad usage or config, 1 runtime failure."
    })
final class MergeCommand implements Callable<Integer> {
  /** mergekit's default --out-shard-size: 5 billion bytes. */
  static final long DEFAULT_SHARD_BYTES = 5_000_000_000L;

  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "CONFIG", description = "mergekit YAML config.")
  Path config;

  @Parameters(index = "1", paramLabel = "OUT_DIR", description = "Output model folder (must not exist unless --overwrite).")
  Path output;

  @Option(names = "--device", defaultValue = "auto", paramLabel = "auto|cuda|cpu",
      description = "Where to compute: auto takes the GPU when usable (default: ${DEFAULT-VALUE}).",
      converter = DeviceChoiceConverter.class)
  DeviceChoice device;

  @Option(names = "--out-shard-size", defaultValue = "5B", paramLabel = "SIZE", converter = ByteSize.class,
      description = "Largest shard, in bytes with an optional K/M/B suffix (default: ${DEFAULT-VALUE}).")
  long shardBytes;

  @Option(names = "--copy-tokenizer", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Copy tokenizer files, chat template and generation_config.json from the base model (default: on).")
  boolean copyTokenizer;

  @Option(names = "--overwrite", description = "Replace OUT_DIR if it exists, once the new merge is complete; only a folder of "
      + "model files is replaced, never one that holds other files, the config or an input model.")
  boolean overwrite;

  @Option(names = "--threads", paramLabel = "N", description = "CPU threads (default: all cores).")
  Integer threads;

  /** Far beyond any machine's cores: a larger count is a typo, not a plan. */
  private static final int MAX_THREADS = 4096;

  @Option(names = "--random-seed", paramLabel = "SEED",
      description = "Seed for the random methods (dare_*, della*), as mergekit's --random-seed; without it or a "
          + "random_seed in the config, one is drawn and printed. Either way it is written into the output's "
          + "mergekit_config.yml, so the merge can be repeated.")
  Long randomSeed;

  @Option(names = "--arithmetic", defaultValue = "exact", paramLabel = "exact|mergekit",
      description = "exact (default): every element in float32, rounded once. mergekit: round the inputs and every "
          + "operation to the config's dtype (else the inputs'), as mergekit does in bfloat16 or float16, to "
          + "reproduce a model mergekit made bit for bit (linear, task_arithmetic, ties, breadcrumbs, nearswap, "
          + "passthrough; the others come close).")
  String arithmetic;

  @Option(names = "--dry-run", description = "Validate the config and inputs, print the plan, write nothing.")
  boolean dryRun;

  @Option(names = "--json", description = "Print a JSON summary on stdout.")
  boolean json;

  private Arithmetic arithmetic() {
    return switch (arithmetic) {
      case "exact" -> Arithmetic.EXACT;
      case "mergekit" -> Arithmetic.MERGEKIT;
      default -> throw new UserError("--arithmetic must be exact or mergekit, not " + arithmetic);
    };
  }

  @Override
  public Integer call() throws Exception {
    if (threads != null && (threads < 1 || threads > MAX_THREADS)) {
      throw new UserError("--threads must be between 1 and " + MAX_THREADS + ", not " + threads);
    }
    if (randomSeed != null && randomSeed < 0) {
      throw new UserError("--random-seed must be 0 or more, not " + randomSeed);
    }
    MergeConfig mergeConfig = MergeConfig.load(config);
    if (randomSeed != null) {
      mergeConfig = mergeConfig.withRandomSeed(randomSeed);
    }
    try (MergePlan plan = MergePlanner.plan(mergeConfig, arithmetic())) {
      plan.notes().forEach(spec.commandLine().getErr()::println);
      if (plan.seedDrawn() && !json) {
        long seed = plan.config().randomSeed().orElseThrow();
        spec.commandLine().getErr().println("random seed " + seed + " (drawn; repeat this merge with --random-seed "
            + seed + ")");
      }
      if (dryRun) {
        return printPlan(plan);
      }
      try (Device opened = Device.open(device, new Device.Settings(threads, false), "merging",
              spec.commandLine().getErr()::println);
          MergeEngine engine = opened.mergeEngine()) {
        ProgressBar bar = json ? null : ProgressBar.onTerminal("tensors", plan.tensors().size(), plan.outputBytes());
        Merger.Result result = Merger.toDisk(plan, engine,
            new Merger.OutputOptions(output, overwrite, shardBytes, copyTokenizer, spec.commandLine().getErr()::println),
            bar == null ? MergeEngine.MergeProgress.NONE : t -> bar.advance(t.outBytes()));
        if (bar != null) {
          bar.finish();
        }
        printResult(result, plan);
      }
    }
    return ExitCodes.OK;
  }

  private int printPlan(MergePlan plan) throws Exception {
    if (json) {
      ObjectNode node = new ObjectMapper().createObjectNode();
      node.put("tensors", plan.tensors().size());
      node.put("input_bytes", plan.inputBytes());
      node.put("output_bytes", plan.outputBytes());
      node.put("out_dtype", plan.outDType().torchName());
      plan.config().randomSeed().ifPresent(seed -> node.put("random_seed", seed));
      spec.commandLine().getOut().println(node);
    } else {
      spec.commandLine().getOut().printf(Locale.ROOT, "plan: %d tensors, %.3f GB in, %.3f GB out as %s; nothing written (--dry-run)%n",
          plan.tensors().size(), plan.inputBytes() / 1e9, plan.outputBytes() / 1e9, plan.outDType().torchName());
    }
    return ExitCodes.OK;
  }

  private void printResult(Merger.Result r, MergePlan plan) {
    if (json) {
      ObjectNode node = new ObjectMapper().createObjectNode();
      node.put("output", r.output().toString());
      plan.config().randomSeed().ifPresent(seed -> node.put("random_seed", seed));
      node.put("arithmetic", arithmetic().name().toLowerCase(Locale.ROOT));
      node.put("tensors", r.tensors());
      node.put("input_bytes", r.inputBytes());
      node.put("output_bytes", r.outputBytes());
      node.put("bytes", r.inputBytes() + r.outputBytes());
      node.put("shards", r.shards());
      node.put("seconds", r.seconds());
      node.put("gb_per_s", r.gigabytesPerSecond());
      node.put("device", r.device());
      ObjectNode nonFinite = node.putObject("non_finite_elements");
      r.nonFinite().forEach(nonFinite::put);
      ArrayNode nonFiniteInputs = node.putArray("non_finite_inputs");
      r.nonFiniteInputs().forEach(nonFiniteInputs::add);
      spec.commandLine().getOut().println(node);
    } else {
      spec.commandLine().getOut().printf(Locale.ROOT, "merged %d tensors into %s (%d shard%s, %.3f GB) in %.2f s, %.2f GB/s on %s%n",
          r.tensors(), r.output(), r.shards(), r.shards() == 1 ? "" : "s", r.outputBytes() / 1e9, r.seconds(),
          r.gigabytesPerSecond(), r.device());
    }
    if (!r.nonFinite().isEmpty()) {
      List<String> named = r.nonFinite().entrySet().stream().limit(5)
          .map(e -> e.getKey() + " (" + e.getValue() + ", " + (r.nonFiniteInputs().contains(e.getKey())
              ? "NaN or infinite in an input" : "weighted sums that overflow") + ")").toList();
      spec.commandLine().getErr().println("warning: " + r.nonFinite().size() + " merged tensor"
          + (r.nonFinite().size() == 1 ? " holds" : "s hold") + " NaN or infinite elements: " + String.join(", ", named)
          + (r.nonFinite().size() > 5 ? ", ..." : ""));
    }
  }
}
