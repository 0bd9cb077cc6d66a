package dev.amalgam.model;

import dev.amalgam.io.SafetensorsHeader;
import dev.amalgam.io.TensorInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** The Hugging Face reference outputs in src/test/resources/golden, and the example models they belong to. */
public final class Golden {
  public static final int PROMPTS = 4;

  private final Map<String, TensorInfo> tensors;

  private Golden(Path file) {
    tensors = SafetensorsHeader.read(file).tensors();
  }

  /** {@code a}, {@code b} or {@code merged}. */
  public static Golden of(String model) {
    try {
      return new Golden(Path.of(Golden.class.getResource("/golden/qwen2-tiny-golden-" + model + ".safetensors").toURI()));
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The example checkpoint folder for a golden model name (tests run in the repository root). */
  public static Path modelDir(String model) {
    return Path.of("examples", model.equals("merged") ? "qwen2-tiny-merged-linear" : "qwen2-tiny-" + model);
  }

  public int[] ints(String name) {
    ByteBuffer b = bytes(name);
    int[] out = new int[b.remaining() / 4];
    b.asIntBuffer().get(out);
    return out;
  }

  public float[] floats(String name) {
    ByteBuffer b = bytes(name);
    float[] out = new float[b.remaining() / 4];
    b.asFloatBuffer().get(out);
    return out;
  }

  private ByteBuffer bytes(String name) {
    TensorInfo info = tensors.get(name);
    byte[] data = new byte[(int) info.byteSize()];
    try (var channel = Files.newByteChannel(info.file())) {
      channel.position(info.fileOffset());
      ByteBuffer target = ByteBuffer.wrap(data);
      while (target.hasRemaining() && channel.read(target) >= 0) {
        // read until full
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
  }
}
