package dev.amalgam.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.device.Device;
import dev.amalgam.generate.GenerationResult;
import dev.amalgam.generate.GenerationSettings;
import dev.amalgam.generate.Generator;
import dev.amalgam.generate.TokenListener;
import dev.amalgam.generate.TokenText;
import dev.amalgam.merge.MergeEngine;
import dev.amalgam.merge.MergePlan;
import dev.amalgam.merge.MergePlanner;
import dev.amalgam.model.Transformer;
import dev.amalgam.model.WeightSource;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * From a merge config to the first generated token, the way {@code amalgam generate CONFIG.yml} goes: plan, merge
 * in memory on the generating device, build the model, prefill a prompt, sample one token. Held against reading
 * the merge's inputs once, timed in the same run, both with the page cache dropped first where the OS allows.
 */
public final class FirstTokenBenchmark {
  private FirstTokenBenchmark() {}

  public static ObjectNode run(Device device, Path config, int promptLength, long seed, Consumer<String> log) {
    MergeConfig mergeConfig = MergeConfig.load(config);
    List<Path> inputs;
    try (MergePlan plan = MergePlanner.plan(mergeConfig)) {
      inputs = plan.inputFiles();
    }
    boolean cold = IoFloor.dropPageCache();
    log.accept("timing a read of the merge's " + inputs.size() + " input files");
    double read = IoFloor.readSeconds(inputs);
    if (cold) {
      IoFloor.dropPageCache();
    }
    log.accept("timing merge to first token on " + device.description());
    long start = System.nanoTime();
    GenerationResult first;
    try (MergePlan plan = MergePlanner.plan(mergeConfig);
        WeightSource weights = device.mergeInMemory(plan, MergeEngine.MergeProgress.NONE);
        Transformer model = Transformer.load(device.backend(), plan.outputConfig(), weights)) {
      int[] prompt = new SplittableRandom(seed).ints(promptLength, 0, model.spec().vocabSize()).toArray();
      first = new Generator(model, Set.of()).generate(prompt, GenerationSettings.greedy(1), TokenText.NONE,
          TokenListener.NONE);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    return new ObjectMapper().createObjectNode()
        .put("device", device.backend().device())
        .put("page_cache", cold ? "cold (dropped before each timing)" : "warm (cannot drop caches here)")
        .put("prompt_tokens", promptLength)
        .put("generated_tokens", first.tokens().length)
        .put("read_inputs_s", read)
        .put("merge_to_first_token_s", seconds)
        .put("ratio_to_read", seconds / read);
  }
}
