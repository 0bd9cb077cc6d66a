package dev.amalgam.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.UserError;
import dev.amalgam.backend.Backend;
import dev.amalgam.backend.SamplingParams;
import dev.amalgam.generate.BatchResult;
import dev.amalgam.generate.GenerationRequest;
import dev.amalgam.generate.GenerationSettings;
import dev.amalgam.generate.Generator;
import dev.amalgam.generate.TokenListener;
import dev.amalgam.generate.TokenText;
import dev.amalgam.io.ModelDirectory;
import dev.amalgam.model.ModelWeights;
import dev.amalgam.model.Transformer;
import dev.amalgam.model.WeightSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Times generation the way users run it ({@link Generator#generateAll}, greedy, no EOS so every sequence runs its
 * full budget) on random prompt ids: prefill and time to first token, then aggregate decode throughput for each
 * batch size. Beside it, in the same run, the device's copy bandwidth and the batch-1 decode ceiling it implies.
 */
public final class GenerationBenchmark {
  /**
   * @param statedBandwidthGbs the device's memory bandwidth in GB/s to compute the ceiling with, or null to
   *     measure it here with a copy of {@code bandwidthBufferBytes}
   */
  public record Options(Path model, int promptLength, int newTokens, List<Integer> batches, long seed,
      Double statedBandwidthGbs, long bandwidthBufferBytes) {
    public Options {
      if (promptLength < 1) {
        throw new UserError("--prompt-len must be at least 1, got " + promptLength);
      }
      if (newTokens < 2) {
        throw new UserError("--new-tokens must be at least 2 (the first token comes from prefill), got " + newTokens);
      }
      if (batches.isEmpty() || batches.stream().anyMatch(b -> b < 1)) {
        throw new UserError("--batch sizes must be at least 1, got " + batches);
      }
      if (statedBandwidthGbs != null && !(statedBandwidthGbs > 0)) {
        throw new UserError("--memory-bandwidth must be positive, got " + statedBandwidthGbs);
      }
      batches = List.copyOf(batches);
    }
  }


  /** Tokens per sequence in the untimed run before each timed one: enough to run both prefill and decode steps. */
  private static final int WARMUP_TOKENS = 3;

  private final Backend backend;
  private final Options options;
  private final Consumer<String> log;

  public GenerationBenchmark(Backend backend, Options options, Consumer<String> log) {
    this.backend = backend;
    this.options = options;
    this.log = log;
  }

  public ObjectNode run() {
    ObjectNode result = new ObjectMapper().createObjectNode();
    result.put("benchmark", "generate");
    result.put("model", options.model().toString());
    result.put("device", backend.device());
    result.put("prompt_len", options.promptLength()).put("new_tokens", options.newTokens()).put("seed", options.seed());
    long loadStart = System.nanoTime();
    try (ModelDirectory dir = ModelDirectory.open(options.model());
        Transformer model = Transformer.load(backend, dir.config(), WeightSource.of(dir))) {
      result.put("load_s", (System.nanoTime() - loadStart) / 1e9);
      int context = options.promptLength() + options.newTokens();
      if (context > model.spec().contextLimit()) {
        throw new UserError("--prompt-len + --new-tokens is " + context + ", over the model's context of "
            + model.spec().contextLimit());
      }
      ModelWeights weights = model.weights();
      long stepBytes = weights.bytesReadPerStep();
      result.put("weight_dtype", weights.lmHead().dtype().name());
      result.put("weight_bytes_per_step", stepBytes);

      double bandwidth = bandwidth(result);
      double ceiling = bandwidth / stepBytes;
      ObjectNode ceilingNode = result.putObject("batch1_ceiling");
      ceilingNode.put("decode_tok_s", ceiling);
      ceilingNode.put("why", "each decode step reads weight_bytes_per_step at memory_bandwidth");

      Generator generator = new Generator(model, Set.of());
      SplittableRandom random = new SplittableRandom(options.seed());
      ArrayNode runs = result.putArray("runs");
      for (int batch : options.batches()) {
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
          prompts.add(random.ints(options.promptLength(), 0, model.spec().vocabSize()).toArray());
        }
        log.accept("batch " + batch + ": " + batch + " prompts of " + options.promptLength() + " tokens, "
            + options.newTokens() + " new tokens each");
        generator.generateAll(requests(prompts, Math.min(WARMUP_TOKENS, options.newTokens()), context), batch,
            (r, i) -> {});
        BatchResult timed = generator.generateAll(requests(prompts, options.newTokens(), context), batch, (r, i) -> {});
        runs.add(runNode(batch, timed, stepBytes, weights.layerMultiplyAddsPerToken()));
      }
      runs.forEach(r -> {
        if (r.get("batch").asInt() == 1) {
          ceilingNode.put("ratio", r.get("decode_tok_s").asDouble() / ceiling);
        }
      });
    }
    return result;
  }

  private double bandwidth(ObjectNode result) {
    ObjectNode node = result.putObject("memory_bandwidth");
    double bytesPerSecond;
    if (options.statedBandwidthGbs() != null) {
      bytesPerSecond = options.statedBandwidthGbs() * 1e9;
      node.put("source", "stated (--memory-bandwidth)");
    } else {
      log.accept("measuring copy bandwidth over " + options.bandwidthBufferBytes() / 1e6 + " MB");
      bytesPerSecond = MemoryBandwidth.measure(backend, options.bandwidthBufferBytes());
      node.put("source", "measured: Backend.copyRows of " + options.bandwidthBufferBytes() / 1e6
          + " MB, bytes read + written, best of 3");
    }
    node.put("gb_per_s", bytesPerSecond / 1e9);
    return bytesPerSecond;
  }

  private static List<GenerationRequest> requests(List<int[]> prompts, int newTokens, int context) {
    GenerationSettings settings = new GenerationSettings(newTokens, SamplingParams.GREEDY, 0, List.of(), context);
    return prompts.stream().map(p -> new GenerationRequest(p, settings, TokenText.NONE, TokenListener.NONE, null)).toList();
  }

  private static ObjectNode runNode(int batch, BatchResult r, long stepBytes, long layerMultiplyAdds) {
    ObjectNode node = new ObjectMapper().createObjectNode();
    double prefill = r.prefillTokensPerSecond();
    double stepsPerSecond = r.decodeSeconds() > 0 ? r.decodeSteps() / r.decodeSeconds() : 0;
    node.put("batch", batch);
    node.put("prefill_tok_s", prefill);
    node.put("prefill_layer_tflop_s", prefill * 2.0 * layerMultiplyAdds / 1e12);
    node.put("ttft_ms", r.results().get(0).ttftMillis());
    node.put("batch_ttft_ms", r.prefillSeconds() * 1e3);
    node.put("decode_tok_s", r.decodeTokensPerSecond());
    node.put("decode_step_ms", stepsPerSecond > 0 ? 1e3 / stepsPerSecond : 0);
    node.put("decode_weight_gb_s", stepsPerSecond * stepBytes / 1e9);
    node.put("decode_tokens", r.decodeTokens());
    node.put("decode_s", r.decodeSeconds());
    return node;
  }
}
