package dev.amalgam.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.testing.LittleEndian;
import dev.amalgam.testing.Toolchain;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link KernelLauncher} that runs each launch on the CPU, so CI executes every kernel without a GPU: the
 * typed launchers send it the same signature, grid and arguments a GPU gets, and it hands them to that .cu
 * file's emulator ({@code native/emulation}, built by Maven into {@code target/kernel-emulators}), one process
 * per launch. Device memory is Java byte arrays at made-up addresses, {@code (buffer + 1) << 40} plus an
 * offset, which the emulator relocates into its own buffers; a pointer into no buffer fails the launch, and
 * so does a write past either end of one. See {@code cuda_shim.h} for what the emulation does not cover.
 */
public final class EmulatedGpu implements KernelLauncher {
  /** The bytes {@link #poisoned} buffers start as: NaN in f32, f16 and bf16, so an element never written shows. */
  public static final byte POISON = (byte) 0xFF;
  private static final int OFFSET_BITS = 40;
  private static final long OFFSET_MASK = (1L << OFFSET_BITS) - 1;

  private final Path emulators;
  private final Path workDir;
  private final int multiprocessors;
  private final List<byte[]> memory = new ArrayList<>();

  private EmulatedGpu(Path emulators, Path workDir, int multiprocessors) {
    this.emulators = emulators;
    this.workDir = workDir;
    this.multiprocessors = multiprocessors;
  }

  /**
   * An emulated GPU of {@code multiprocessors}, with its launch files in {@code workDir}. Skips the calling test
   * where the emulators were not built (no g++), unless {@link Toolchain} says CI requires them.
   */
  public static EmulatedGpu open(Path workDir, int multiprocessors) {
    Path emulators = Path.of(System.getProperty("amalgam.kernelEmulators", "target/kernel-emulators"));
    Toolchain.require(Files.isDirectory(emulators), "the kernel emulators (native/emulation/build.sh needs g++)");
    return new EmulatedGpu(emulators, workDir, multiprocessors);
  }

  @Override
  public int multiprocessors() {
    return multiprocessors;
  }

  /** A new buffer holding {@code bytes}; returns its device address. */
  public long upload(byte[] bytes) {
    memory.add(bytes.clone());
    return (long) memory.size() << OFFSET_BITS;
  }

  public long upload(float... values) {
    return upload(LittleEndian.bytes(values));
  }

  public long upload(short... values) {
    return upload(LittleEndian.bytes(values));
  }

  public long upload(int... values) {
    return upload(LittleEndian.bytes(values));
  }

  public long upload(double... values) {
    return upload(LittleEndian.bytes(values));
  }

  /** A new buffer of {@code size} bytes, all {@link #POISON}. */
  public long poisoned(long size) {
    byte[] bytes = new byte[Math.toIntExact(size)];
    Arrays.fill(bytes, POISON);
    return upload(bytes);
  }

  /** Sets {@code length} bytes from {@code address} to {@code value}, as cuMemsetD8 does. */
  public void fill(long address, int length, byte value) {
    byte[] buffer = buffer(address);
    int offset = (int) (address & OFFSET_MASK);
    if (offset + length > buffer.length) {
      throw new IllegalArgumentException(length + " bytes at offset " + offset + " overrun a buffer of "
          + buffer.length);
    }
    Arrays.fill(buffer, offset, offset + length, value);
  }

  /** {@code length} bytes from {@code address}. */
  public byte[] bytes(long address, int length) {
    byte[] buffer = buffer(address);
    int offset = (int) (address & OFFSET_MASK);
    if (offset + length > buffer.length) {
      throw new IllegalArgumentException(length + " bytes at offset " + offset + " overrun a buffer of "
          + buffer.length);
    }
    return Arrays.copyOfRange(buffer, offset, offset + length);
  }

  /** The whole buffer that {@code address} starts. */
  public byte[] bytes(long address) {
    return bytes(address, buffer(address).length - (int) (address & OFFSET_MASK));
  }

  public float[] floats(long address, int count) {
    float[] values = new float[count];
    LittleEndian.wrap(bytes(address, 4 * count)).asFloatBuffer().get(values);
    return values;
  }

  public short[] shorts(long address, int count) {
    short[] values = new short[count];
    LittleEndian.wrap(bytes(address, 2 * count)).asShortBuffer().get(values);
    return values;
  }

  public int[] ints(long address, int count) {
    int[] values = new int[count];
    LittleEndian.wrap(bytes(address, 4 * count)).asIntBuffer().get(values);
    return values;
  }

