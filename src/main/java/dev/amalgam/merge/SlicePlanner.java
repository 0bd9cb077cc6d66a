package dev.amalgam.merge;

import dev.amalgam.UserError;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.config.ParameterValue;
import dev.amalgam.io.ModelDirectory;
import dev.amalgam.io.TensorInfo;
import dev.amalgam.tensor.DType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;

/**
 * Plans a {@code slices:} config, as mergekit's planner does: each slice merges layers {@code [start, end)} of its
 * sources, layer by layer, into the next output layers; the embeddings come from the first slice's sources, and
 * the tensors after the layers (final norm, lm_head) from the last slice's. Gradients run over the layers of each
 * slice ({@code t = idx / (n − 1)}, and 1 for a slice of one layer); the tensors outside the layers take t = 0.
 * The output's config.json gets the new layer count, and its per-layer lists follow the layers they came from.
 */
final class SlicePlanner {
  private SlicePlanner() {}

  static MergePlan plan(MergeConfig config, MergeMethod method, boolean baseApart, long seed, boolean seedDrawn,
      Arithmetic arithmetic) {
    if (config.tokenizer().isPresent()) {
      throw new UserError("tokenizer_source (or tokenizer) with slices is not supported yet; use `models`");
    }
    Map<Path, ModelDirectory> opened = new LinkedHashMap<>();
    try {
      List<List<MergeConfig.SliceSource>> ordered = new ArrayList<>();
      for (int k = 0; k < config.slices().size(); k++) {
        List<MergeConfig.SliceSource> sources = ordered(config, method, baseApart, k);
        for (MergeConfig.SliceSource source : sources) {
          ModelDirectory model = opened.computeIfAbsent(source.entry().model().path(), ModelDirectory::open);
          int layers = model.config().numLayersIfKnown().orElse(0);
          if (source.end() > layers) {
            throw new UserError("slices[" + k + "]: " + source.entry().model().written() + " has " + layers
                + " layers, so its layer_range [" + source.start() + ", " + source.end() + "] runs past them");
          }
        }
        ordered.add(sources);
      }
      ModelDirectory template = opened.computeIfAbsent(config.templateModel().path(), ModelDirectory::open);
      ModelDirectory first = opened.get(ordered.get(0).get(0).entry().model().path());
      DType outDType = MergePlanner.outDType(config, method, first);
      List<PlannedTensor> before = new ArrayList<>();
      List<PlannedTensor> layers = new ArrayList<>();
      List<PlannedTensor> after = new ArrayList<>();
      for (TensorInfo tensor : first.tensors()) {
        if (!MergePlanner.LAYER.matcher(tensor.name()).find()) {
          // Embeddings come before the layers, from the first slice; the rest after them, from the last.
          boolean embedding = tensor.name().contains("embed");
          int k = embedding ? 0 : ordered.size() - 1;
          (embedding ? before : after).add(planTensor(config, method, baseApart, opened, ordered.get(k), k,
              tensor.name(), -1, -1, 0, outDType, seed));
        }
      }
      List<Integer> sourceLayers = new ArrayList<>();
      for (int k = 0; k < ordered.size(); k++) {
        List<MergeConfig.SliceSource> sources = ordered.get(k);
        MergeConfig.SliceSource lead = config.slices().get(k).sources().get(0);
        int count = config.slices().get(k).layers();
        for (int idx = 0; idx < count; idx++) {
          double t = count > 1 ? idx / (double) (count - 1) : 1;
          int output = sourceLayers.size();
          ModelDirectory leadModel = opened.get(lead.entry().model().path());
          for (TensorInfo tensor : leadModel.tensors()) {
            Matcher m = MergePlanner.LAYER.matcher(tensor.name());
            if (m.find() && Integer.parseInt(m.group(1)) == lead.start() + idx) {
              layers.add(planTensor(config, method, baseApart, opened, sources, k, tensor.name(), idx, output, t,
                  outDType, seed));
            }
          }
          sourceLayers.add(lead.start() + idx);
        }
      }
      List<PlannedTensor> tensors = new ArrayList<>(before);
      tensors.addAll(layers);
      tensors.addAll(after);
      return new MergePlan(config, method, List.copyOf(opened.values()), template,
          template.config().withLayers(sourceLayers), MergePlanner.rounded(tensors, config, method, arithmetic),
          outDType, seedDrawn, List.of(), null);
    } catch (RuntimeException e) {
      opened.values().forEach(ModelDirectory::close);
      throw e;
    }
  }

  /** Slice {@code k}'s sources in input order: the base first where the method sets it apart. */
  private static List<MergeConfig.SliceSource> ordered(MergeConfig config, MergeMethod method, boolean baseApart,
      int k) {
    List<MergeConfig.SliceSource> sources = config.slices().get(k).sources();
    if (!baseApart) {
      MergePlanner.checkModelCount(method, sources.size(), false);
      return sources;
    }
    Path base = config.baseModel().orElseThrow(() -> new UserError("merge_method " + method.name()
        + " needs a base model: set `base_model`, and list it among each slice's sources")).path();
    List<MergeConfig.SliceSource> ordered = new ArrayList<>();
    sources.stream().filter(s -> s.entry().model().path().equals(base)).findFirst().ifPresentOrElse(ordered::add,
        () -> {
          throw new UserError("slices[" + k + "] has no source for base_model " + config.baseModel().get().written()
              + "; with slices, the base must be one of each slice's sources, as in mergekit");
        });
    sources.stream().filter(s -> !s.entry().model().path().equals(base)).forEach(ordered::add);
    MergePlanner.checkModelCount(method, ordered.size() - 1, true);
    return ordered;
  }

  /**
   * Output tensor {@code name} (a layer tensor of slice {@code k}'s first source at its layer {@code idx}, renamed
   * to output layer {@code output}; or, with idx −1, a tensor outside the layers) from slice {@code k}'s sources.
   */
  private static PlannedTensor planTensor(MergeConfig config, MergeMethod method, boolean baseApart,
      Map<Path, ModelDirectory> opened, List<MergeConfig.SliceSource> sources, int k, String name, int idx,
      int output, double t, DType outDType, long seed) {
    List<MergePlanner.Source> inputs = new ArrayList<>();
    for (MergeConfig.SliceSource source : sources) {
      ModelDirectory model = opened.get(source.entry().model().path());
      String input = idx < 0 ? name : withLayer(name, source.start() + idx);
      TensorInfo tensor = model.tensor(input).orElseThrow(() -> new UserError("slices[" + k + "]: "
          + source.entry().model().written() + " has no tensor `" + input + "`"));
      inputs.add(new MergePlanner.Source(source.entry(), model, tensor));
    }
    Map<String, ParameterValue> sliceParameters = config.slices().get(k).parameters();
    return MergePlanner.planTensor(config, sliceParameters, method, baseApart, inputs,
        idx < 0 ? name : withLayer(name, output), t, outDType, seed);
  }

  /** {@code name} with its layer number replaced by {@code layer}. */
  private static String withLayer(String name, int layer) {
    Matcher m = MergePlanner.LAYER.matcher(name);
    if (!m.find()) {
      throw new IllegalArgumentException("not a layer tensor: " + name);
    }
    return name.substring(0, m.start(1)) + layer + name.substring(m.end(1));
  }
}
