package dev.amalgam.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.config.HfJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes tensors into HF-style shards: {@code model.safetensors} when everything fits in one shard, else
 * {@code model-0000i-of-0000N.safetensors} plus {@code model.safetensors.index.json}. Shards are filled in
 * tensor order up to the size limit; all offsets are fixed at construction, so {@link #write} is positional
 * and may be called from any thread in any order.
 */
public final class ShardedSafetensorsWriter implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path folder;
  private final List<String> shardNames = new ArrayList<>();
  private final List<FileChannel> channels = new ArrayList<>();
  private final Map<String, Integer> shardOf = new LinkedHashMap<>();
  private final Map<String, Long> offsetOf = new HashMap<>();
  private final long totalBytes;

  public ShardedSafetensorsWriter(Path folder, List<SafetensorsLayout.Entry> tensors, long maxShardBytes) {
    this.folder = folder;
    List<List<SafetensorsLayout.Entry>> shards = assign(tensors, maxShardBytes);
    long total = 0;
    try {
      for (int s = 0; s < shards.size(); s++) {
        String name = shards.size() == 1
            ? ModelDirectory.SINGLE_FILE
            : String.format("model-%05d-of-%05d.safetensors", s + 1, shards.size());
        SafetensorsLayout layout = new SafetensorsLayout(shards.get(s));
        FileChannel channel = FileChannel.open(folder.resolve(name),
            StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ);
        shardNames.add(name);
        channels.add(channel);
        writeFully(channel, ByteBuffer.wrap(layout.header()), 0);
        for (SafetensorsLayout.Entry e : shards.get(s)) {
          shardOf.put(e.name(), s);
          offsetOf.put(e.name(), layout.fileOffset(e.name()));
          total += e.byteSize();
        }
      }
    } catch (IOException e) {
      close();
      throw new UncheckedIOException("cannot create shards in " + folder, e);
    }
    this.totalBytes = total;
  }

  /** Greedy in tensor order: a new shard starts when the next tensor would push this one over the limit. */
  static List<List<SafetensorsLayout.Entry>> assign(List<SafetensorsLayout.Entry> tensors, long maxShardBytes) {
    List<List<SafetensorsLayout.Entry>> shards = new ArrayList<>();
    List<SafetensorsLayout.Entry> current = new ArrayList<>();
    long bytes = 0;
    for (SafetensorsLayout.Entry e : tensors) {
      if (!current.isEmpty() && bytes + e.byteSize() > maxShardBytes) {
        shards.add(current);
        current = new ArrayList<>();
        bytes = 0;
      }
      current.add(e);
      bytes += e.byteSize();
    }
    shards.add(current);
    return shards;
  }

  /** Writes {@code bytes} at {@code byteOffset} within the tensor's data. */
  public void write(String tensorName, long byteOffset, ByteBuffer bytes) {
    int shard = shardOf.get(tensorName);
    try {
      writeFully(channels.get(shard), bytes.duplicate(), offsetOf.get(tensorName) + byteOffset);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write `" + tensorName + "` to " + folder.resolve(shardNames.get(shard)), e);
    }
  }

  public int shardCount() {
    return shardNames.size();
  }

  public List<String> shardNames() {
    return List.copyOf(shardNames);
  }

  /** Writes the index (for several shards) and closes the files; fsync is the output folder's job. */
  public void finish() {
    close();
    if (shardNames.size() == 1) {
      return;
    }
    ObjectNode index = JSON.createObjectNode();
    index.putObject("metadata").put("total_size", totalBytes);
    ObjectNode weightMap = index.putObject("weight_map");
    shardOf.forEach((name, shard) -> weightMap.put(name, shardNames.get(shard)));
    try {
      Files.writeString(folder.resolve(ModelDirectory.INDEX_FILE), HfJson.write(index));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the shard index in " + folder, e);
    }
  }

  @Override
  public void close() {
    for (FileChannel c : channels) {
      try {
        c.close();
      } catch (IOException ignored) {
        // A failed close after a failed write: the output folder is discarded anyway.
      }
    }
  }

  private static void writeFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
    long at = position;
    while (buffer.hasRemaining()) {
      at += channel.write(buffer, at);
    }
  }
}
