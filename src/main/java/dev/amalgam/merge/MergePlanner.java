package dev.amalgam.merge;

import dev.amalgam.UserError;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.config.ModelConfig;
import dev.amalgam.config.ParameterValue;
import dev.amalgam.config.Suggestions;
import dev.amalgam.io.ModelDirectory;
import dev.amalgam.io.TensorInfo;
import dev.amalgam.tensor.DType;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a validated config into a {@link MergePlan}. Every check that can fail does so here, before the
 * first byte of tensor data is read: missing folders, mismatched tensors, unknown parameters, bad weights.
 */
public final class MergePlanner {
  static final Pattern LAYER = Pattern.compile("(?:^|\\.)layers\\.(\\d+)\\.");

  private MergePlanner() {}

  public static MergePlan plan(MergeConfig config) {
    return plan(config, Arithmetic.EXACT);
  }

  /** The plan of {@code config}, rounding as {@code arithmetic} says. */
  public static MergePlan plan(MergeConfig config, Arithmetic arithmetic) {
    MergeMethod method = MergeMethods.named(config.mergeMethod());
    checkParameterNames(config, method);
    // A random method without a seed gets a drawn one, written into the config so the merge can be repeated.
    boolean seedDrawn = method.random() && config.randomSeed().isEmpty();
    if (seedDrawn) {
      config = config.withRandomSeed(new SecureRandom().nextLong(1L << 32));
    }
    long seed = config.randomSeed().orElse(0);
    boolean baseApart = method.baseRole() == MergeMethod.BaseRole.REQUIRED
        || method.baseRole() == MergeMethod.BaseRole.OPTIONAL && config.baseModel().isPresent();
    if (!config.slices().isEmpty()) {
      return SlicePlanner.plan(config, method, baseApart, seed, seedDrawn, arithmetic);
    }
    List<MergeConfig.ModelEntry> entries = baseApart ? baseFirstEntries(config, method) : inputEntries(config, method);
    checkModelCount(method, entries.size() - (baseApart ? 1 : 0), baseApart);
    List<ModelDirectory> inputs = new ArrayList<>();
    try {
      for (MergeConfig.ModelEntry entry : entries) {
        inputs.add(ModelDirectory.open(entry.model().path()));
      }
      ModelDirectory template = templateModel(config, entries, inputs);
      int layers = template.config().numLayersIfKnown().orElse(1);
      checkSameTensors(config, entries, inputs);
      List<String> notes = new ArrayList<>();
      MergeConfig seeded = config;
      IntFunction<String> label = i -> label(entries, seeded, i);
      VocabularyPlan vocabulary = config.tokenizer().map(spec -> VocabularyPlan.build(spec, inputs,
          baseIndex(seeded, entries), EmbeddingRows.rows(inputs), label)).orElse(null);
      Optional<Long> commonRows = vocabulary != null ? Optional.of((long) vocabulary.rows())
          : EmbeddingRows.common(inputs, label, notes);
      DType outDType = outDType(config, method, inputs.get(0));
      List<PlannedTensor> tensors = new ArrayList<>();
      for (TensorInfo first : inputs.get(0).tensors()) {
        tensors.add(planTensor(config, entries, method, baseApart, inputs, first, layers, outDType, seed, commonRows,
            vocabulary));
      }
      ModelConfig outputConfig = commonRows.map(rows -> template.config().withVocabSize(Math.toIntExact(rows)))
          .orElse(template.config());
      return new MergePlan(config, method, inputs, template, outputConfig,
          rounded(tensors, config, method, arithmetic), outDType, seedDrawn, notes, vocabulary);
    } catch (RuntimeException e) {
      inputs.forEach(ModelDirectory::close);
      throw e;
    }
  }

  /**
   * The models merged: those of {@code models}, then a {@code base_model} not listed there, which mergekit merges
   * in as one more input taking the top-level parameters (and fails on without a top-level weight).
   */
  private static List<MergeConfig.ModelEntry> inputEntries(MergeConfig config, MergeMethod method) {
    List<MergeConfig.ModelEntry> entries = new ArrayList<>(config.models());
    config.baseModel().ifPresent(base -> {
      boolean listed = config.models().stream().anyMatch(e -> e.model().path().equals(base.path()));
      if (!listed) {
        if (method.modelParameters().contains("weight") && !config.parameters().containsKey("weight")) {
          throw new UserError("base_model " + base.written() + " is not in `models`, so it is merged in with the "
              + "top-level parameters, but there is no top-level `weight`; add one, or list the base in `models`");
        }
        entries.add(new MergeConfig.ModelEntry(base, Map.of()));
      }
    });
    return entries;
  }

