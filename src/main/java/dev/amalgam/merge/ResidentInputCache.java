package dev.amalgam.merge;

import dev.amalgam.cuda.DeviceBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Tensors' inputs kept in device memory across merges: a sweep's points read the same inputs with other
 * parameters, so each tensor's inputs are uploaded by the first merge that reads them and read from here by the
 * ones after. A tensor is kept only while that leaves {@code reserveBytes} of the device free (generation allocates
 * its caches later); the others stream through the staging slots as usual.
 */
public final class ResidentInputCache implements AutoCloseable {
  private final long reserveBytes;
  private final Map<String, ResidentInputs> kept = new HashMap<>();

  public ResidentInputCache(long reserveBytes) {
    this.reserveBytes = reserveBytes;
  }

  /** The inputs of {@code tensor} if an earlier merge kept them, else null. */
  ResidentInputs find(PlannedTensor tensor) {
    return kept.get(key(tensor));
  }

  /** Room for {@code tensor}'s inputs, or null where keeping them would leave less than the reserve free. */
  ResidentInputs room(PlannedTensor tensor) {
    if (DeviceBuffer.freeBytes() - ResidentInputs.bytes(tensor) < reserveBytes) {
      return null;
    }
    return ResidentInputs.allocate(tensor);
  }

  /** Keeps {@code inputs}, now uploaded whole, for the merges after this one; closed with the cache. */
  void keep(PlannedTensor tensor, ResidentInputs inputs) {
    kept.put(key(tensor), inputs);
  }

  /** The same files, places and dtypes: the same bytes, whatever the merge does with them. */
  private static String key(PlannedTensor tensor) {
    return tensor.inputs().stream().map(i -> i.file().toAbsolutePath() + "@" + i.fileOffset() + ":" + i.dtype())
        .collect(Collectors.joining("|"));
  }

  @Override
  public void close() {
    kept.values().forEach(ResidentInputs::close);
    kept.clear();
  }
}
