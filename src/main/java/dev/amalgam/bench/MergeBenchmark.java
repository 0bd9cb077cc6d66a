package dev.amalgam.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.config.ModelConfig;
import dev.amalgam.cuda.CudaAvailability;
import dev.amalgam.cuda.CudaContext;
import dev.amalgam.device.Device;
import dev.amalgam.device.DeviceChoice;
import dev.amalgam.io.RecursiveDelete;
import dev.amalgam.UserError;
import dev.amalgam.merge.MergeEngine;
import dev.amalgam.merge.MergeMethod;
import dev.amalgam.merge.MergeMethods;
import dev.amalgam.merge.MergePlan;
import dev.amalgam.merge.MergePlanner;
import dev.amalgam.merge.Merger;
import dev.amalgam.model.RandomCheckpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Times the seed model's merge (two random checkpoints, weights 0.3/0.7, normalize, bfloat16) against the
 * disk's floor measured in the same run, on each requested device; with a GPU, also the merge kernel alone
 * against a device-to-device copy. With methods named, a third checkpoint is the base: each method merges the
 * two models over it, and is timed against the linear merge of the same three checkpoints on the same device.
 */
public final class MergeBenchmark {
  /** 64 Mi bf16 elements: 128 MiB per buffer, far past any cache. */
  private static final long KERNEL_ELEMENTS = 1L << 26;

  private final Path workDir;
  private final Path modelConfig;
  private final Consumer<String> log;

  public MergeBenchmark(Path workDir, Path modelConfig, Consumer<String> log) {
    this.workDir = workDir;
    this.modelConfig = modelConfig;
    this.log = log;
  }

  public ObjectNode run(List<DeviceChoice> devices, List<String> methods) throws IOException {
    methods.forEach(MergeMethods::named);
    Files.createDirectories(workDir);
    ensureCheckpoint("a", 1);
    ensureCheckpoint("b", 2);
    MergeConfig config;
    if (methods.isEmpty()) {
      config = writeConfig("linear", "models:\n  - model: a\n    parameters: {weight: 0.3}\n"
          + "  - model: b\n    parameters: {weight: 0.7}\nmerge_method: linear\ndtype: bfloat16\n"
          + "parameters: {normalize: true}\n");
    } else {
      ensureCheckpoint("base", 3);
      config = writeConfig("linear-3", "models:\n  - model: a\n    parameters: {weight: 0.3}\n"
          + "  - model: b\n    parameters: {weight: 0.5}\n  - model: base\n    parameters: {weight: 0.2}\n"
          + "merge_method: linear\ndtype: bfloat16\n");
    }

    ObjectNode result = new ObjectMapper().createObjectNode();
    result.put("model_config", modelConfig.toString());
    boolean cold = IoFloor.dropPageCache();
    result.put("page_cache", cold ? "cold (dropped before each timing)" : "warm (cannot drop caches here)");
    List<Path> inputs;
    long inputBytes;
    long outputBytes;
    try (MergePlan plan = MergePlanner.plan(config)) {
      inputs = plan.inputFiles();
      inputBytes = plan.inputBytes();
      outputBytes = plan.outputBytes();
    }
    result.put("input_bytes", inputBytes).put("output_bytes", outputBytes);
    // Shared disks drift (burst credits, neighbours): the floor is timed before and after the merges, and
    // the faster of the two is the one merges are held to.
    ObjectNode floor = result.putObject("floor");
    ObjectNode before = timeFloor(inputs, outputBytes, cold);
    ArrayNode merges = result.putArray("merges");
    for (DeviceChoice device : devices) {
      ObjectNode linear = timeMerge(config, device, cold);
      merges.add(linear);
      for (String method : methods) {
        ObjectNode timed = timeMerge(writeConfig(method, methodConfig(method)), device, cold);
        if (timed.has("seconds") && linear.has("seconds")) {
          timed.put("ratio_to_linear", timed.get("seconds").asDouble() / linear.get("seconds").asDouble());
        }
        merges.add(timed);
      }
    }
    ObjectNode after = timeFloor(inputs, outputBytes, cold);
    double best = Math.min(before.get("total_s").asDouble(), after.get("total_s").asDouble());
    floor.set("before", before);
    floor.set("after", after);
    floor.put("total_s", best);
    merges.forEach(m -> {
      if (m.has("seconds")) {
        ((ObjectNode) m).put("ratio_to_floor", m.get("seconds").asDouble() / best);
      }
    });
    if (!devices.equals(List.of(DeviceChoice.CPU)) && CudaAvailability.probe().available()) {
      try (CudaContext context = CudaContext.open(0)) {
        log.accept("timing the merge kernel against a device-to-device copy on " + context.description());
        result.set("kernel", MergeKernelBenchmark.run(context, KERNEL_ELEMENTS));
      }
    }
    return result;
  }

