package dev.amalgam.model;

import dev.amalgam.backend.Backend;
import dev.amalgam.backend.Tensor;
import dev.amalgam.io.ModelDirectory;
import dev.amalgam.io.TensorInfo;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.HostTensor;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Where a model's tensors come from, by Hugging Face name ({@code model.layers.0.self_attn.q_proj.weight}):
 * a checkpoint folder on disk, a merge result held in host memory, or one already resident on the device
 * (see {@code dev.amalgam.device.ResidentWeights}).
 */
public interface WeightSource extends AutoCloseable {

  /**
   * One tensor as a source offers it: its dtype and shape, checked against the architecture before anything
   * is copied, and the way onto a backend.
   */
  interface Weight {
    DType dtype();

    long[] shape();

    /** The weight as a tensor of {@code backend}: copied from host memory, or taken over where it already is. */
    Tensor placeOn(Backend backend);
  }

  /** The tensor, or empty if the source has none by that name. It stays valid while the source is open. */
  Optional<Weight> find(String name);

  /** The names of every tensor the source holds, so a loader can tell what a config leaves unused. */
  Set<String> names();

  /** Where the weights come from, for error messages. */
  String description();

  /** Frees what the source holds that no model took over; nothing for host sources. */
  @Override
  default void close() {}

  /** A host tensor, uploaded by {@link Backend#upload}. */
  static Weight host(HostTensor tensor) {
    return new Weight() {
      @Override
      public DType dtype() {
        return tensor.dtype();
      }

      @Override
      public long[] shape() {
        return tensor.shape();
      }

      @Override
      public Tensor placeOn(Backend backend) {
        return backend.upload(tensor);
      }
    };
  }

  /** The tensors of a safetensors checkpoint, memory-mapped on demand. */
  static WeightSource of(ModelDirectory dir) {
    return new WeightSource() {
      @Override
      public Optional<Weight> find(String name) {
        return dir.tensor(name).map(info -> host(new HostTensor(name, info.dtype(), info.shape(), dir.map(info))));
      }

      @Override
      public Set<String> names() {
        return dir.tensors().stream().map(TensorInfo::name).collect(Collectors.toSet());
      }

      @Override
      public String description() {
        return dir.dir().toString();
      }
    };
  }

  /** Tensors already in host memory, such as a merge result. */
  static WeightSource of(Map<String, HostTensor> tensors, String description) {
    return new WeightSource() {
      @Override
      public Optional<Weight> find(String name) {
        return Optional.ofNullable(tensors.get(name)).map(WeightSource::host);
      }

      @Override
      public Set<String> names() {
        return tensors.keySet();
      }

      @Override
      public String description() {
        return description;
      }
    };
  }
}
