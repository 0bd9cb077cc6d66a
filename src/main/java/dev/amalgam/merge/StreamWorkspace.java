package dev.amalgam.merge;

import dev.amalgam.cuda.CudaStream;
import dev.amalgam.cuda.DeviceScratch;
import dev.amalgam.cuda.PinnedBuffer;
import dev.amalgam.cuda.PinnedScratch;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * {@link DeviceStatistics}' results on a real GPU: one device scratch region, zeroed on the statistics stream, and
 * read back through pinned memory once the stream has caught up.
 */
final class StreamWorkspace implements DeviceStatistics.Workspace, AutoCloseable {
  private final CudaStream stream;
  private final DeviceScratch device;
  private final PinnedScratch host = new PinnedScratch();

  StreamWorkspace(CudaStream stream) {
    this.stream = stream;
    this.device = new DeviceScratch(stream);
  }

  @Override
  public long zeroed(long bytes) {
    long address = device.atLeast(bytes);
    stream.zero(address, bytes);
    return address;
  }

  @Override
  public void zero(long address, long bytes) {
    stream.zero(address, bytes);
  }

  @Override
  public ByteBuffer read(long address, long bytes) {
    PinnedBuffer pinned = host.atLeast(bytes);
    stream.copyToHost(pinned.at(0), address, bytes);
    stream.synchronize();
    ByteBuffer copy = ByteBuffer.allocate(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
    copy.put(pinned.buffer().slice(0, Math.toIntExact(bytes)));
    return copy.flip();
  }

  @Override
  public void close() {
    device.close();
    host.close();
  }
}
