package dev.amalgam.io;

import dev.amalgam.tensor.DType;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Where one tensor lives: its file and absolute byte range in that file, with dtype and shape as declared in
 * the safetensors header (already validated against each other).
 */
public record TensorInfo(String name, DType dtype, long[] shape, Path file, long fileOffset, long byteSize) {

  public long elementCount() {
    return elementCount(shape);
  }

  public static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  public String shapeString() {
    return Arrays.toString(shape);
  }

  public boolean sameShape(TensorInfo other) {
    return Arrays.equals(shape, other.shape);
  }
}
