package dev.amalgam.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.tensor.DType;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The byte layout of a safetensors file decided before any data exists: header first, then the tensors back
 * to back. Knowing every offset up front lets tensors be written in any order, from any thread.
 */
public final class SafetensorsLayout {
  /** A tensor to be written: name, dtype, shape. */
  public record Entry(String name, DType dtype, long[] shape) {
    long byteSize() {
      return TensorInfo.elementCount(shape) * dtype.byteSize();
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private final byte[] header;
  private final Map<String, Long> fileOffsets = new LinkedHashMap<>();
  private final long fileSize;

  public SafetensorsLayout(List<Entry> entries) {
    ObjectNode root = JSON.createObjectNode();
    root.putObject("__metadata__").put("format", "pt");
    long offset = 0;
    Map<String, Long> relative = new LinkedHashMap<>();
    for (Entry e : entries) {
      ObjectNode t = root.putObject(e.name());
      t.put("dtype", e.dtype().safetensorsName());
      ArrayNode shape = t.putArray("shape");
      for (long d : e.shape()) {
        shape.add(d);
      }
      t.putArray("data_offsets").add(offset).add(offset + e.byteSize());
      relative.put(e.name(), offset);
      offset += e.byteSize();
    }
    byte[] json = root.toString().getBytes(StandardCharsets.UTF_8);
    // Pad with spaces so the data section starts 8-byte aligned, as the safetensors library does.
    int padded = (json.length + 7) / 8 * 8;
    header = new byte[8 + padded];
    long length = padded;
    for (int i = 0; i < 8; i++) {
      header[i] = (byte) (length >>> (8 * i));
    }
    System.arraycopy(json, 0, header, 8, json.length);
    for (int i = 8 + json.length; i < header.length; i++) {
      header[i] = ' ';
    }
    relative.forEach((name, off) -> fileOffsets.put(name, header.length + off));
    fileSize = header.length + offset;
  }

  public byte[] header() {
    return header.clone();
  }

  public long fileOffset(String tensorName) {
    return fileOffsets.get(tensorName);
  }

  public long fileSize() {
    return fileSize;
  }
}
