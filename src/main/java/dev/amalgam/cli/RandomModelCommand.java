package dev.amalgam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.config.ModelConfig;
import dev.amalgam.io.TensorInfo;
import dev.amalgam.model.DecoderLayout;
import dev.amalgam.model.ModelSpec;
import dev.amalgam.model.RandomCheckpoint;
import java.nio.file.Files;
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
    name = "random-model",
    mixinStandardHelpOptions = true,
    description = "Write a checkpoint with random bf16 weights at a real model's shapes, for benchmarks.",
    footer = {
      "",
      "Example (the 1.5B Qwen2 shape of DeepSeek-R1-Distill-Qwen-1.5B, 3.55 GB):",
      "  amalgam random-model --config examples/deepseek-r1-distill-qwen-1.5b.config.json /tmp/r1 --seed 1"
    })
final class RandomModelCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--config", required = true, paramLabel = "CONFIG.json", description = "An HF config.json (Qwen2 or Llama family).")
  Path config;

  @Parameters(index = "0", paramLabel = "OUT_DIR", description = "Output model folder.")
  Path output;

  @Option(names = "--seed", defaultValue = "0", description = "Random seed; the same seed gives the same bytes (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--out-shard-size", defaultValue = "5B", paramLabel = "SIZE", converter = ByteSize.class,
      description = "Largest shard (default: ${DEFAULT-VALUE}).")
  long shardBytes;

  @Option(names = "--overwrite", description = "Replace OUT_DIR if it exists and holds only model files.")
  boolean overwrite;

  @Option(names = "--json", description = "Print a JSON summary on stdout.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    ModelConfig modelConfig = ModelConfig.read(config);
    List<DecoderLayout.Tensor> layout = DecoderLayout.of(ModelSpec.from(modelConfig));
    long bytes = layout.stream().mapToLong(t -> TensorInfo.elementCount(t.shape()) * 2).sum();
    ProgressBar bar = json ? null : ProgressBar.onTerminal("tensors", layout.size(), bytes);
    long start = System.nanoTime();
    RandomCheckpoint.write(modelConfig, Files.readString(config), output, seed, shardBytes, overwrite,
        written -> {
          if (bar != null) {
            bar.advance(written);
          }
        }, spec.commandLine().getErr()::println);
    if (bar != null) {
      bar.finish();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    if (json) {
      var node = new ObjectMapper().createObjectNode();
      node.put("output", output.toAbsolutePath().toString()).put("bytes", bytes).put("parameters", bytes / 2)
          .put("seconds", seconds).put("seed", seed);
      spec.commandLine().getOut().println(node);
    } else {
      spec.commandLine().getOut().printf(Locale.ROOT, "wrote %s: %.3f B parameters, %.2f GB, seed %d, in %.1f s%n",
          output, bytes / 2 / 1e9, bytes / 1e9, seed, seconds);
    }
    return ExitCodes.OK;
  }
}
