package dev.amalgam.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.cuda.CudaContext;
import dev.amalgam.cuda.CudaEvent;
import dev.amalgam.cuda.CudaStream;
import dev.amalgam.cuda.DeviceBuffer;
import dev.amalgam.cuda.KernelCache;
import dev.amalgam.cuda.KernelCompiler;
import dev.amalgam.cuda.KernelLauncher;
import dev.amalgam.merge.MergeKernel;
import dev.amalgam.merge.MergeKernelArgs;
import dev.amalgam.tensor.DType;

/**
 * The merge kernel alone (two bf16 inputs, one bf16 output, already on the device) against a device-to-device
 * copy on the same GPU in the same run: the copy is the bandwidth a memory-bound kernel can hope for.
 */
public final class MergeKernelBenchmark {
  private static final int REPEATS = 20;

  private MergeKernelBenchmark() {}

  public static ObjectNode run(CudaContext context, long elements) {
    context.makeCurrent();
    long bytes = elements * DType.BF16.byteSize();
    try (MergeKernel kernel = MergeKernel.load(context, new KernelCompiler(KernelCache.fromEnvironment()));
        CudaStream stream = CudaStream.create();
        DeviceBuffer a = DeviceBuffer.allocate(bytes);
        DeviceBuffer b = DeviceBuffer.allocate(bytes);
        DeviceBuffer out = DeviceBuffer.allocate(bytes);
        CudaEvent start = CudaEvent.create(true);
        CudaEvent end = CudaEvent.create(true)) {
      a.fill((byte) 0x3f);
      b.fill((byte) 0x3e);
      MergeKernelArgs args = new MergeKernelArgs(new long[] {a.address(), b.address()},
          new DType[] {DType.BF16, DType.BF16}, new float[] {0.3f, 0.7f}, 1f, true, out.address(), DType.BF16,
          elements);
      KernelLauncher launcher = kernel.on(stream);
      double kernelSeconds = time(stream, start, end, () -> MergeKernel.weightedSum(launcher, args));
      double copySeconds = time(stream, start, end, () -> stream.copyOnDevice(out.address(), a.address(), bytes));
      double kernelBandwidth = 3.0 * bytes / kernelSeconds; // two reads, one write
      double copyBandwidth = 2.0 * bytes / copySeconds; // one read, one write
      ObjectNode node = new ObjectMapper().createObjectNode();
      node.put("elements", elements).put("kernel_us", kernelSeconds * 1e6).put("kernel_tb_per_s", kernelBandwidth / 1e12)
          .put("copy_us", copySeconds * 1e6).put("copy_tb_per_s", copyBandwidth / 1e12)
          .put("kernel_to_copy_bandwidth", kernelBandwidth / copyBandwidth);
      return node;
    }
  }

  /** Mean seconds per call over {@link #REPEATS} calls, after one warm-up call. */
  private static double time(CudaStream stream, CudaEvent start, CudaEvent end, Runnable work) {
    work.run();
    start.record(stream);
    for (int i = 0; i < REPEATS; i++) {
      work.run();
    }
    end.record(stream);
    end.synchronize();
    return end.millisecondsSince(start) / 1e3 / REPEATS;
  }
}
