package dev.amalgam.cuda;

/**
 * The C type of one kernel parameter, as cuLaunchKernel reads it from its argument slot, and the Java value a
 * launcher passes for it: a {@code long} for {@link #POINTER} (a CUdeviceptr) and {@link #LONG}, an {@code int}
 * for {@link #INT}, a {@code float} for {@link #FLOAT}, a {@link KernelStruct} for a struct passed by value.
 */
public record KernelParam(Kind kind, int bytes) {
  public enum Kind { POINTER, INT, LONG, FLOAT, STRUCT }

  /** Any pointer. */
  public static final KernelParam POINTER = new KernelParam(Kind.POINTER, 8);
  /** {@code int}. */
  public static final KernelParam INT = new KernelParam(Kind.INT, 4);
  /** {@code unsigned long long}. */
  public static final KernelParam LONG = new KernelParam(Kind.LONG, 8);
  /** {@code float}. */
  public static final KernelParam FLOAT = new KernelParam(Kind.FLOAT, 4);

  /** A struct of {@code bytes} bytes passed by value, such as merge.cu's {@code MergeArgs}. */
  public static KernelParam struct(int bytes) {
    return new KernelParam(Kind.STRUCT, bytes);
  }

  @Override
  public String toString() {
    return kind == Kind.STRUCT ? "struct of " + bytes + " bytes" : kind.name();
  }
}
