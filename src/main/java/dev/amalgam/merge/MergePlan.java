package dev.amalgam.merge;

import dev.amalgam.UserError;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.config.ModelConfig;
import dev.amalgam.io.ModelDirectory;
import dev.amalgam.io.OutputPaths;
import dev.amalgam.io.RecursiveDelete;
import dev.amalgam.io.TensorInfo;
import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything a merge will do, decided and validated before any tensor data is touched: the output tensors
 * with their inputs and weights, and the open input folders to read them from.
 */
public final class MergePlan implements MergeEngine.TensorSource, AutoCloseable {
  private final MergeConfig config;
  private final MergeMethod method;
  private final List<ModelDirectory> inputs;
  private final ModelDirectory templateModel;
  private final ModelConfig outputConfig;
  private final List<PlannedTensor> tensors;
  private final DType outDType;
  private final boolean seedDrawn;
  private final List<String> notes;
  /** The output's chat template where the config sets one ({@link ChatTemplateChoice}). */
  private final Optional<String> chatTemplate;
  /** The output vocabulary that tokenizer_source builds, or null. */
  private final VocabularyPlan vocabulary;
  /** The union's tokenizer files, made on first use in a temporary folder that closing the plan removes. */
  private Path unionTokenizerDir;
  private final Map<Path, ModelDirectory> byFile = new HashMap<>();

  MergePlan(MergeConfig config, MergeMethod method, List<ModelDirectory> inputs, ModelDirectory templateModel,
      ModelConfig outputConfig, List<PlannedTensor> tensors, DType outDType, boolean seedDrawn, List<String> notes,
      VocabularyPlan vocabulary) {
    this.chatTemplate = config.chatTemplate().map(value -> ChatTemplateChoice.resolve(value, inputs));
    this.config = config;
    this.method = method;
    this.inputs = inputs;
    this.templateModel = templateModel;
    this.outputConfig = outputConfig;
    this.tensors = tensors;
    this.outDType = outDType;
    this.seedDrawn = seedDrawn;
    this.notes = List.copyOf(notes);
    this.vocabulary = vocabulary;
    for (ModelDirectory dir : inputs) {
      dir.tensors().forEach(t -> byFile.put(t.file(), dir));
    }
  }

  public MergeConfig config() {
    return config;
  }

  public MergeMethod method() {
    return method;
  }

  /** Whether the config's random seed was drawn by the planner (the method is random and none was given). */
  public boolean seedDrawn() {
    return seedDrawn;
  }

  /** What the merge should tell its user before it starts (models' embedding rows cut to the common ones...). */
  public List<String> notes() {
    return notes;
  }

  public List<PlannedTensor> tensors() {
    return tensors;
  }

  public DType outDType() {
    return outDType;
  }

  /** The model whose config.json, tokenizer and chat template the output takes. */
  public ModelDirectory templateModel() {
    return templateModel;
  }

  /** The merged model's config.json: the template's, with the layer count of a frankenmerge. */
  public ModelConfig outputConfig() {
    return outputConfig;
  }

  /**
   * Refuses an output folder that is, or holds, the config or one of this merge's inputs: replacing it would
   * destroy what is read. An input may sit anywhere below it ({@code OUT_DIR} of {@code .} beside the models).
   */
  public void checkNotAnInput(Path output) {
    Path target = OutputPaths.check(output);
    List<Path> read = new ArrayList<>();
    inputs.forEach(dir -> read.add(dir.dir()));
    read.add(templateModel.dir());
    read.add(config.file());
    for (Path path : read) {
      Path input = path.toAbsolutePath().normalize();
      if (input.startsWith(target)) {
        String what = input.equals(config.file().toAbsolutePath().normalize()) ? "the merge config" : "input " + input;
        throw new UserError("output " + output + (input.equals(target) ? " is " : " holds ") + what
            + ", which replacing it would destroy; choose another folder");
      }
    }
  }

  /** Every input file the merge reads, once each. */
  public List<Path> inputFiles() {
    return tensors.stream().flatMap(t -> t.inputs().stream()).map(TensorInfo::file).filter(byFile::containsKey)
        .distinct().toList();
  }

  public long inputBytes() {
    return tensors.stream().mapToLong(PlannedTensor::inBytes).sum();
  }

  public long outputBytes() {
    return tensors.stream().mapToLong(PlannedTensor::outBytes).sum();
  }

  /**
   * Where the output's tokenizer files are: the tokenizer_source's model, else the template model; for a union, a
   * temporary folder with the source's files and the union's tokenizer.json, which lives as long as the plan.
   */
  public synchronized Path tokenizerDir() {
    if (vocabulary == null) {
      return templateModel.dir();
    }
    Optional<String> union = vocabulary.unionTokenizer();
    if (union.isEmpty()) {
      return vocabulary.tokenizerDir();
    }
    if (unionTokenizerDir == null) {
      unionTokenizerDir = MergedModelFiles.unionTokenizerFolder(vocabulary.tokenizerDir(), union.get());
    }
    return unionTokenizerDir;
  }

  /** The chat template the config gives the output, resolved; empty where the tokenizer's own stays. */
  public Optional<String> chatTemplate() {
    return chatTemplate;
  }

  @Override
  public ByteBuffer map(TensorInfo tensor) {
    ByteBuffer reindexed = vocabulary != null ? vocabulary.map(tensor) : null;
    return reindexed != null ? reindexed : byFile.get(tensor.file()).map(tensor);
  }

  @Override
  public synchronized void close() {
    if (unionTokenizerDir != null) {
      RecursiveDelete.quietly(unionTokenizerDir);
    }
    inputs.forEach(ModelDirectory::close);
    if (!inputs.contains(templateModel)) {
      templateModel.close();
    }
  }
}
