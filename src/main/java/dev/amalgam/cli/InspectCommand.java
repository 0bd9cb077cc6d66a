package dev.amalgam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.config.ModelConfig;
import dev.amalgam.io.ModelDirectory;
import dev.amalgam.io.TensorInfo;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description = "Describe a model folder: architecture, parameter count, dtypes, shards and tensors.",
    footer = {"", "Examples:", "  amalgam inspect examples/qwen2-tiny-a", "  amalgam inspect /models/r1 --json | jq .parameters"})
final class InspectCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "MODEL_DIR", description = "An HF model folder with safetensors weights.")
  Path dir;

  @Option(names = "--json", description = "Print JSON on stdout.")
  boolean json;

  @Override
  public Integer call() {
    try (ModelDirectory model = ModelDirectory.open(dir)) {
      ModelConfig config = Files.exists(dir.resolve("config.json")) ? model.config() : null;
      long parameters = model.tensors().stream().mapToLong(TensorInfo::elementCount).sum();
      Map<String, Long> dtypes = new TreeMap<>();
      model.tensors().forEach(t -> dtypes.merge(t.dtype().safetensorsName(), t.elementCount(), Long::sum));
      long shards = model.tensors().stream().map(TensorInfo::file).distinct().count();
      String architecture = config == null ? "unknown (no config.json)" : String.join(",", config.architectures());
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        ObjectNode node = new ObjectMapper().createObjectNode();
        node.put("path", dir.toAbsolutePath().toString()).put("architecture", architecture)
            .put("parameters", parameters).put("bytes", model.totalBytes()).put("shards", shards);
        ObjectNode types = node.putObject("dtypes");
        dtypes.forEach(types::put);
        ArrayNode tensors = node.putArray("tensors");
        for (TensorInfo t : model.tensors()) {
          ObjectNode e = tensors.addObject().put("name", t.name()).put("dtype", t.dtype().safetensorsName());
          ArrayNode shape = e.putArray("shape");
          for (long d : t.shape()) {
            shape.add(d);
          }
        }
        out.println(node);
        return ExitCodes.OK;
      }
      out.printf(Locale.ROOT, "%s%n  architecture  %s%n  parameters    %,d (%.3f B)%n  bytes         %,d%n  shards        %d%n",
          dir, architecture, parameters, parameters / 1e9, model.totalBytes(), shards);
      dtypes.forEach((type, count) -> out.printf(Locale.ROOT, "  dtype         %s: %,d parameters%n", type, count));
      out.printf("  tensors       %d%n", model.tensors().size());
      for (TensorInfo t : model.tensors()) {
        out.printf(Locale.ROOT, "    %-60s %-5s %s%n", t.name(), t.dtype().safetensorsName(), t.shapeString());
      }
      return ExitCodes.OK;
    }
  }
}