  /** Reading every input once, then writing the output's bytes with fdatasync: what `cat` and `dd` do. */
  private ObjectNode timeFloor(List<Path> inputs, long outputBytes, boolean cold) {
    log.accept("timing the I/O floor: read " + inputs.size() + " input files, write " + outputBytes / 1e9 + " GB");
    if (cold) {
      IoFloor.dropPageCache();
    }
    double read = IoFloor.readSeconds(inputs);
    double write = IoFloor.writeSeconds(workDir, outputBytes);
    return new ObjectMapper().createObjectNode().put("read_s", read).put("write_s", write).put("total_s", read + write);
  }

  /** One timed merge; a method the device cannot run is reported as unavailable, with the reason. */
  private ObjectNode timeMerge(MergeConfig config, DeviceChoice device, boolean cold) {
    if (cold) {
      IoFloor.dropPageCache();
    }
    Path out = workDir.resolve("merged-" + device.name().toLowerCase());
    ObjectNode timed = new ObjectMapper().createObjectNode().put("method", config.mergeMethod());
    try (MergePlan plan = MergePlanner.plan(config);
        Device opened = Device.open(device, Device.Settings.DEFAULT, "merging", log);
        MergeEngine engine = opened.mergeEngine()) {
      log.accept("merging " + config.mergeMethod() + " on " + engine.device());
      Merger.Result r = Merger.toDisk(plan, engine, new Merger.OutputOptions(out, true, 5_000_000_000L, false),
          MergeEngine.MergeProgress.NONE);
      return timed.put("device", r.device()).put("seconds", r.seconds()).put("gb_per_s", r.gigabytesPerSecond());
    } catch (UserError e) {
      return timed.put("device", device.name().toLowerCase()).put("unavailable", e.getMessage());
    } finally {
      RecursiveDelete.quietly(out);
    }
  }

  private MergeConfig writeConfig(String name, String yaml) throws IOException {
    Path file = workDir.resolve(name + ".yml");
    Files.writeString(file, yaml);
    return MergeConfig.load(file);
  }

  /**
   * The config {@code method} is timed with: models a and b over the base (only a where the method merges one
   * model; no base where the method would merge it like the models), with every parameter the method reads at a typical value (weights 0.5,
   * density 0.5, gamma 0.01, epsilon 0.15, select_topk 0.5, t 0.5, seed 1).
   */
  static String methodConfig(String method) {
    MergeMethod m = MergeMethods.named(method);
    List<String> parameters = new ArrayList<>();
    for (String name : List.of("weight", "density", "gamma", "epsilon")) {
      if (m.modelParameters().contains(name)) {
        parameters.add(name + ": " + switch (name) {
          case "gamma" -> "0.01";
          case "epsilon" -> "0.15";
          default -> "0.5";
        });
      }
    }
    String own = parameters.isEmpty() ? "\n" : "\n    parameters: {" + String.join(", ", parameters) + "}\n";
    boolean oneModel = m.maxModels() == 1;
    String models = "  - model: a" + own + (oneModel ? "" : "  - model: b" + own);
    List<String> globals = new ArrayList<>();
    for (String name : List.of("select_topk", "t")) {
      if (m.globalParameters().contains(name)) {
        globals.add(name + ": 0.5");
      }
    }
    String global = globals.isEmpty() ? "" : "parameters: {" + String.join(", ", globals) + "}\n";
    String base = m.baseRole() == MergeMethod.BaseRole.MERGED ? "" : "base_model: base\n";
    return "models:\n" + models + "merge_method: " + method + "\n" + base + "dtype: bfloat16\n" + global
        + "random_seed: 1\n";
  }

  Path ensureCheckpoint(String name, long seed) throws IOException {
    Path dir = workDir.resolve(name);
    String wanted = Files.readString(modelConfig);
    if (Files.isRegularFile(dir.resolve("config.json")) && Files.readString(dir.resolve("config.json")).equals(wanted)) {
      return dir;
    }
    log.accept("writing random checkpoint " + dir + " (seed " + seed + ")");
    RandomCheckpoint.write(ModelConfig.read(modelConfig), wanted, dir, seed, 5_000_000_000L, true, bytes -> {}, log);
    return dir;
  }
}