  /**
   * For a method that sets the base apart: the base first, then every model of {@code models} but the base (mergekit
   * leaves a listed base out of the sum).
   */
  private static List<MergeConfig.ModelEntry> baseFirstEntries(MergeConfig config, MergeMethod method) {
    MergeConfig.ModelRef base = config.baseModel().orElseThrow(() -> new UserError("merge_method " + method.name()
        + (method.taskVectors() ? " adds task vectors (each model minus the base) to a base model" : " needs a base model")
        + ": set `base_model`"));
    List<MergeConfig.ModelEntry> entries = new ArrayList<>();
    entries.add(new MergeConfig.ModelEntry(base, Map.of()));
    config.models().stream().filter(e -> !e.model().path().equals(base.path())).forEach(entries::add);
    return entries;
  }

  static void checkModelCount(MergeMethod method, int models, boolean baseApart) {
    if (models >= method.minModels() && models <= method.maxModels()) {
      return;
    }
    String expected = method.minModels() == method.maxModels() ? "exactly " + method.minModels()
        : models < method.minModels() ? "at least " + method.minModels() : "at most " + method.maxModels();
    throw new UserError("merge_method " + method.name() + " merges " + expected + " model"
        + (expected.endsWith(" 1") ? "" : "s") + (baseApart ? " besides the base_model" : "") + ", and the config has "
        + models);
  }

  /** The input whose tokenizer is the base of a built vocabulary: the base model's, else the first model's. */
  private static int baseIndex(MergeConfig config, List<MergeConfig.ModelEntry> entries) {
    for (int i = 0; config.baseModel().isPresent() && i < entries.size(); i++) {
      if (entries.get(i).model().path().equals(config.baseModel().get().path())) {
        return i;
      }
    }
    return 0;
  }

  /** How messages name input {@code i}: its place in {@code models}, or the base_model. */
  private static String label(List<MergeConfig.ModelEntry> entries, MergeConfig config, int i) {
    int listed = config.models().indexOf(entries.get(i));
    return (listed >= 0 ? "models[" + listed + "]" : "base_model") + " (" + entries.get(i).model().written() + ")";
  }

  private static ModelDirectory templateModel(MergeConfig config, List<MergeConfig.ModelEntry> entries,
      List<ModelDirectory> inputs) {
    MergeConfig.ModelRef ref = config.templateModel();
    for (int i = 0; i < inputs.size(); i++) {
      if (entries.get(i).model().path().equals(ref.path())) {
        return inputs.get(i);
      }
    }
    return ModelDirectory.open(ref.path());
  }

  /**
   * A tensor every input holds; an embedding matrix re-indexed to the output {@code vocabulary} (null for none),
   * or read over the common rows where the models' differ in rows only.
   */
  private static PlannedTensor planTensor(MergeConfig config, List<MergeConfig.ModelEntry> entries,
      MergeMethod method, boolean baseApart, List<ModelDirectory> inputs, TensorInfo first, int layers,
      DType outDType, long seed, Optional<Long> commonRows, VocabularyPlan vocabulary) {
    List<TensorInfo> tensors = new ArrayList<>();
    for (ModelDirectory input : inputs) {
      tensors.add(input.tensor(first.name()).orElseThrow());
    }
    if (commonRows.isPresent() && EmbeddingRows.isEmbedding(first.name()) && first.shape().length == 2) {
      tensors = vocabulary != null ? vocabulary.reindex(tensors, inputs)
          : tensors.stream().map(t -> EmbeddingRows.firstRows(t, commonRows.get())).toList();
    }
    List<Source> sources = new ArrayList<>();
    for (int i = 0; i < inputs.size(); i++) {
      sources.add(new Source(entries.get(i), inputs.get(i), tensors.get(i)));
    }
    return planTensor(config, Map.of(), method, baseApart, sources, first.name(),
        layerPosition(first.name(), layers), outDType, seed);
  }

