package dev.amalgam.backend.cuda.emulated;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code cuda-kernels/*.cu} file compiled unchanged for the CPU with g++ against {@code src/test/cpp/cuda_shim.h},
 * whose kernels it runs through {@code src/test/cpp/kernel_driver.cpp}, one process per launch. This executes the
 * real kernel source in CI, which has no GPU; see the shim's header for what the emulation does not cover.
 */
public final class KernelEmulator {
  private static final Pattern KERNEL = Pattern.compile("extern \"C\" __global__ void (\\w+)\\(");
  /** The bytes every output buffer starts as: a NaN in f32, f16 and bf16 alike, so an element never written shows. */
  public static final byte POISON = (byte) 0xFF;

  private final Path executable;
  private final Path workDir;

  private KernelEmulator(Path executable, Path workDir) {
    this.executable = executable;
    this.workDir = workDir;
  }

  /** Compiles {@code cuda-kernels/<file>} into {@code workDir}; skips the calling tests where g++ is missing. */
  public static KernelEmulator compile(String file, Path workDir) throws IOException, InterruptedException {
    assumeTrue(onPath("g++"), "g++ is not on PATH");
    Path source = Path.of("cuda-kernels", file).toAbsolutePath();
    StringBuilder kernels = new StringBuilder();
    Matcher m = KERNEL.matcher(Files.readString(source));
    while (m.find()) {
      kernels.append("X(").append(m.group(1)).append(") ");
    }
    Path executable = workDir.resolve(file.replace(".cu", ""));
    Path cpp = Path.of("src", "test", "cpp").toAbsolutePath();
    Process process = new ProcessBuilder("g++", "-std=c++20", "-O1", "-ffp-contract=off", "-pthread",
        "-include", cpp.resolve("cuda_shim.h").toString(), "-DKERNEL_SOURCE=\"" + source + "\"",
        "-DKERNELS=" + kernels, cpp.resolve("kernel_driver.cpp").toString(), "-o", executable.toString())
        .redirectErrorStream(true).start();
    String log = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, process.waitFor(), "g++ failed on " + file + ":\n" + log);
    return new KernelEmulator(executable, workDir);
  }

  private static boolean onPath(String program) {
    return Arrays.stream(System.getenv().getOrDefault("PATH", "").split(":"))
        .anyMatch(dir -> !dir.isEmpty() && Files.isExecutable(Path.of(dir, program)));
  }

  /** A launch of {@code kernel} over grid (x, y, z) with blocks of {@code threads} threads, as cuLaunchKernel. */
  public Launch launch(String kernel, int gridX, int gridY, int gridZ, int threads) {
    return new Launch(kernel, new int[] {gridX, gridY, gridZ, threads});
  }

  /** Buffers (stand-ins for device allocations) and the parameter list, added in the kernel's order. */
  public final class Launch {
    private final String kernel;
    private final int[] shape;
    private final List<byte[]> buffers = new ArrayList<>();
    private final List<byte[]> params = new ArrayList<>();
    private final List<int[]> relocations = new ArrayList<>();  // parameter, byte offset, buffer

    private Launch(String kernel, int[] shape) {
      this.kernel = kernel;
      this.shape = shape;
    }

    /** A buffer holding {@code bytes}; returns its index for {@link #pointer} and {@link Result}. */
    public int buffer(byte[] bytes) {
      buffers.add(bytes.clone());
      return buffers.size() - 1;
    }

    /** An output buffer of {@code size} bytes, all {@link #POISON}. */
    public int poisoned(int size) {
      byte[] bytes = new byte[size];
      Arrays.fill(bytes, POISON);
      return buffer(bytes);
    }

    public Launch pointer(int buffer) {
      return pointer(buffer, 0);
    }

    /** A pointer {@code byteOffset} bytes into {@code buffer} (whose start is 256-byte aligned, as cudaMalloc's). */
    public Launch pointer(int buffer, long byteOffset) {
      relocations.add(new int[] {params.size(), 0, buffer});
      return i64(byteOffset);
    }

    public Launch nullPointer() {
      return i64(0);
    }

    public Launch i32(int value) {
      return param(le(4).putInt(value));
    }

    public Launch i64(long value) {
      return param(le(8).putLong(value));
    }

    public Launch f32(float value) {
      return param(le(4).putFloat(value));
    }

    /**
     * A struct passed by value; at each of {@code pointerOffsets} it holds a byte offset into the buffer at the
     * same index of {@code pointerBuffers}, which the driver turns into an address.
     */
    public Launch struct(byte[] bytes, int[] pointerOffsets, int[] pointerBuffers) {
      for (int i = 0; i < pointerOffsets.length; i++) {
        relocations.add(new int[] {params.size(), pointerOffsets[i], pointerBuffers[i]});
      }
      params.add(bytes.clone());
      return this;
    }

    private Launch param(ByteBuffer value) {
      params.add(value.array());
      return this;
    }

    /** Runs the kernel; fails the test if the driver does, e.g. on a write past either end of a buffer. */
    public Result run() throws IOException, InterruptedException {
      ByteArrayOutputStream file = new ByteArrayOutputStream();
      byte[] name = kernel.getBytes(StandardCharsets.US_ASCII);
      file.writeBytes(le(4).putInt(name.length).array());
      file.writeBytes(name);
      for (int value : shape) {
        file.writeBytes(le(4).putInt(value).array());
      }
      file.writeBytes(le(4).putInt(buffers.size()).array());
      for (byte[] b : buffers) {
        file.writeBytes(le(8).putLong(b.length).array());
        file.writeBytes(b);
      }
      file.writeBytes(le(4).putInt(params.size()).array());
      for (byte[] p : params) {
        file.writeBytes(le(4).putInt(p.length).array());
        file.writeBytes(p);
      }
      file.writeBytes(le(4).putInt(relocations.size()).array());
      for (int[] r : relocations) {
        file.writeBytes(le(12).putInt(r[0]).putInt(r[1]).putInt(r[2]).array());
      }
      Path in = Files.createTempFile(workDir, kernel, ".launch");
      Path out = Files.createTempFile(workDir, kernel, ".out");
      Files.write(in, file.toByteArray());
      Process process = new ProcessBuilder(executable.toString(), in.toString(), out.toString())
          .redirectErrorStream(true).start();
      String log = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(0, process.waitFor(), kernel + " failed in the emulator:\n" + log);
      ByteBuffer all = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
      Files.delete(in);
      Files.delete(out);
      List<ByteBuffer> results = new ArrayList<>();
      for (byte[] b : buffers) {
        results.add(all.slice(all.position(), b.length).order(ByteOrder.LITTLE_ENDIAN));
        all.position(all.position() + b.length);
      }
      return new Result(results);
    }
  }

  /** Every buffer's bytes after the run, little-endian, by the index {@link Launch#buffer} returned. */
  public record Result(List<ByteBuffer> buffers) {
    public byte[] bytes(int buffer) {
      ByteBuffer b = buffers.get(buffer).duplicate();
      byte[] bytes = new byte[b.remaining()];
      b.get(bytes);
      return bytes;
    }

    public float[] floats(int buffer) {
      float[] values = new float[buffers.get(buffer).remaining() / 4];
      buffers.get(buffer).asFloatBuffer().get(values);
      return values;
    }

    public short[] shorts(int buffer) {
      short[] values = new short[buffers.get(buffer).remaining() / 2];
      buffers.get(buffer).asShortBuffer().get(values);
      return values;
    }

    public int[] ints(int buffer) {
      int[] values = new int[buffers.get(buffer).remaining() / 4];
      buffers.get(buffer).asIntBuffer().get(values);
      return values;
    }
  }

  private static ByteBuffer le(int size) {
    return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
  }

  public static byte[] bytes(float... values) {
    ByteBuffer b = le(4 * values.length);
    b.asFloatBuffer().put(values);
    return b.array();
  }

  public static byte[] bytes(short... values) {
    ByteBuffer b = le(2 * values.length);
    b.asShortBuffer().put(values);
    return b.array();
  }

  public static byte[] bytes(int... values) {
    ByteBuffer b = le(4 * values.length);
    b.asIntBuffer().put(values);
    return b.array();
  }

  public static byte[] bytes(double... values) {
    ByteBuffer b = le(8 * values.length);
    b.asDoubleBuffer().put(values);
    return b.array();
  }

  /** ||actual - expected|| / ||expected||; infinite if any actual element is NaN (an unwritten poisoned one). */
  /** {@code n} normal samples times {@code scale}: fresh random inputs for a kernel. */
  public static float[] gaussians(Random random, int n, float scale) {
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = (float) random.nextGaussian() * scale;
    }
    return values;
  }

  public static double relativeL2(float[] actual, double[] expected) {
    assertEquals(expected.length, actual.length, "length");
    double error = 0;
    double norm = 0;
    for (int i = 0; i < actual.length; i++) {
      if (Float.isNaN(actual[i])) {
        return Double.POSITIVE_INFINITY;
      }
      error += (actual[i] - expected[i]) * (actual[i] - expected[i]);
      norm += expected[i] * expected[i];
    }
    return Math.sqrt(error / norm);
  }
}
