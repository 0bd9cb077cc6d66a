package dev.amalgam.cuda;

import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * The argument array cuLaunchKernel takes for one kernel, built once: one native slot per parameter (8 bytes,
 * or a struct's size rounded up to 8) and a {@link PointerPointer} to the slots. CUDA copies the values at
 * launch, so each launch just rewrites the slots.
 */
public final class KernelArgs implements AutoCloseable {
  private final KernelSignature signature;
  private final long[] offsets;
  private final BytePointer slots;
  private final PointerPointer<?> pointers;

  public KernelArgs(KernelSignature signature) {
    this.signature = signature;
    List<KernelParam> params = signature.params();
    this.offsets = new long[params.size()];
    long size = 0;
    for (int i = 0; i < params.size(); i++) {
      offsets[i] = size;
      size += (Math.max(8, params.get(i).bytes()) + 7) / 8 * 8;
    }
    this.slots = new BytePointer(Math.max(8, size));
    slots.fill(0);
    this.pointers = new PointerPointer<>(Math.max(1, params.size()));
    for (int i = 0; i < params.size(); i++) {
      pointers.put(i, new RawAddress(slots.address() + offsets[i]));
    }
  }

  /** Checks {@code values} against the signature and writes them into the slots. */
  public PointerPointer<?> set(Object... values) {
    signature.check(values);
    for (int i = 0; i < values.length; i++) {
      switch (signature.params().get(i).kind()) {
        case POINTER, LONG -> slots.putLong(offsets[i], (Long) values[i]);
        case INT -> slots.putInt(offsets[i], (Integer) values[i]);
        case FLOAT -> slots.putFloat(offsets[i], (Float) values[i]);
        case STRUCT -> slots.position(offsets[i]).put(((KernelStruct) values[i]).bytes()).position(0);
      }
    }
    return pointers;
  }

  /** The first 8 bytes of slot {@code i}, for tests of the encoding. */
  long slotBits(int i) {
    return slots.getLong(offsets[i]);
  }

  @Override
  public void close() {
    pointers.close();
    slots.close();
  }
}
