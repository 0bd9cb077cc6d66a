package dev.amalgam.backend.cuda;

import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * The argument array cuLaunchKernel takes for one kernel, built once: one 8-byte native slot per parameter
 * and a {@link PointerPointer} to the slots. CUDA copies the values at launch, so each launch just rewrites
 * the slots. Values are checked against the kernel's {@link KernelSignature}, since a wrong type would be read
 * as garbage by the GPU rather than fail.
 */
public final class KernelArgs implements AutoCloseable {
  private static final int SLOT_BYTES = 8;

  private final KernelSignature signature;
  private final BytePointer slots;
  private final PointerPointer<?> pointers;

  public KernelArgs(KernelSignature signature) {
    this.signature = signature;
    int n = signature.params().size();
    this.slots = new BytePointer(Math.max(1, (long) n * SLOT_BYTES));
    slots.fill(0);
    this.pointers = new PointerPointer<>(Math.max(1, n));
    for (int i = 0; i < n; i++) {
      pointers.put(i, new RawAddress(slots.address() + (long) i * SLOT_BYTES));
    }
  }

  /** Writes {@code values} (Long for pointers and LONG, Integer for INT, Float for FLOAT) into the slots. */
  public PointerPointer<?> set(Object... values) {
    List<KernelParam> params = signature.params();
    if (values.length != params.size()) {
      throw new IllegalArgumentException(signature.name() + " takes " + params.size() + " arguments, not " + values.length);
    }
    for (int i = 0; i < values.length; i++) {
      long offset = (long) i * SLOT_BYTES;
      Object value = values[i];
      switch (params.get(i)) {
        case POINTER, LONG -> slots.putLong(offset, expect(Long.class, value, i));
        case INT -> slots.putInt(offset, expect(Integer.class, value, i));
        case FLOAT -> slots.putFloat(offset, expect(Float.class, value, i));
      }
    }
    return pointers;
  }

  /** The raw bytes of slot {@code i}, for tests of the encoding. */
  long slotBits(int i) {
    return slots.getLong((long) i * SLOT_BYTES);
  }

  private <T> T expect(Class<T> type, Object value, int index) {
    if (!type.isInstance(value)) {
      throw new IllegalArgumentException(signature.name() + " argument " + index + " is a "
          + signature.params().get(index) + ", given " + (value == null ? "null" : value.getClass().getSimpleName()));
    }
    return type.cast(value);
  }

  @Override
  public void close() {
    pointers.close();
    slots.close();
  }
}
