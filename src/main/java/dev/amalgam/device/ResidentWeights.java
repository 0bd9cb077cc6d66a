package dev.amalgam.device;

import dev.amalgam.backend.Backend;
import dev.amalgam.backend.Tensor;
import dev.amalgam.backend.cuda.CudaBackend;
import dev.amalgam.cuda.DeviceTensor;
import dev.amalgam.model.WeightSource;
import dev.amalgam.tensor.DType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A merge result that is already in GPU memory ({@code CudaMergeEngine.mergeToDevice}), offered to a model
 * as its weights: the {@link CudaBackend} of the same {@link CudaDevice} takes each tensor over where it lies, so merge
 * and generation need no device-to-host round trip. Tensors no model took are freed by {@link #close}.
 */
final class ResidentWeights implements WeightSource, AutoCloseable {
  private final Map<String, DeviceTensor> tensors;
  private final CudaBackend owner;
  private final String description;

  /** Takes ownership of {@code tensors}, which {@code owner} shares a context with. */
  ResidentWeights(Map<String, DeviceTensor> tensors, CudaBackend owner, String description) {
    this.tensors = new LinkedHashMap<>(tensors);
    this.owner = owner;
    this.description = description;
  }

  @Override
  public Optional<Weight> find(String name) {
    DeviceTensor tensor = tensors.get(name);
    if (tensor == null) {
      return Optional.empty();
    }
    return Optional.of(new Weight() {
      @Override
      public DType dtype() {
        return tensor.dtype();
      }

      @Override
      public long[] shape() {
        return tensor.shape().clone();
      }

      @Override
      public Tensor placeOn(Backend backend) {
        if (backend != owner) {
          throw new IllegalArgumentException("GPU-resident weights go to the backend of their own device, not "
              + backend.device());
        }
        synchronized (ResidentWeights.this) {
          if (tensors.remove(name) == null) {
            throw new IllegalStateException("tensor `" + name + "` was already taken over");
          }
        }
        return owner.adopt(tensor);
      }
    });
  }

  @Override
  public synchronized Set<String> names() {
    return Set.copyOf(tensors.keySet());
  }

  @Override
  public String description() {
    return description;
  }

  @Override
  public synchronized void close() {
    tensors.values().forEach(DeviceTensor::close);
    tensors.clear();
  }
}
