package dev.amalgam.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.io.ModelDirectory;
import dev.amalgam.io.SafetensorsHeader;
import dev.amalgam.io.SafetensorsLayout;
import dev.amalgam.io.ShardedSafetensorsWriter;
import dev.amalgam.io.TensorInfo;
import dev.amalgam.tensor.HostTensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;

/** Test checkpoints built from the {@link Fixtures}: variants derived from them (tied, reshaped, re-typed), configs. */
public final class TestModels {
  private TestModels() {}

  /** Every tensor of a model folder, copied into memory. */
  public static Map<String, HostTensor> load(Path dir) {
    Map<String, HostTensor> tensors = new LinkedHashMap<>();
    try (ModelDirectory model = ModelDirectory.open(dir)) {
      for (TensorInfo t : model.tensors()) {
        ByteBuffer copy = ByteBuffer.allocate((int) t.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        copy.put(model.map(t)).flip();
        tensors.put(t.name(), new HostTensor(t.name(), t.dtype(), t.shape(), copy));
      }
    }
    return tensors;
  }

  /** The 16-bit tensors of two model folders, equal bit for bit, and the same names in both. */
  public static void assertSameTensors(Path expected, Path actual) {
    Map<String, HostTensor> want = load(expected);
    Map<String, HostTensor> got = load(actual);
    Assertions.assertEquals(want.keySet(), got.keySet(), actual + ": tensor names");
    for (String name : want.keySet()) {
      Assertions.assertArrayEquals(shorts(want.get(name)), shorts(got.get(name)), actual + ": " + name);
    }
  }

  /** Every tensor of one safetensors file, copied into memory. */
  public static Map<String, HostTensor> loadFile(Path file) {
    Map<String, HostTensor> tensors = new LinkedHashMap<>();
    try (FileChannel channel = FileChannel.open(file)) {
      for (TensorInfo t : SafetensorsHeader.read(file).tensors().values()) {
        ByteBuffer copy = ByteBuffer.allocate((int) t.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        channel.read(copy, t.fileOffset());
        tensors.put(t.name(), new HostTensor(t.name(), t.dtype(), t.shape(), copy.flip()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return tensors;
  }

  /**
   * Writes a new model folder from {@code source}: its tensors changed by {@code tensors} (which may remove,
   * replace or add entries) and its config.json changed by {@code config}; other files are copied.
   */
  public static Path derive(Path source, Path target, Consumer<Map<String, HostTensor>> tensors,
      UnaryOperator<ObjectNode> config) throws IOException {
    Files.createDirectories(target);
    try (Stream<Path> files = Files.list(source)) {
      for (Path f : files.toList()) {
        String name = f.getFileName().toString();
        if (!name.endsWith(".safetensors") && !name.equals(ModelDirectory.INDEX_FILE) && !name.equals("config.json")) {
          Files.copy(f, target.resolve(name));
        }
      }
    }
    ObjectMapper json = new ObjectMapper();
    ObjectNode cfg = (ObjectNode) json.readTree(source.resolve("config.json").toFile());
    Files.writeString(target.resolve("config.json"), json.writeValueAsString(config.apply(cfg)));
    Map<String, HostTensor> weights = load(source);
    tensors.accept(weights);
    write(target, new ArrayList<>(weights.values()), Long.MAX_VALUE);
    return target;
  }

  public static void write(Path folder, List<HostTensor> tensors, long shardBytes) {
    List<SafetensorsLayout.Entry> entries =
        tensors.stream().map(t -> new SafetensorsLayout.Entry(t.name(), t.dtype(), t.shape())).toList();
    try (ShardedSafetensorsWriter writer = new ShardedSafetensorsWriter(folder, entries, shardBytes)) {
      tensors.forEach(t -> writer.write(t.name(), 0, t.data().duplicate()));
      writer.finish();
    }
  }

  /** A config file in {@code dir} whose model paths are written relative to it. */
  public static Path config(Path dir, String yaml) throws IOException {
    Path file = dir.resolve("merge.yml");
    Files.writeString(file, yaml);
    return file;
  }

  /** The `models:` block of a merge config over the demo models A and B, with these weights. */
  public static String models(String weightA, String weightB) {
    return "models:\n  - model: " + abs(Fixtures.A) + "\n    parameters: {weight: " + weightA + "}\n"
        + "  - model: " + abs(Fixtures.B) + "\n    parameters: {weight: " + weightB + "}\n";
  }

  /** Absolute path text for YAML. */
  public static String abs(Path p) {
    return p.toAbsolutePath().toString();
  }

  /** Raw little-endian 16-bit values of a bf16 tensor. */
  public static short[] shorts(HostTensor t) {
    ByteBuffer b = t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
    short[] out = new short[b.remaining() / 2];
    b.asShortBuffer().get(out);
    return out;
  }
}
