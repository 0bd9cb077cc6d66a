package dev.amalgam.backend.cuda;

/** The C type of one kernel parameter, as cuLaunchKernel reads it from its argument slot. */
public enum KernelParam {
  /** Any pointer: a CUdeviceptr passed as a Java {@code long}. */
  POINTER(8),
  /** {@code int}: a Java {@code int}. */
  INT(4),
  /** {@code unsigned long long}: a Java {@code long}. */
  LONG(8),
  /** {@code float}: a Java {@code float}. */
  FLOAT(4);

  private final int bytes;

  KernelParam(int bytes) {
    this.bytes = bytes;
  }

  public int bytes() {
    return bytes;
  }
}
