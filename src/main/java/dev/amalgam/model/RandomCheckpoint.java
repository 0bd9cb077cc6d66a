package dev.amalgam.model;

import dev.amalgam.UserError;
import dev.amalgam.config.ModelConfig;
import dev.amalgam.io.AtomicOutputDirectory;
import dev.amalgam.io.SafetensorsLayout;
import dev.amalgam.io.ShardedSafetensorsWriter;
import dev.amalgam.io.TensorInfo;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.FloatBits;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.stream.IntStream;

/**
 * Writes a checkpoint with random bf16 weights in HF layout, for benchmarks at real model shapes. Weights
 * are uniform with the config's initializer_range as standard deviation; norms are one. The same seed gives
 * the same bytes, whatever the thread count.
 */
public final class RandomCheckpoint {
  /** Each block of elements has its own random stream, so results do not depend on scheduling. */
  private static final int BLOCK = 1 << 20;

  private RandomCheckpoint() {}

  public static void write(ModelConfig config, String configJson, Path target, long seed, long maxShardBytes,
      boolean overwrite, LongConsumer bytesWritten, Consumer<String> notice) {
    List<DecoderLayout.Tensor> layout = DecoderLayout.of(ModelSpec.from(config));
    checkFits(layout, target);
    float halfWidth = (float) (config.raw().path("initializer_range").asDouble(0.02) * Math.sqrt(3));
    try (AtomicOutputDirectory out = AtomicOutputDirectory.create(target, overwrite, notice)) {
      List<SafetensorsLayout.Entry> entries =
          layout.stream().map(t -> new SafetensorsLayout.Entry(t.name(), DType.BF16, t.shape())).toList();
      try (ShardedSafetensorsWriter writer = new ShardedSafetensorsWriter(out.staging(), entries, maxShardBytes)) {
        for (int i = 0; i < layout.size(); i++) {
          DecoderLayout.Tensor t = layout.get(i);
          ByteBuffer data = t.isNorm() ? ones(t.shape()) : uniform(t.shape(), halfWidth, seed * 1_000_003L + i);
          writer.write(t.name(), 0, data);
          bytesWritten.accept(data.capacity());
        }
        writer.finish();
      }
      Files.writeString(out.staging().resolve("config.json"), configJson);
      out.commit();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + target, e);
    }
  }

  /** Fails before writing anything when the checkpoint's bytes exceed the free space where it goes. */
  private static void checkFits(List<DecoderLayout.Tensor> layout, Path target) {
    long bytes;
    try {
      bytes = layout.stream().mapToLong(t -> Math.multiplyExact(TensorInfo.elementCount(t.shape()), 2L))
          .reduce(0L, Math::addExact);
    } catch (ArithmeticException e) {
      throw new UserError("a checkpoint of this config would hold more bytes than can be counted");
    }
    Path parent = target.toAbsolutePath().normalize().getParent();
    long free;
    try {
      free = parent == null || !Files.isDirectory(parent) ? Long.MAX_VALUE : Files.getFileStore(parent).getUsableSpace();
    } catch (IOException e) {
      return;  // the output checks that follow say what is wrong with the folder
    }
    if (bytes > free) {
      throw new UserError(String.format(Locale.ROOT, "a checkpoint of this config is %.3g GB, but %s has %.3g GB free",
          bytes / 1e9, parent, free / 1e9));
    }
  }

  private static ByteBuffer ones(long[] shape) {
    int n = Math.toIntExact(TensorInfo.elementCount(shape));
    ByteBuffer b = ByteBuffer.allocateDirect(n * 2).order(ByteOrder.LITTLE_ENDIAN);
    short one = FloatBits.floatToBf16(1f);
    for (int i = 0; i < n; i++) {
      b.putShort(i * 2, one);
    }
    return b;
  }

  /**
   * Little-endian bf16 values uniform in [-halfWidth, halfWidth), filled in parallel; the same seed gives the
   * same bytes.
   */
  public static ByteBuffer uniform(long[] shape, float halfWidth, long seed) {
    int n = Math.toIntExact(TensorInfo.elementCount(shape));
    ByteBuffer b = ByteBuffer.allocateDirect(n * 2).order(ByteOrder.LITTLE_ENDIAN);
    int blocks = (n + BLOCK - 1) / BLOCK;
    ForkJoinPool.commonPool().submit(() -> IntStream.range(0, blocks).parallel().forEach(block -> {
      SplittableRandom random = new SplittableRandom(seed * 31 + block);
      int end = Math.min(n, (block + 1) * BLOCK);
      for (int i = block * BLOCK; i < end; i++) {
        float v = (float) ((random.nextDouble() * 2 - 1) * halfWidth);
        b.putShort(i * 2, FloatBits.floatToBf16(v));
      }
    })).join();
    return b;
  }
}
