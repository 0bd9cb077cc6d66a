package dev.amalgam.merge;

import dev.amalgam.cuda.CudaEvent;
import dev.amalgam.cuda.CudaStream;
import dev.amalgam.cuda.DeviceBuffer;
import dev.amalgam.cuda.PinnedBuffer;
import dev.amalgam.io.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * One chunk in flight: pinned staging for the inputs, their device copy, an optional output chunk (on the
 * device, and pinned on the host to download it into), and a stream with an event marking when the chunk's
 * last command has finished. Inputs sit one after
 * another, each starting on a 256-byte boundary so the kernel's 16-byte vector loads stay aligned.
 */
final class StagingSlot implements AutoCloseable {
  private static final long REGION_ALIGNMENT = 256;

  final CudaStream stream;
  final CudaEvent done;
  private final PinnedBuffer hostInputs;
  private final DeviceBuffer deviceInputs;
  private final DeviceBuffer deviceOutput;
  private final PinnedBuffer hostOutput;

  private StagingSlot(CudaStream stream, CudaEvent done, PinnedBuffer hostInputs, DeviceBuffer deviceInputs,
      DeviceBuffer deviceOutput, PinnedBuffer hostOutput) {
    this.stream = stream;
    this.done = done;
    this.hostInputs = hostInputs;
    this.deviceInputs = deviceInputs;
    this.deviceOutput = deviceOutput;
    this.hostOutput = hostOutput;
  }

  /** {@code outputBytes} 0 means the kernel writes somewhere else (a device-resident tensor). */
  static StagingSlot allocate(long inputBytes, long outputBytes) {
    List<AutoCloseable> made = new ArrayList<>();
    try {
      CudaStream stream = keep(made, CudaStream.create());
      CudaEvent done = keep(made, CudaEvent.create(false));
      PinnedBuffer hostInputs = keep(made, PinnedBuffer.allocate(inputBytes));
      DeviceBuffer deviceInputs = keep(made, DeviceBuffer.allocate(inputBytes));
      DeviceBuffer deviceOutput = outputBytes == 0 ? null : keep(made, DeviceBuffer.allocate(outputBytes));
      PinnedBuffer hostOutput = outputBytes == 0 ? null : keep(made, PinnedBuffer.allocate(outputBytes));
      return new StagingSlot(stream, done, hostInputs, deviceInputs, deviceOutput, hostOutput);
    } catch (RuntimeException e) {
      for (AutoCloseable resource : made) {
        try {
          resource.close();
        } catch (Exception suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
  }

  private static <T extends AutoCloseable> T keep(List<AutoCloseable> made, T resource) {
    made.add(resource);
    return resource;
  }

  /**
   * Staging bytes that a chunk of {@code count} elements of {@code tensor} needs: every input, alignment padding
   * included; room for each input's drawn keep bits ({@link KeepMask}) where the tensor is thinned at random; and
   * the segment values of a {@link TensorRule} ({@link RuleStatistics#valueRange}).
   */
  static long stagingBytes(PlannedTensor tensor, long count) {
    boolean keepBits = tensor.sparsification() != null && tensor.sparsification().kind().random();
    long total = 0;
    for (TensorInfo input : tensor.inputs()) {
      total += alignUp(count * input.dtype().byteSize()) + (keepBits ? alignUp(KeepMask.wordBytes(count)) : 0);
    }
    return total + alignUp(RuleStatistics.maxValueBytes(tensor, count));
  }

  private static long alignUp(long bytes) {
    return (bytes + REGION_ALIGNMENT - 1) / REGION_ALIGNMENT * REGION_ALIGNMENT;
  }

  /** Where an upload put each input, each keep mask (0 for none) and the segment values (0 for none). */
  record Uploaded(long[] inputs, long[] keepBits, long segmentValues) {}

  /**
   * Copies elements {@code [start, start + count)} of every input from the mapped files into pinned staging
   * (the page faults of a cold read happen here), then the bits of each non-null keep mask, then the segment
   * values those elements read ({@code ruled} null for none), and enqueues one upload.
   */
  Uploaded upload(List<TensorInfo> inputs, List<ByteBuffer> mapped, KeepMask[] masks, RuleStatistics ruled,
      long start, long count) {
    long[] keepBits = new long[inputs.size()];
    ByteBuffer staging = hostInputs.buffer();
    long[] addresses = new long[inputs.size()];
    long offset = 0;
    for (int i = 0; i < inputs.size(); i++) {
      int elementBytes = inputs.get(i).dtype().byteSize();
      int length = Math.toIntExact(count * elementBytes);
      staging.put(Math.toIntExact(offset), mapped.get(i), Math.toIntExact(start * elementBytes), length);
      addresses[i] = deviceInputs.address() + offset;
      offset += alignUp(length);
    }
    for (int i = 0; i < inputs.size(); i++) {
      if (masks != null && masks[i] != null) {
        masks[i].copyBits(start, count, staging.duplicate().position(Math.toIntExact(offset)));
        keepBits[i] = deviceInputs.address() + offset;
        offset += alignUp(KeepMask.wordBytes(count));
      }
    }
    long segmentValues = 0;
    if (ruled != null && ruled.stride() > 0) {
      int[] range = ruled.valueRange(start, count);
      staging.asFloatBuffer().put(Math.toIntExact(offset / Float.BYTES), ruled.values(), range[0], range[1] - range[0]);
      segmentValues = deviceInputs.address() + offset;
      offset += alignUp((long) (range[1] - range[0]) * Float.BYTES);
    }
    stream.copyToDevice(deviceInputs.address(), hostInputs.at(0), offset);
    return new Uploaded(addresses, keepBits, segmentValues);
  }

  /**
   * Copies elements {@code [start, start + count)} of every input from the mapped files into pinned staging, and
   * enqueues their upload to {@code resident}, where the whole tensor's inputs lie.
   */
  void uploadTo(ResidentInputs resident, List<TensorInfo> inputs, List<ByteBuffer> mapped, long start, long count) {
    ByteBuffer staging = hostInputs.buffer();
    long offset = 0;
    long[] targets = resident.at(start);
    for (int i = 0; i < inputs.size(); i++) {
      int elementBytes = inputs.get(i).dtype().byteSize();
      int length = Math.toIntExact(count * elementBytes);
      staging.put(Math.toIntExact(offset), mapped.get(i), Math.toIntExact(start * elementBytes), length);
      stream.copyToDevice(targets[i], hostInputs.at(offset), length);
      offset += alignUp(length);
    }
  }

  /** The device output chunk; only slots allocated with output bytes have one. */
  long deviceOutputAddress() {
    if (deviceOutput == null) {
      throw new IllegalStateException("this staging slot has no device output chunk");
    }
    return deviceOutput.address();
  }

  /** Enqueues the download of the first {@code bytes} of the device output chunk into pinned host memory. */
  void download(long bytes) {
    stream.copyToHost(hostOutput.at(0), deviceOutputAddress(), bytes);
  }

  /** The downloaded chunk, once {@link #done} has completed: valid until the slot is reused. */
  ByteBuffer downloaded(long bytes) {
    return hostOutput.buffer().slice(0, Math.toIntExact(bytes)).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  @Override
  public void close() {
    RuntimeException failure = null;
    // Nothing may be freed while the stream could still be copying from or into it.
    for (AutoCloseable step : new AutoCloseable[] {stream::synchronize, done, hostInputs, deviceInputs,
        deviceOutput, hostOutput, stream}) {
      try {
        if (step != null) {
          step.close();
        }
      } catch (Exception e) {
        if (failure == null) {
          failure = e instanceof RuntimeException r ? r : new IllegalStateException(e);
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