  private byte[] buffer(long address) {
    int index = (int) (address >>> OFFSET_BITS) - 1;
    if (index < 0 || index >= memory.size() || (address & OFFSET_MASK) > memory.get(index).length) {
      throw new IllegalArgumentException("0x" + Long.toHexString(address) + " is in no emulated buffer");
    }
    return memory.get(index);
  }

  /**
   * Runs {@code kernel} to completion, as a launch followed by a synchronization would, and keeps what it wrote
   * in the buffers its pointers reach.
   */
  @Override
  public void launch(KernelSignature kernel, LaunchGrid grid, Object... args) {
    kernel.check(args);
    Map<Integer, Integer> sent = new LinkedHashMap<>();  // buffer -> its index in the launch file
    List<byte[]> params = new ArrayList<>();
    List<int[]> relocations = new ArrayList<>();  // parameter, byte offset, launch-file buffer
    for (int i = 0; i < args.length; i++) {
      byte[] param = switch (kernel.params().get(i).kind()) {
        case POINTER, LONG -> LittleEndian.allocate(8).putLong((Long) args[i]).array();
        case INT -> LittleEndian.allocate(4).putInt((Integer) args[i]).array();
        case FLOAT -> LittleEndian.allocate(4).putFloat((Float) args[i]).array();
        case STRUCT -> ((KernelStruct) args[i]).bytes().clone();
      };
      int[] pointerOffsets = switch (kernel.params().get(i).kind()) {
        case POINTER -> new int[] {0};
        case STRUCT -> ((KernelStruct) args[i]).pointerOffsets();
        default -> new int[0];
      };
      ByteBuffer view = LittleEndian.wrap(param);
      for (int offset : pointerOffsets) {
        long address = view.getLong(offset);
        if (address != 0) {  // a null pointer stays null
          buffer(address);
          int index = sent.computeIfAbsent((int) (address >>> OFFSET_BITS) - 1, b -> sent.size());
          view.putLong(offset, address & OFFSET_MASK);
          relocations.add(new int[] {i, offset, index});
        }
      }
      params.add(param);
    }
    List<Integer> buffers = List.copyOf(sent.keySet());
    ByteBuffer result = run(kernel, grid, buffers, params, relocations);
    for (int b : buffers) {
      result.get(memory.get(b));
    }
  }

  private ByteBuffer run(KernelSignature kernel, LaunchGrid grid, List<Integer> buffers, List<byte[]> params,
      List<int[]> relocations) {
    ByteArrayOutputStream file = new ByteArrayOutputStream();
    byte[] name = kernel.name().getBytes(StandardCharsets.US_ASCII);
    file.writeBytes(LittleEndian.allocate(4).putInt(name.length).array());
    file.writeBytes(name);
    file.writeBytes(LittleEndian.allocate(16).putInt(grid.x()).putInt(grid.y()).putInt(grid.z())
        .putInt(grid.threads()).array());
    file.writeBytes(LittleEndian.allocate(4).putInt(buffers.size()).array());
    for (int b : buffers) {
      file.writeBytes(LittleEndian.allocate(8).putLong(memory.get(b).length).array());
      file.writeBytes(memory.get(b));
    }
    file.writeBytes(LittleEndian.allocate(4).putInt(params.size()).array());
    for (byte[] p : params) {
      file.writeBytes(LittleEndian.allocate(4).putInt(p.length).array());
      file.writeBytes(p);
    }
    file.writeBytes(LittleEndian.allocate(4).putInt(relocations.size()).array());
    for (int[] r : relocations) {
      file.writeBytes(LittleEndian.allocate(12).putInt(r[0]).putInt(r[1]).putInt(r[2]).array());
    }
    Path executable = emulators.resolve(kernel.file().replace(".cu", ""));
    Toolchain.require(Files.isExecutable(executable), "the kernel emulator " + executable);
    try {
      Path in = Files.createTempFile(workDir, kernel.name(), ".launch");
      Path out = Files.createTempFile(workDir, kernel.name(), ".out");
      try {
        Files.write(in, file.toByteArray());
        Process process = new ProcessBuilder(executable.toString(), in.toString(), out.toString())
            .redirectErrorStream(true).start();
        String log = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, process.waitFor(), kernel.name() + " failed in the emulator:\n" + log);
        return ByteBuffer.wrap(Files.readAllBytes(out));
      } finally {
        Files.delete(in);
        Files.delete(out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
