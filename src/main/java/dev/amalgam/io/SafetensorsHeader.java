package dev.amalgam.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.UserError;
import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and validates a safetensors header: an 8-byte little-endian length, then a JSON object mapping each
 * tensor name to dtype, shape and a byte range relative to the end of the header. A checkpoint is untrusted
 * input, so every claim the header makes is checked before anything is mapped.
 */
public final class SafetensorsHeader {
  /** The safetensors library itself refuses headers over 100 MB. */
  static final long MAX_HEADER_BYTES = 100L << 20;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Map<String, TensorInfo> tensors;
  private final Map<String, String> metadata;

  private SafetensorsHeader(Map<String, TensorInfo> tensors, Map<String, String> metadata) {
    this.tensors = tensors;
    this.metadata = metadata;
  }

  /** Tensors in header order, by name. */
  public Map<String, TensorInfo> tensors() {
    return tensors;
  }

  public Map<String, String> metadata() {
    return metadata;
  }

  public static SafetensorsHeader read(Path file) {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long fileSize = channel.size();
      if (fileSize < 8) {
        throw corrupt(file, "file is " + fileSize + " bytes, too short for a header");
      }
      ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(channel, lengthBytes, 0);
      long headerLength = lengthBytes.flip().getLong();
      if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES || headerLength > fileSize - 8) {
        throw corrupt(file, "header length " + headerLength + " is not sane for a " + fileSize + "-byte file");
      }
      ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
      readFully(channel, headerBytes, 8);
      String json = new String(headerBytes.array(), StandardCharsets.UTF_8);
      long dataStart = 8 + headerLength;
      return parse(file, json, dataStart, fileSize - dataStart);
    } catch (IOException e) {
      throw new UserError("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private static SafetensorsHeader parse(Path file, String json, long dataStart, long dataSize) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw corrupt(file, "header is not valid JSON (" + e.getOriginalMessage() + ")");
    }
    if (root == null || !root.isObject()) {
      throw corrupt(file, "header is not a JSON object");
    }
    Map<String, TensorInfo> tensors = new LinkedHashMap<>();
    Map<String, String> metadata = new LinkedHashMap<>();
    List<long[]> ranges = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      if (field.getKey().equals("__metadata__")) {
        field.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
        continue;
      }
      TensorInfo info = tensor(file, field.getKey(), field.getValue(), dataStart, dataSize);
      tensors.put(info.name(), info);
      ranges.add(new long[] {info.fileOffset(), info.fileOffset() + info.byteSize(), tensors.size() - 1});
    }
    checkNoOverlap(file, ranges, new ArrayList<>(tensors.keySet()));
    return new SafetensorsHeader(tensors, metadata);
  }

  private static TensorInfo tensor(Path file, String name, JsonNode node, long dataStart, long dataSize) {
    String where = "tensor `" + name + "`";
    if (!node.isObject()) {
      throw corrupt(file, where + " is not a JSON object");
    }
    String dtypeName = node.path("dtype").asText("");
    DType dtype = DType.fromSafetensors(dtypeName)
        .orElseThrow(() -> corrupt(file, where + " has unknown dtype `" + dtypeName + "`"));
    JsonNode shapeNode = node.path("shape");
    JsonNode offsetsNode = node.path("data_offsets");
    if (!shapeNode.isArray()) {
      throw corrupt(file, where + " has no shape list");
    }
    long[] shape = new long[shapeNode.size()];
    for (int i = 0; i < shape.length; i++) {
      JsonNode d = shapeNode.get(i);
      if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
        throw corrupt(file, where + " has an invalid shape " + shapeNode);
      }
      shape[i] = d.asLong();
    }
    if (!offsetsNode.isArray() || offsetsNode.size() != 2
        || !offsetsNode.get(0).isIntegralNumber() || !offsetsNode.get(1).isIntegralNumber()
        // Offsets of 2^63 and more would wrap around in a long and land inside the file.
        || !offsetsNode.get(0).canConvertToLong() || !offsetsNode.get(1).canConvertToLong()) {
      throw corrupt(file, where + " has invalid data_offsets " + offsetsNode);
    }
    long begin = offsetsNode.get(0).asLong();
    long end = offsetsNode.get(1).asLong();
    if (begin < 0 || end < begin || end > dataSize) {
      throw corrupt(file, where + " has data_offsets [" + begin + ", " + end + "] outside the "
          + dataSize + "-byte data section");
    }
    long expected;
    try {
      expected = Math.multiplyExact(TensorInfo.elementCount(shape), dtype.byteSize());
    } catch (ArithmeticException e) {
      throw corrupt(file, where + " has a shape too large to address: " + shapeNode);
    }
    if (expected != end - begin) {
      throw corrupt(file, where + " is " + dtypeName + " " + shapeNode + " = " + expected
          + " bytes, but its byte range holds " + (end - begin));
    }
    return new TensorInfo(name, dtype, shape, file, dataStart + begin, end - begin);
  }

  private static void checkNoOverlap(Path file, List<long[]> ranges, List<String> names) {
    ranges.sort(Comparator.comparingLong(r -> r[0]));
    for (int i = 1; i < ranges.size(); i++) {
      long[] previous = ranges.get(i - 1);
      long[] current = ranges.get(i);
      if (current[0] < previous[1]) {
        throw corrupt(file, "tensors `" + names.get((int) previous[2]) + "` and `"
            + names.get((int) current[2]) + "` overlap in the data section");
      }
    }
  }

  private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
    while (buffer.hasRemaining()) {
      int n = channel.read(buffer, position + buffer.position());
      if (n < 0) {
        throw new IOException("unexpected end of file");
      }
    }
  }

  static UserError corrupt(Path file, String why) {
    return new UserError("corrupt safetensors file " + file + ": " + why);
  }
}
