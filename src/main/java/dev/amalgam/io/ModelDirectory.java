package dev.amalgam.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.BoundedJson;
import dev.amalgam.UserError;
import dev.amalgam.config.ModelConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * A Hugging Face model folder: {@code config.json} plus safetensors weights, either one
 * {@code model.safetensors} or shards listed by {@code model.safetensors.index.json}. Tensors are read by
 * memory-mapping their byte ranges, so opening a 3.5 GB checkpoint costs only its headers.
 */
public final class ModelDirectory implements AutoCloseable {
  public static final String SINGLE_FILE = "model.safetensors";
  public static final String INDEX_FILE = "model.safetensors.index.json";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dir;
  private final Map<String, TensorInfo> tensors;
  private final Map<Path, FileChannel> channels = new HashMap<>();

  private ModelDirectory(Path dir, Map<String, TensorInfo> tensors) {
    this.dir = dir;
    this.tensors = tensors;
  }

  public static ModelDirectory open(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new UserError(Files.exists(dir) ? dir + " is not a directory" : "model folder " + dir + " does not exist");
    }
    Path index = dir.resolve(INDEX_FILE);
    Path single = dir.resolve(SINGLE_FILE);
    if (Files.isRegularFile(index)) {
      return new ModelDirectory(dir, readSharded(dir, index));
    }
    if (Files.isRegularFile(single)) {
      return new ModelDirectory(dir, SafetensorsHeader.read(single).tensors());
    }
    if (Files.exists(dir.resolve("pytorch_model.bin")) || Files.exists(dir.resolve("pytorch_model.bin.index.json"))) {
      throw new UserError(dir + " holds PyTorch .bin weights; amalgam reads safetensors only "
          + "(convert with `transformers` save_pretrained(safe_serialization=True))");
    }
    throw new UserError("no " + SINGLE_FILE + " or " + INDEX_FILE + " in " + dir);
  }

  private static Map<String, TensorInfo> readSharded(Path dir, Path index) {
    // A weight map names each tensor once: megabytes for the largest models, never this.
    JsonNode weightMap = BoundedJson.read(index, 256L << 20, INDEX_FILE).path("weight_map");
    if (!weightMap.isObject() || weightMap.isEmpty()) {
      throw new UserError(index + " has no `weight_map` object");
    }
    Map<String, String> shardOf = new LinkedHashMap<>();
    weightMap.fields().forEachRemaining(f -> shardOf.put(f.getKey(), f.getValue().asText()));
    Map<String, SafetensorsHeader> headers = new HashMap<>();
    for (String shard : new TreeSet<>(shardOf.values())) {
      headers.put(shard, SafetensorsHeader.read(shardPath(dir, index, shard)));
    }
    Map<String, TensorInfo> tensors = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : shardOf.entrySet()) {
      TensorInfo info = headers.get(e.getValue()).tensors().get(e.getKey());
      if (info == null) {
        throw new UserError(index + " places `" + e.getKey() + "` in " + e.getValue() + ", which does not hold it");
      }
      tensors.put(e.getKey(), info);
    }
    return tensors;
  }

  /** A shard named by the index must stay inside the model folder: an index is untrusted input. */
  private static Path shardPath(Path dir, Path index, String shard) {
    Path base = dir.toAbsolutePath().normalize();
    Path resolved = base.resolve(shard).normalize();
    if (shard.isEmpty() || Path.of(shard).isAbsolute() || !resolved.getParent().equals(base)) {
      throw new UserError(index + " names shard `" + shard + "`, which is outside the model folder");
    }
    try {
      if (Files.isSymbolicLink(resolved) && !resolved.toRealPath().startsWith(base.toRealPath())
          && !isHubBlob(base, resolved.toRealPath())) {
        throw new UserError(index + " names shard `" + shard + "`, a link that leaves the model folder");
      }
    } catch (IOException e) {
      throw new UserError("cannot resolve shard " + resolved + ": " + e.getMessage(), e);
    }
    if (!Files.isRegularFile(resolved)) {
      throw new UserError(index + " names shard `" + shard + "`, which does not exist");
    }
    return resolved;
  }

  /**
   * Whether {@code target} is a file in the {@code blobs/} folder of the Hugging Face hub cache entry that holds
   * {@code snapshot} ({@code models--org--name/snapshots/REVISION}): where the cache keeps every snapshot's files,
   * each linked from the snapshot folder.
   */
  private static boolean isHubBlob(Path snapshot, Path target) throws IOException {
    Path snapshots = snapshot.getParent();
    if (snapshots == null || snapshots.getFileName() == null || !snapshots.getFileName().toString().equals("snapshots")) {
      return false;
    }
    Path blobs = snapshots.resolveSibling("blobs");
    return Files.isDirectory(blobs) && target.getParent().equals(blobs.toRealPath()) && Files.isRegularFile(target);
  }

  public Path dir() {
    return dir;
  }

  /** Tensors in checkpoint order. */
  public Collection<TensorInfo> tensors() {
    return tensors.values();
  }

  public Optional<TensorInfo> tensor(String name) {
    return Optional.ofNullable(tensors.get(name));
  }

  public List<String> tensorNames() {
    return new ArrayList<>(tensors.keySet());
  }

  public ModelConfig config() {
    return ModelConfig.read(dir.resolve("config.json"));
  }

  /** Maps a tensor's bytes read-only, little-endian. Nothing is read until the buffer is touched. */
  public synchronized ByteBuffer map(TensorInfo info) {
    if (info.byteSize() > Integer.MAX_VALUE) {
      throw new UserError("tensor `" + info.name() + "` is " + info.byteSize()
          + " bytes; tensors over 2 GiB are not supported yet");
    }
    try {
      FileChannel channel = channels.get(info.file());
      if (channel == null) {
        channel = FileChannel.open(info.file(), StandardOpenOption.READ);
        channels.put(info.file(), channel);
      }
      return channel.map(FileChannel.MapMode.READ_ONLY, info.fileOffset(), info.byteSize())
          .order(ByteOrder.LITTLE_ENDIAN);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot map `" + info.name() + "` from " + info.file(), e);
    }
  }

  /** Total bytes of all tensor data. */
  public long totalBytes() {
    return tensors.values().stream().mapToLong(TensorInfo::byteSize).sum();
  }

  @Override
  public synchronized void close() {
    for (FileChannel c : channels.values()) {
      try {
        c.close();
      } catch (IOException ignored) {
        // Read-only channels: nothing can be lost by a failed close.
      }
    }
    channels.clear();
  }
}