  /**
   * {@code tensors} as {@code arithmetic} rounds them: mergekit's rounds each op to the tensor's work dtype, where
   * mergekit computes the method in it.
   */
  static List<PlannedTensor> rounded(List<PlannedTensor> tensors, MergeConfig config, MergeMethod method,
      Arithmetic arithmetic) {
    Arithmetic used = method.roundsInWorkDType() ? arithmetic : Arithmetic.EXACT;
    return tensors.stream().map(t -> t.withRounding(WorkRounding.workDType(used, config.dtype(),
        t.inputs().stream().map(TensorInfo::dtype).toList()))).toList();
  }

  /** One input of an output tensor: the model entry with its parameters, its folder, and the tensor read. */
  record Source(MergeConfig.ModelEntry entry, ModelDirectory model, TensorInfo tensor) {}

  /**
   * Plans output tensor {@code name} from {@code sources} (the base first where it is set apart), at position
   * {@code t} for gradients. As in mergekit, a model's parameters are evaluated with its input tensor's name and
   * the global ones with the output's; a model without a value takes the slice's ({@code sliceParameters}), then
   * the top-level one.
   */
  static PlannedTensor planTensor(MergeConfig config, Map<String, ParameterValue> sliceParameters,
      MergeMethod method, boolean baseApart, List<Source> sources, String name, double t, DType outDType,
      long seed) {
    List<TensorInfo> inputs = new ArrayList<>();
    List<MergeMethod.ParameterLookup> perModel = new ArrayList<>();
    int summedFrom = baseApart ? 1 : 0;  // a base set apart has no parameters of its own
    MergeMethod.ParameterLookup global = key -> {
      Object value = evaluate(sliceParameters.get(key), name, t);
      return value != null ? value : evaluate(config.parameters().get(key), name, t);
    };
    for (int i = 0; i < sources.size(); i++) {
      TensorInfo info = sources.get(i).tensor();
      if (!info.dtype().isMergeable()) {
        throw new UserError(sources.get(i).model().dir() + ": tensor `" + info.name() + "` is "
            + info.dtype().safetensorsName() + "; only BF16, F16 and F32 tensors can be merged");
      }
      if (!info.sameShape(sources.get(0).tensor())) {
        throw new UserError("tensor `" + name + "` merges `" + sources.get(0).tensor().name() + "` "
            + sources.get(0).tensor().shapeString() + " of " + sources.get(0).entry().model().written() + " with `"
            + info.name() + "` " + info.shapeString() + " of " + sources.get(i).entry().model().written()
            + "; they differ in shape");
      }
      inputs.add(info);
      if (i < summedFrom) {
        continue;
      }
      Map<String, ParameterValue> own = sources.get(i).entry().parameters();
      // A model's value, else (it has none, or none of its filters matches) the slice's or top-level one.
      perModel.add(key -> {
        Object value = evaluate(own.get(key), info.name(), t);
        if (value == null) {
          value = evaluate(sliceParameters.get(key), info.name(), t);
        }
        return value != null ? value : evaluate(config.parameters().get(key), info.name(), t);
      });
    }
    MergeMethod.Weights w = method.weights(name, perModel, global);
    float[] weights = new float[sources.size()];
    System.arraycopy(w.weights(), 0, weights, summedFrom, w.weights().length);
    Sparsification sparsification = w.sparsification() == null ? null : w.sparsification().withSeed(seed);
    // A method with an optional base works on task vectors when it has one.
    boolean taskVectors = method.taskVectors() || baseApart && method.baseRole() == MergeMethod.BaseRole.OPTIONAL;
    return new PlannedTensor(name, sources.get(0).tensor().shape(), inputs, weights, w.normalize(), outDType,
        taskVectors, w.lambda(), method.signConsensus(), sparsification, w.sce(), w.rule(), null);
  }

  static Object evaluate(ParameterValue value, String tensorName, double t) {
    return value == null ? null : value.evaluate(tensorName, t);
  }

