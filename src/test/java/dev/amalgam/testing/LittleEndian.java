package dev.amalgam.testing;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Arrays as the little-endian bytes that device memory and safetensors hold, and back. */
public final class LittleEndian {
  private LittleEndian() {}

  public static ByteBuffer allocate(int size) {
    return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
  }

  public static ByteBuffer wrap(byte[] bytes) {
    return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  public static byte[] bytes(float... values) {
    ByteBuffer b = allocate(4 * values.length);
    b.asFloatBuffer().put(values);
    return b.array();
  }

  public static byte[] bytes(short... values) {
    ByteBuffer b = allocate(2 * values.length);
    b.asShortBuffer().put(values);
    return b.array();
  }

  public static byte[] bytes(int... values) {
    ByteBuffer b = allocate(4 * values.length);
    b.asIntBuffer().put(values);
    return b.array();
  }

  public static byte[] bytes(double... values) {
    ByteBuffer b = allocate(8 * values.length);
    b.asDoubleBuffer().put(values);
    return b.array();
  }
}
