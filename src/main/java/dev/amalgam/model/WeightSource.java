package dev.amalgam.model;

import dev.amalgam.io.ModelDirectory;
import dev.amalgam.tensor.HostTensor;
import java.util.Map;
import java.util.Optional;

/**
 * Where a model's tensors come from, by Hugging Face name ({@code model.layers.0.self_attn.q_proj.weight}):
 * a checkpoint folder on disk, or a merge result held in memory.
 */
public interface WeightSource {

  /** The tensor, or empty if the source has none by that name. Its bytes stay valid while the source is open. */
  Optional<HostTensor> find(String name);

  /** Where the weights come from, for error messages. */
  String description();

  /** The tensors of a safetensors checkpoint, memory-mapped on demand. */
  static WeightSource of(ModelDirectory dir) {
    return new WeightSource() {
      @Override
      public Optional<HostTensor> find(String name) {
        return dir.tensor(name).map(info -> new HostTensor(name, info.dtype(), info.shape(), dir.map(info)));
      }

      @Override
      public String description() {
        return dir.dir().toString();
      }
    };
  }

  /** Tensors already in memory, such as a merge result. */
  static WeightSource of(Map<String, HostTensor> tensors, String description) {
    return new WeightSource() {
      @Override
      public Optional<HostTensor> find(String name) {
        return Optional.ofNullable(tensors.get(name));
      }

      @Override
      public String description() {
        return description;
      }
    };
  }
}
