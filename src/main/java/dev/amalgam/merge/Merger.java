package dev.amalgam.merge;

import dev.amalgam.io.AtomicOutputDirectory;
import dev.amalgam.io.IoErrors;
import dev.amalgam.io.SafetensorsLayout;
import dev.amalgam.io.ShardedSafetensorsWriter;
import dev.amalgam.tensor.HostTensor;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/** Runs a planned merge into an HF model folder on disk, or into memory for generation. */
public final class Merger {
  private Merger() {}

  /**
   * What a finished merge did, for the summary line and {@code --json}.
   *
   * @param nonFinite per tensor that has any, how many of its elements are NaN or infinite
   * @param nonFiniteInputs which of those tensors had NaN or infinite elements in an input already (the others
   *     overflowed in the arithmetic)
   */
  public record Result(int tensors, long inputBytes, long outputBytes, double seconds, String device,
      Path output, int shards, Map<String, Long> nonFinite, Set<String> nonFiniteInputs) {
    public double gigabytesPerSecond() {
      return (inputBytes + outputBytes) / 1e9 / seconds;
    }
  }

  /**
   * Where and how to write the output folder.
   *
   * @param notice told what was cleaned up beside the folder (leftovers of killed runs)
   */
  public record OutputOptions(Path folder, boolean overwrite, long maxShardBytes, boolean copyTokenizer,
      Consumer<String> notice) {
    public OutputOptions(Path folder, boolean overwrite, long maxShardBytes, boolean copyTokenizer) {
      this(folder, overwrite, maxShardBytes, copyTokenizer, line -> {});
    }
  }

  public static Result toDisk(MergePlan plan, MergeEngine engine, OutputOptions options,
      MergeEngine.MergeProgress progress) {
    plan.checkNotAnInput(options.folder());
    long start = System.nanoTime();
    try (AtomicOutputDirectory out = AtomicOutputDirectory.create(options.folder(), options.overwrite(),
        options.notice())) {
      List<SafetensorsLayout.Entry> entries = plan.tensors().stream()
          .map(t -> new SafetensorsLayout.Entry(t.name(), t.outDType(), t.shape()))
          .toList();
      int shards;
      NonFiniteCounter counted;
      try (ShardedSafetensorsWriter writer =
          new ShardedSafetensorsWriter(out.staging(), entries, options.maxShardBytes())) {
        counted = new NonFiniteCounter((tensor, offset, bytes) -> writer.write(tensor.name(), offset, bytes));
        engine.run(plan.tensors(), plan, counted, progress);
        writer.finish();
        shards = writer.shardCount();
      }
      MergedModelFiles.write(plan, out.staging(), out.target().getFileName().toString(), options.copyTokenizer());
      out.commit();
      double seconds = (System.nanoTime() - start) / 1e9;
      return new Result(plan.tensors().size(), plan.inputBytes(), plan.outputBytes(), seconds, engine.device(),
          out.target(), shards, counted.counts(), withNonFiniteInputs(plan, counted.counts().keySet()));
    } catch (UncheckedIOException e) {
      // Name the folder the user asked for and the system's reason, not the hidden staging path.
      throw new UncheckedIOException("cannot write the merge into " + options.folder() + ": "
          + IoErrors.describe(e.getCause()), e.getCause());
    }
  }

  /** Of {@code names}, the tensors with a NaN or an infinity in an input: read again, only for these few. */
  private static Set<String> withNonFiniteInputs(MergePlan plan, Set<String> names) {
    Set<String> found = new TreeSet<>();
    for (PlannedTensor t : plan.tensors()) {
      if (names.contains(t.name()) && t.inputs().stream()
          .anyMatch(in -> NonFiniteCounter.count(plan.map(in).order(ByteOrder.LITTLE_ENDIAN), in.dtype()) > 0)) {
        found.add(t.name());
      }
    }
    return found;
  }

  /** Merges into host memory: the tensors a model can be built from without touching disk. */
  public static Map<String, HostTensor> toMemory(MergePlan plan, MergeEngine engine,
      MergeEngine.MergeProgress progress) {
    Map<String, HostTensor> merged = new LinkedHashMap<>();
    for (PlannedTensor t : plan.tensors()) {
      ByteBuffer data = ByteBuffer.allocateDirect(Math.toIntExact(t.outBytes())).order(ByteOrder.LITTLE_ENDIAN);
      merged.put(t.name(), new HostTensor(t.name(), t.outDType(), t.shape(), data));
    }
    engine.run(plan.tensors(), plan, (tensor, offset, bytes) ->
        merged.get(tensor.name()).data().put(Math.toIntExact(offset), bytes, bytes.position(), bytes.remaining()),
        progress);
    return merged;
  }
}
