package dev.amalgam.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.backend.SamplingParams;
import dev.amalgam.backend.cuda.CudaBackend;
import dev.amalgam.cuda.CudaContext;
import dev.amalgam.cuda.KernelCache;
import dev.amalgam.cuda.KernelCompiler;
import dev.amalgam.generate.BatchResult;
import dev.amalgam.generate.GenerationRequest;
import dev.amalgam.generate.GenerationSettings;
import dev.amalgam.generate.Generator;
import dev.amalgam.generate.TokenListener;
import dev.amalgam.generate.TokenText;
import dev.amalgam.io.ModelDirectory;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Generation with decode steps replayed as CUDA graphs against the same kernels launched one by one: the
 * same tokens for every request, greedy and sampled, in batches whose sequences finish at different steps
 * (so the row count changes and a refilled batch records new steps). Also prints decode tokens per second
 * both ways, as information only.
 */
@Tag("gpu")
class CudaGraphsGpuTest {

  private static CudaContext context;
  private static CudaBackend graphed;
  private static CudaBackend eager;

  @BeforeAll
  static void open() throws Exception {
    context = CudaContext.open(0);
    KernelCompiler compiler = new KernelCompiler(new KernelCache(Files.createTempDirectory("amalgam-cubin")));
    graphed = CudaBackend.on(context, compiler, true);
    eager = CudaBackend.on(context, compiler, false);
  }

  @AfterAll
  static void close() {
    if (graphed != null) {
      graphed.close();
    }
    if (eager != null) {
      eager.close();
    }
    if (context != null) {
      context.close();
    }
  }

  /**
   * Batch 3 refills as sequences finish and shrinks at the end; batch 12 takes every request at once, more rows
   * than the GEMV kernel takes, so its first steps run cuBLAS inside the graph.
   */
  @ParameterizedTest(name = "{0}, {1}, batch {2}")
  @CsvSource({"a, greedy, 3", "b, greedy, 12", "merged, sampled, 3", "a, sampled, 12", "b, penalized, 3"})
  void graphsGiveTheSameTokensAsKernelsLaunchedOneByOne(String name, String sampling, int batchSize) {
    SamplingParams params = switch (sampling) {
      case "greedy" -> SamplingParams.GREEDY;
      case "sampled" -> new SamplingParams(0.9f, 40, 0.95f, 0f, 1f);
      default -> new SamplingParams(0.8f, 0, 1f, 0.05f, 1.2f);
    };
    Golden golden = Golden.of(name);
    List<GenerationRequest> requests = new ArrayList<>();
    for (int budget : new int[] {24, 5, 13}) {
      for (int p = 0; p < Golden.PROMPTS; p++) {
        GenerationSettings settings = new GenerationSettings(budget + p, params, 1000L * budget + p, List.of(), 0);
        requests.add(new GenerationRequest(golden.ints("p" + p + ".ids"), settings, TokenText.NONE, TokenListener.NONE, null));
      }
    }
    BatchResult withGraphs = generate(graphed, name, requests, batchSize);
    BatchResult withoutGraphs = generate(eager, name, requests, batchSize);
    for (int i = 0; i < requests.size(); i++) {
      int[] expected = withoutGraphs.results().get(i).tokens();
      assertEquals(requests.get(i).settings().maxNewTokens(), expected.length, "request " + i + " ran its budget");
      assertArrayEquals(expected, withGraphs.results().get(i).tokens(), "request " + i);
    }
    System.out.printf("cuda graphs %s %s batch %d: decode %.0f tok/s with graphs, %.0f tok/s without (%d steps)%n",
        name, sampling, batchSize, withGraphs.decodeTokensPerSecond(), withoutGraphs.decodeTokensPerSecond(),
        withGraphs.decodeSteps());
  }

  private static BatchResult generate(CudaBackend backend, String name, List<GenerationRequest> requests,
      int batchSize) {
    try (ModelDirectory dir = ModelDirectory.open(Golden.modelDir(name));
        Transformer model = Transformer.load(backend, dir.config(), WeightSource.of(dir))) {
      // No EOS ids: every sequence runs its own budget, so they finish at the steps the budgets set.
      return new Generator(model, Set.of()).generateAll(requests, batchSize, (r, i) -> {});
    }
  }
}