  /**
   * Where a tensor sits in the layer stack, from 0 (first layer) to 1 (last), for gradients. Embeddings,
   * the final norm and lm_head are outside the layers and take the gradient's first value, as in mergekit.
   */
  static double layerPosition(String tensorName, int layers) {
    Matcher m = LAYER.matcher(tensorName);
    if (!m.find() || layers <= 1) {
      return 0;
    }
    return Math.min(1.0, Integer.parseInt(m.group(1)) / (double) (layers - 1));
  }

  private static void checkParameterNames(MergeConfig config, MergeMethod method) {
    Set<String> global = new TreeSet<>(method.modelParameters());
    global.addAll(method.globalParameters());
    for (String key : config.parameters().keySet()) {
      if (!global.contains(key)) {
        throw new UserError("unknown parameter `" + key + "` for merge_method " + method.name()
            + Suggestions.hint(key, global) + " (known: " + String.join(", ", global) + ")");
      }
    }
    for (int i = 0; i < config.models().size(); i++) {
      checkModelParameters(method, config.models().get(i), "models[" + i + "]");
    }
    for (int k = 0; k < config.slices().size(); k++) {
      MergeConfig.Slice slice = config.slices().get(k);
      for (String key : slice.parameters().keySet()) {
        if (!global.contains(key)) {
          throw new UserError("unknown parameter `" + key + "` in slices[" + k + "].parameters for merge_method "
              + method.name() + Suggestions.hint(key, global));
        }
      }
      for (int i = 0; i < slice.sources().size(); i++) {
        checkModelParameters(method, slice.sources().get(i).entry(), "slices[" + k + "].sources[" + i + "]");
      }
    }
  }

  private static void checkModelParameters(MergeMethod method, MergeConfig.ModelEntry entry, String where) {
    for (String key : entry.parameters().keySet()) {
      if (!method.modelParameters().contains(key)) {
        String global = method.globalParameters().contains(key) ? " (it is a top-level parameter)" : "";
        throw new UserError("unknown parameter `" + key + "` in " + where + ".parameters" + global
            + Suggestions.hint(key, method.modelParameters()));
      }
    }
  }

  private static void checkSameTensors(MergeConfig config, List<MergeConfig.ModelEntry> entries,
      List<ModelDirectory> inputs) {
    ModelDirectory first = inputs.get(0);
    Set<String> expected = new HashSet<>(first.tensorNames());
    for (int i = 1; i < inputs.size(); i++) {
      ModelDirectory other = inputs.get(i);
      Set<String> names = new HashSet<>(other.tensorNames());
      if (!names.equals(expected)) {
        String otherLabel = label(entries, config, i);
        throw new UserError(label(entries, config, 0) + " and " + otherLabel + " hold different tensors: "
            + difference(expected, names, "only in models[0]") + difference(names, expected, "only in " + otherLabel)
            + tiedHint(expected, names));
      }
      for (TensorInfo a : first.tensors()) {
        TensorInfo b = other.tensor(a.name()).orElseThrow();
        if (!a.sameShape(b) && !EmbeddingRows.differOnlyInRows(a, b)) {
          throw new UserError("tensor `" + a.name() + "` is " + a.shapeString() + " in models[0] but "
              + b.shapeString() + " in " + label(entries, config, i) + "; these models cannot be merged");
        }
      }
    }
  }

  private static String difference(Set<String> a, Set<String> b, String label) {
    TreeSet<String> only = new TreeSet<>(a);
    only.removeAll(b);
    if (only.isEmpty()) {
      return "";
    }
    List<String> shown = only.stream().limit(3).toList();
    return label + ": " + String.join(", ", shown) + (only.size() > 3 ? " and " + (only.size() - 3) + " more" : "") + "; ";
  }

  private static String tiedHint(Set<String> a, Set<String> b) {
    return a.contains("lm_head.weight") != b.contains("lm_head.weight")
        ? "one model ties lm_head to the embeddings and the other does not"
        : "";
  }

  /**
   * The output's dtype: out_dtype, else float32 for a method whose result is (arcee_fusion), else dtype, else the
   * first model's.
   */
  static DType outDType(MergeConfig config, MergeMethod method, ModelDirectory first) {
    if (method.outputsFloat32() && config.outDType().isEmpty()) {
      return DType.F32;
    }
    return config.outputDType().orElseGet(() -> first.tensors().iterator().next().dtype());
  }
}
